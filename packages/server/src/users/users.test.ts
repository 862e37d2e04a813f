import type { Member, Role, Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';

let t: TestApp;
let one: Tenant;
let two: Tenant;

const MISSING_ID = '00000000-0000-4000-8000-000000000000';
const PASSWORD = 'a long enough password';

beforeAll(async () => {
  t = await createTestApp();
  one = await t.createTenant('users-one');
  two = await t.createTenant('users-two');
});
afterAll(() => t.close());

type Headers = Record<string, string>;
type Response = Awaited<ReturnType<TestApp['app']['inject']>>;
interface Added {
  member: Member;
  userCreated: boolean;
  generatedPassword?: string;
}

/** The platform admin key, acting for one tenant. */
function platform(tenant: Tenant): Headers {
  return { ...bearer(t.adminToken), 'x-tenant-id': tenant.slug };
}

function addMember(headers: Headers, payload: unknown) {
  return t.app.inject({ method: 'POST', url: '/api/admin/users', headers, payload: payload as object });
}

async function addOk(
  tenant: Tenant,
  payload: { email: string; role: Role; password?: string },
): Promise<Added> {
  const response = await addMember(platform(tenant), payload);
  expect(response.statusCode).toBe(201);
  return response.json();
}

function listMembers(headers: Headers, query = '') {
  return t.app.inject({ method: 'GET', url: `/api/admin/users${query}`, headers });
}

function setRole(headers: Headers, id: string, payload: unknown) {
  return t.app.inject({ method: 'PUT', url: `/api/admin/users/${id}`, headers, payload: payload as object });
}

function removeMember(headers: Headers, id: string) {
  return t.app.inject({ method: 'DELETE', url: `/api/admin/users/${id}`, headers });
}

let loginCount = 0;
/** Each login comes from its own address, so failed attempts never trip the rate limit. */
function login(email: string, password: string) {
  loginCount += 1;
  return t.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { email, password },
    remoteAddress: `10.1.${Math.floor(loginCount / 250)}.${loginCount % 250}`,
  });
}

async function sessionOf(email: string, password: string): Promise<Headers> {
  const response = await login(email, password);
  expect(response.statusCode).toBe(200);
  const cookie = response.cookies.find((c) => c.name === 'syncdeck_session');
  if (!cookie) throw new Error('no session cookie set');
  return { cookie: `syncdeck_session=${cookie.value}` };
}

function get(url: string, headers: Headers) {
  return t.app.inject({ method: 'GET', url, headers });
}

function detailPaths(response: Response): string[] {
  return (response.json().error.details ?? []).map((d: { path: string }) => d.path);
}

function errorOf(response: Response) {
  const { requestId: _requestId, ...rest } = response.json().error;
  return rest;
}

async function roleIn(tenant: Tenant, userId: string): Promise<string | null> {
  const result = await t.db.query<{ role: string }>(
    'SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2',
    [tenant.id, userId],
  );
  return result.rows[0]?.role ?? null;
}

