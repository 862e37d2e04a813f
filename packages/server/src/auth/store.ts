import type { Role, Scope } from '@syncdeck/core';
import { PREPARED, type Queryable } from '../db/index.ts';
import type { TenantRow } from '../tenants/index.ts';

export interface KeyCredential {
  id: string;
  name: string;
  tenant_id: string | null;
  scopes: Scope[];
  /** The key's tenant, read in the same query: most requests need nothing more to authorise. */
  tenant: TenantRow | null;
}

/** The active keys among these hashes, by hash; unknown and revoked ones are absent. */
export async function findActiveKeysByHash(
  q: Queryable,
  tokenHashes: string[],
): Promise<Map<string, KeyCredential>> {
  const result = await q.query<
    Omit<KeyCredential, 'tenant'> & {
      token_hash: string;
      tenant_slug: string | null;
      tenant_name: string | null;
      tenant_currency: string | null;
      tenant_created_at: Date | null;
      tenant_updated_at: Date | null;
    }
  >(
    `SELECT k.token_hash, k.id, k.name, k.tenant_id, k.scopes, t.slug AS tenant_slug, t.name AS tenant_name,
       t.currency AS tenant_currency, t.created_at AS tenant_created_at, t.updated_at AS tenant_updated_at
     FROM api_keys k LEFT JOIN tenants t ON t.id = k.tenant_id
     WHERE k.token_hash = ANY($1::text[]) AND k.revoked_at IS NULL`,
    [tokenHashes],
    // Every request with an API key runs it.
    PREPARED,
  );
  const keys = new Map<string, KeyCredential>();
  for (const row of result.rows) {
    const tenant =
      row.tenant_id && row.tenant_slug
        ? {
            id: row.tenant_id,
            slug: row.tenant_slug,
            name: row.tenant_name!,
            currency: row.tenant_currency!,
            created_at: row.tenant_created_at!,
            updated_at: row.tenant_updated_at!,
          }
        : null;
    keys.set(row.token_hash, {
      id: row.id,
      name: row.name,
      tenant_id: row.tenant_id,
      scopes: row.scopes,
      tenant,
    });
  }
  return keys;
}

export interface SessionUser {
  session_id: string;
  user_id: string;
  email: string;
  platform_admin: boolean;
}

export async function findLiveSession(q: Queryable, tokenHash: string): Promise<SessionUser | null> {
  const result = await q.query<SessionUser>(
    `SELECT s.id AS session_id, u.id AS user_id, u.email, u.platform_admin
     FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.token_hash = $1 AND s.expires_at > now()`,
    [tokenHash],
  );
  return result.rows[0] ?? null;
}

export async function listUserRoles(
  q: Queryable,
  userId: string,
): Promise<{ tenant_id: string; role: Role }[]> {
  const result = await q.query<{ tenant_id: string; role: Role }>(
    'SELECT tenant_id, role FROM memberships WHERE user_id = $1',
    [userId],
  );
  return result.rows;
}
