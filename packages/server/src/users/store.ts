import type { Member, Membership, Role, User } from '@syncdeck/core';
import { generatePassword, hashPassword } from '../lib/secrets.ts';
import type { Queryable } from '../db/index.ts';
import { type PageQuery, decodeCursor, type Page, textKeySchema, toPage } from '../lib/pagination.ts';
import { iso } from '../lib/time.ts';
import { type TenantRow, toTenant } from '../tenants/index.ts';

interface UserRow {
  id: string;
  email: string;
  platform_admin: boolean;
  created_at: Date;
}

function toUser(row: UserRow): User {
  return { id: row.id, email: row.email, platformAdmin: row.platform_admin, createdAt: iso(row.created_at) };
}

export interface NewUser {
  email: string;
  password?: string | undefined;
  platformAdmin?: boolean;
}

export interface EnsuredUser {
  user: User;
  created: boolean;
  /** Set when the user was created here without a password given: shown once. */
  generatedPassword?: string;
}

/** Finds the user by email, or creates them. An existing user's password is never changed here. */
export async function ensureUser(q: Queryable, input: NewUser): Promise<EnsuredUser> {
  const existing = await q.query<UserRow>(
    'SELECT id, email, platform_admin, created_at FROM users WHERE email = $1',
    [input.email],
  );
  if (existing.rows[0]) return { user: toUser(existing.rows[0]), created: false };
  const password = input.password ?? generatePassword();
  const inserted = await q.query<UserRow>(
    `INSERT INTO users (email, password_hash, platform_admin) VALUES ($1, $2, $3)
     ON CONFLICT (email) DO NOTHING RETURNING id, email, platform_admin, created_at`,
    [input.email, await hashPassword(password), input.platformAdmin ?? false],
  );
  // Lost a race with a concurrent insert of the same email: that user is the one.
  if (!inserted.rows[0]) return ensureUser(q, input);
  return {
    user: toUser(inserted.rows[0]),
    created: true,
    ...(input.password ? {} : { generatedPassword: password }),
  };
}

export interface AddedMember {
  member: Member;
  userCreated: boolean;
  generatedPassword?: string;
}

/** Makes `email` a member of the tenant with `role` (creating the user if needed); re-adding changes the role. */
export async function addMember(
  q: Queryable,
  input: { tenantId: string; email: string; role: Role; password?: string | undefined },
): Promise<AddedMember> {
  const ensured = await ensureUser(q, { email: input.email, password: input.password });
  await q.query(
    `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = EXCLUDED.role`,
    [input.tenantId, ensured.user.id, input.role],
  );
  return {
    member: { ...ensured.user, role: input.role },
    userCreated: ensured.created,
    ...(ensured.generatedPassword ? { generatedPassword: ensured.generatedPassword } : {}),
  };
}

interface MemberRow extends UserRow {
  role: Role;
}

export async function listMembers(q: Queryable, tenantId: string, page: PageQuery): Promise<Page<Member>> {
  const after = page.cursor ? decodeCursor(page.cursor, textKeySchema)[0] : '';
  const result = await q.query<MemberRow>(
    `SELECT u.id, u.email, u.platform_admin, u.created_at, m.role
     FROM memberships m JOIN users u ON u.id = m.user_id
     WHERE m.tenant_id = $1 AND u.email > $2 ORDER BY u.email LIMIT $3`,
    [tenantId, after, page.limit + 1],
  );
  return toPage(
    result.rows,
    page.limit,
    (row) => ({ ...toUser(row), role: row.role }),
    (row) => [row.email],
  );
}

export async function updateMemberRole(
  q: Queryable,
  tenantId: string,
  userId: string,
  role: Role,
): Promise<Member | null> {
  const result = await q.query<MemberRow>(
    `WITH changed AS (
       UPDATE memberships SET role = $3 WHERE tenant_id = $1 AND user_id = $2 RETURNING user_id, role
     )
     SELECT u.id, u.email, u.platform_admin, u.created_at, changed.role FROM changed JOIN users u ON u.id = changed.user_id`,
    [tenantId, userId, role],
  );
  return result.rows[0] ? { ...toUser(result.rows[0]), role: result.rows[0].role } : null;
}

export async function removeMember(q: Queryable, tenantId: string, userId: string): Promise<boolean> {
  const result = await q.query('DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2', [
    tenantId,
    userId,
  ]);
  return result.rowCount > 0;
}

export async function findUser(q: Queryable, userId: string): Promise<User | null> {
  const result = await q.query<UserRow>(
    'SELECT id, email, platform_admin, created_at FROM users WHERE id = $1',
    [userId],
  );
  return result.rows[0] ? toUser(result.rows[0]) : null;
}

export async function listMemberships(q: Queryable, userId: string): Promise<Membership[]> {
  const result = await q.query<TenantRow & { role: Role }>(
    `SELECT m.role, t.id, t.slug, t.name, t.currency, t.created_at, t.updated_at
     FROM memberships m JOIN tenants t ON t.id = m.tenant_id WHERE m.user_id = $1 ORDER BY t.slug`,
    [userId],
  );
  return result.rows.map((row) => ({ role: row.role, tenant: toTenant(row) }));
}

/**
 * Replaces a user's password (a generated one when none is given, shown once) and ends every
 * session logged in with the old one. Null when no user has that email.
 */
export async function setPassword(
  q: Queryable,
  email: string,
  password?: string,
): Promise<{ user: User; generatedPassword?: string } | null> {
  const chosen = password ?? generatePassword();
  const result = await q.query<UserRow>(
    `UPDATE users SET password_hash = $2 WHERE email = $1
     RETURNING id, email, platform_admin, created_at`,
    [email, await hashPassword(chosen)],
  );
  const row = result.rows[0];
  if (!row) return null;
  await q.query('DELETE FROM sessions WHERE user_id = $1', [row.id]);
  return { user: toUser(row), ...(password ? {} : { generatedPassword: chosen }) };
}