describe('POST /api/admin/users', () => {
  it('creates a user without a password and returns a generated one, once, that logs in', async () => {
    const added = await addOk(one, { email: 'generated@example.com', role: 'agent' });
    expect(added).toEqual({
      member: {
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        email: 'generated@example.com',
        platformAdmin: false,
        createdAt: expect.any(String),
        role: 'agent',
      },
      userCreated: true,
      generatedPassword: expect.any(String),
    });
    const password = added.generatedPassword!;
    expect(password.length).toBeGreaterThanOrEqual(10);

    const loggedIn = await login('generated@example.com', password);
    expect(loggedIn.statusCode).toBe(200);
    expect(loggedIn.json().user.id).toBe(added.member.id);
    expect(loggedIn.json().memberships).toEqual([{ tenant: one, role: 'agent' }]);

    // Never stored or shown again.
    const stored = await t.db.query<{ password_hash: string }>(
      'SELECT password_hash FROM users WHERE id = $1',
      [added.member.id],
    );
    expect(stored.rows[0]!.password_hash).not.toContain(password);
    const members = await listMembers(platform(one));
    expect(members.body).not.toContain(password);
    const again = await addOk(one, { email: 'generated@example.com', role: 'agent' });
    expect(again.userCreated).toBe(false);
    expect(again).not.toHaveProperty('generatedPassword');
  });

  it('creates a user with the given password and returns no generated one', async () => {
    const added = await addOk(one, { email: 'chosen@example.com', role: 'viewer', password: PASSWORD });
    expect(added.userCreated).toBe(true);
    expect(added).not.toHaveProperty('generatedPassword');
    expect(added.member.role).toBe('viewer');
    expect((await login('chosen@example.com', PASSWORD)).statusCode).toBe(200);
    expect((await login('chosen@example.com', 'a different password')).statusCode).toBe(401);
  });

  it('stores the email trimmed and in lower case', async () => {
    const added = await addOk(one, {
      email: '  Mixed.Case@Example.COM ',
      role: 'viewer',
      password: PASSWORD,
    });
    expect(added.member.email).toBe('mixed.case@example.com');
    const stored = await t.db.query<{ email: string }>('SELECT email FROM users WHERE id = $1', [
      added.member.id,
    ]);
    expect(stored.rows[0]!.email).toBe('mixed.case@example.com');
    expect((await login('mixed.case@example.com', PASSWORD)).statusCode).toBe(200);
    expect((await login('MIXED.case@example.com', PASSWORD)).statusCode).toBe(200);
    // The same person in another spelling is the same user.
    const again = await addOk(one, { email: 'MIXED.CASE@EXAMPLE.COM', role: 'agent' });
    expect(again.userCreated).toBe(false);
    expect(again.member.id).toBe(added.member.id);
    const count = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM users WHERE lower(email) = 'mixed.case@example.com'",
    );
    expect(count.rows[0]!.n).toBe(1);
  });

  it('changes the role when an existing member is added again', async () => {
    const added = await addOk(one, { email: 'readd@example.com', role: 'viewer', password: PASSWORD });
    const again = await addOk(one, { email: 'readd@example.com', role: 'admin' });
    expect(again.member).toEqual({ ...added.member, role: 'admin' });
    expect(await roleIn(one, added.member.id)).toBe('admin');
  });

  it('never makes a platform admin, whatever the body says', async () => {
    const response = await addMember(platform(one), {
      email: 'would.be.root@example.com',
      role: 'owner',
      password: PASSWORD,
      platformAdmin: true,
    });
    expect([201, 400]).toContain(response.statusCode);
    const stored = await t.db.query<{ platform_admin: boolean }>(
      'SELECT platform_admin FROM users WHERE email = $1',
      ['would.be.root@example.com'],
    );
    expect(stored.rows.every((row) => row.platform_admin === false)).toBe(true);
    if (response.statusCode === 201) {
      expect(response.json().member.platformAdmin).toBe(false);
      const session = await sessionOf('would.be.root@example.com', PASSWORD);
      expect((await get(`/api/admin/tenants/${two.id}`, session)).statusCode).toBe(404);
    }
  });

  it('validates the body with field paths', async () => {
    const cases: [unknown, string][] = [
      [{ email: 'short@example.com', role: 'agent', password: 'short' }, 'password'],
      [{ email: 'short@example.com', role: 'agent', password: 'p'.repeat(201) }, 'password'],
      [{ email: 'badrole@example.com', role: 'superuser' }, 'role'],
      [{ email: 'badrole@example.com', role: 'Admin' }, 'role'],
      [{ email: 'norole@example.com' }, 'role'],
      [{ email: 'not-an-email', role: 'agent' }, 'email'],
      [{ role: 'agent' }, 'email'],
    ];
    for (const [payload, path] of cases) {
      const response = await addMember(platform(one), payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error.code).toBe('validation_failed');
      expect(detailPaths(response), JSON.stringify(payload)).toEqual([path]);
    }
    const created = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM users WHERE email IN ('short@example.com', 'badrole@example.com', 'norole@example.com')",
    );
    expect(created.rows[0]!.n).toBe(0);
  });
});

describe('a user in two tenants', () => {
  let userId: string;
  const email = 'two.homes@example.com';

  it('keeps their password when added to a second tenant, and gives them both memberships', async () => {
    const first = await addOk(one, { email, role: 'admin', password: PASSWORD });
    userId = first.member.id;
    const second = await addOk(two, { email, role: 'viewer', password: 'an attempt to overwrite it' });
    expect(second.userCreated).toBe(false);
    expect(second.member).toEqual({ ...first.member, role: 'viewer' });
    expect(second).not.toHaveProperty('generatedPassword');

    expect((await login(email, 'an attempt to overwrite it')).statusCode).toBe(401);
    const session = await sessionOf(email, PASSWORD);
    const me = await get('/api/me', session);
    expect(me.statusCode).toBe(200);
    expect(me.json().user.id).toBe(userId);
    expect(me.json().memberships).toEqual([
      { tenant: one, role: 'admin' },
      { tenant: two, role: 'viewer' },
    ]);
  });

  it('must then choose a tenant with X-Tenant-Id for tenant routes', async () => {
    const session = await sessionOf(email, PASSWORD);
    for (const url of ['/api/admin/users', '/api/admin/keys']) {
      const unchosen = await get(url, session);
      expect(unchosen.statusCode, url).toBe(400);
      expect(detailPaths(unchosen)).toEqual(['headers.x-tenant-id']);
    }
    const asAdmin = await get('/api/admin/users', { ...session, 'x-tenant-id': one.id });
    expect(asAdmin.statusCode).toBe(200);
    expect((asAdmin.json().data as Member[]).map((m) => m.id)).toContain(userId);
    // A viewer in `two`, so no user management there; and no access at all elsewhere.
    expect((await get('/api/admin/users', { ...session, 'x-tenant-id': two.slug })).statusCode).toBe(403);
    const elsewhere = await t.createTenant('users-elsewhere');
    expect((await get('/api/admin/users', { ...session, 'x-tenant-id': elsewhere.id })).statusCode).toBe(404);
  });
});

describe('PUT /api/admin/users/:id', () => {
  it("takes effect on the member's next request", async () => {
    const email = 'promoted@example.com';
    const { member } = await addOk(one, { email, role: 'viewer', password: PASSWORD });
    const session = await sessionOf(email, PASSWORD);
    expect((await get('/api/admin/keys', session)).statusCode).toBe(403);

    const promoted = await setRole(platform(one), member.id, { role: 'admin' });
    expect(promoted.statusCode).toBe(200);
    expect(promoted.json()).toEqual({ ...member, role: 'admin' });
    expect((await get('/api/admin/keys', session)).statusCode).toBe(200);
    expect((await get('/api/me', session)).json().memberships).toEqual([{ tenant: one, role: 'admin' }]);

    const demoted = await setRole(platform(one), member.id, { role: 'viewer' });
    expect(demoted.statusCode).toBe(200);
    expect((await get('/api/admin/keys', session)).statusCode).toBe(403);
    expect((await get('/api/admin/users', session)).statusCode).toBe(403);
  });

  it('grants each role its scopes', async () => {
    const email = 'every.role@example.com';
    const { member } = await addOk(one, { email, role: 'viewer', password: PASSWORD });
    const session = await sessionOf(email, PASSWORD);
    const expected: Record<Role, number> = { owner: 200, admin: 200, agent: 403, viewer: 403 };
    for (const role of ['owner', 'agent', 'admin', 'viewer'] as Role[]) {
      expect((await setRole(platform(one), member.id, { role })).statusCode).toBe(200);
      expect((await get('/api/admin/users', session)).statusCode, role).toBe(expected[role]);
    }
  });

  it("answers 404 for another tenant's user, exactly like a missing one, changing nothing", async () => {
    const { member } = await addOk(two, {
      email: 'only.in.two@example.com',
      role: 'viewer',
      password: PASSWORD,
    });
    const missing = await setRole(platform(one), MISSING_ID, { role: 'owner' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'not_found', message: 'User not found' } });
    const oneAdminKey = (await t.createKey(one.id, ['admin'])).token;
    for (const headers of [platform(one), bearer(oneAdminKey)]) {
      const response = await setRole(headers, member.id, { role: 'owner' });
      expect(response.statusCode).toBe(404);
      expect(errorOf(response)).toEqual(errorOf(missing));
    }
    expect(await roleIn(two, member.id)).toBe('viewer');
    expect(await roleIn(one, member.id)).toBeNull();
  });

  it('validates the body and the id', async () => {
    const { member } = await addOk(one, {
      email: 'validated@example.com',
      role: 'agent',
      password: PASSWORD,
    });
    for (const payload of [{ role: 'god' }, {}, { role: null }]) {
      const response = await setRole(platform(one), member.id, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(detailPaths(response)).toEqual(['role']);
    }
    const extra = await setRole(platform(one), member.id, { role: 'owner', email: 'changed@example.com' });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().error.code).toBe('validation_failed');
    const notUuid = await setRole(platform(one), 'not-a-uuid', { role: 'owner' });
    expect(notUuid.statusCode).toBe(400);
    expect(detailPaths(notUuid)).toEqual(['params.id']);
    expect(await roleIn(one, member.id)).toBe('agent');
  });
});

describe('DELETE /api/admin/users/:id', () => {
  it('ends their access to that tenant at once, keeping the other', async () => {
    const email = 'removed@example.com';
    const { member } = await addOk(one, { email, role: 'admin', password: PASSWORD });
    await addOk(two, { email, role: 'admin' });
    const session = await sessionOf(email, PASSWORD);
    expect((await get('/api/admin/users', { ...session, 'x-tenant-id': one.slug })).statusCode).toBe(200);

    const removed = await removeMember(platform(one), member.id);
    expect(removed.statusCode).toBe(204);
    expect(removed.body).toBe('');

    for (const value of [one.id, one.slug]) {
      const denied = await get('/api/admin/users', { ...session, 'x-tenant-id': value });
      expect(denied.statusCode, value).toBe(404);
      expect(denied.json().error.code).toBe('not_found');
    }
    expect((await get('/api/admin/users', { ...session, 'x-tenant-id': two.slug })).statusCode).toBe(200);
    // With one tenant left, it no longer needs choosing.
    expect((await get('/api/admin/users', session)).statusCode).toBe(200);
    expect((await get('/api/me', session)).json().memberships).toEqual([{ tenant: two, role: 'admin' }]);
    const members = (await listMembers(platform(one), '?limit=200')).json().data as Member[];
    expect(members.map((m) => m.id)).not.toContain(member.id);
    expect(await roleIn(one, member.id)).toBeNull();
    // The user still exists and can still log in.
    expect((await login(email, PASSWORD)).statusCode).toBe(200);

    expect((await removeMember(platform(one), member.id)).statusCode).toBe(404);
  });

  it("answers 404 for another tenant's user, exactly like a missing one, changing nothing", async () => {
    const email = 'stays.in.two@example.com';
    const { member } = await addOk(two, { email, role: 'agent', password: PASSWORD });
    const missing = await removeMember(platform(one), MISSING_ID);
    expect(missing.statusCode).toBe(404);
    const response = await removeMember(platform(one), member.id);
    expect(response.statusCode).toBe(404);
    expect(errorOf(response)).toEqual(errorOf(missing));
    expect(await roleIn(two, member.id)).toBe('agent');
    const session = await sessionOf(email, PASSWORD);
    expect((await get('/api/me', session)).json().memberships).toEqual([{ tenant: two, role: 'agent' }]);
  });

  it('answers 400 on `params.id` for a non-uuid', async () => {
    const response = await removeMember(platform(one), 'nope');
    expect(response.statusCode).toBe(400);
    expect(detailPaths(response)).toEqual(['params.id']);
  });
});

describe('GET /api/admin/users', () => {
  it('lists the tenant’s members by email, with cursor pagination', async () => {
    const tenant = await t.createTenant('users-listing');
    const emails = ['d@example.com', 'a@example.com', 'c@example.com', 'b@example.com', 'e@example.com'];
    for (const email of emails) await addOk(tenant, { email, role: 'viewer', password: PASSWORD });
    await addOk(one, { email: 'not.listed@example.com', role: 'viewer', password: PASSWORD });

    const all = await listMembers(platform(tenant));
    expect(all.statusCode).toBe(200);
    expect(all.json().nextCursor).toBeNull();
    expect((all.json().data as Member[]).map((m) => m.email)).toEqual([...emails].sort());
    expect((all.json().data as Member[]).every((m) => m.role === 'viewer')).toBe(true);

    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await listMembers(platform(tenant), query);
      expect(page.statusCode).toBe(200);
      expect(page.json().data.length).toBeLessThanOrEqual(2);
      walked.push(...(page.json().data as Member[]).map((m) => m.email));
      cursor = page.json().nextCursor;
    } while (cursor);
    expect(walked).toEqual([...emails].sort());

    const bad = await listMembers(platform(tenant), '?cursor=garbage');
    expect(bad.statusCode).toBe(400);
    expect(detailPaths(bad)).toEqual(['query.cursor']);
    const tooMany = await listMembers(platform(tenant), '?limit=201');
    expect(tooMany.statusCode).toBe(400);
    expect(detailPaths(tooMany)).toEqual(['query.limit']);
  });
});

describe('who may manage users', () => {
  it('answers 403 to viewer and agent sessions, and to keys without the admin scope, changing nothing', async () => {
    const target = await addOk(one, { email: 'target@example.com', role: 'viewer', password: PASSWORD });
    const sessions: Headers[] = [];
    for (const role of ['viewer', 'agent'] as Role[]) {
      const email = `lowly.${role}@example.com`;
      await addOk(one, { email, role, password: PASSWORD });
      sessions.push(await sessionOf(email, PASSWORD));
    }
    const keys = [await t.createKey(one.id, ['read', 'operate']), await t.createKey(one.id, ['ingest'])];
    for (const headers of [...sessions, ...keys.map((key) => bearer(key.token))]) {
      for (const response of [
        await listMembers(headers),
        await addMember(headers, { email: 'sneaky@example.com', role: 'owner', password: PASSWORD }),
        await setRole(headers, target.member.id, { role: 'owner' }),
        await removeMember(headers, target.member.id),
      ]) {
        expect(response.statusCode).toBe(403);
        expect(response.json().error.code).toBe('forbidden');
      }
    }
    expect(await roleIn(one, target.member.id)).toBe('viewer');
    const sneaky = await t.db.query("SELECT 1 FROM users WHERE email = 'sneaky@example.com'");
    expect(sneaky.rowCount).toBe(0);
  });

  it('lets an owner session and a tenant admin key manage members of their own tenant', async () => {
    await addOk(one, { email: 'the.owner@example.com', role: 'owner', password: PASSWORD });
    const ownerSession = await sessionOf('the.owner@example.com', PASSWORD);
    const byOwner = await addMember(ownerSession, {
      email: 'hired@example.com',
      role: 'agent',
      password: PASSWORD,
    });
    expect(byOwner.statusCode).toBe(201);
    const hiredId = byOwner.json().member.id as string;
    expect(await roleIn(one, hiredId)).toBe('agent');

    const adminKey = (await t.createKey(one.id, ['admin'])).token;
    expect((await setRole(bearer(adminKey), hiredId, { role: 'viewer' })).statusCode).toBe(200);
    expect(await roleIn(one, hiredId)).toBe('viewer');
    expect((await removeMember(ownerSession, hiredId)).statusCode).toBe(204);
    expect(await roleIn(one, hiredId)).toBeNull();
  });

  it('answers 401 without a credential, and 400 on `headers.x-tenant-id` to the platform key without a tenant', async () => {
    for (const response of [
      await listMembers({}),
      await addMember({}, { email: 'anon@example.com', role: 'owner' }),
      await setRole({}, MISSING_ID, { role: 'owner' }),
      await removeMember({}, MISSING_ID),
    ]) {
      expect(response.statusCode).toBe(401);
    }
    const unchosen = await addMember(bearer(t.adminToken), { email: 'anon@example.com', role: 'owner' });
    expect(unchosen.statusCode).toBe(400);
    expect(detailPaths(unchosen)).toEqual(['headers.x-tenant-id']);
    const anon = await t.db.query("SELECT 1 FROM users WHERE email = 'anon@example.com'");
    expect(anon.rowCount).toBe(0);
  });
});
