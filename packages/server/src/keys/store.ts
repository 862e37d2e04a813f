import type { ApiKey, CreatedApiKey, Scope } from '@syncdeck/core';
import { displayPrefix, generateApiKeyToken, hashToken } from '../lib/secrets.ts';
import type { Queryable } from '../db/index.ts';
import {
  type PageQuery,
  decodeCursor,
  type Page,
  sqlMicros,
  timeKeySchema,
  toPage,
} from '../lib/pagination.ts';
import { iso } from '../lib/time.ts';

interface KeyRow {
  id: string;
  tenant_id: string | null;
  name: string;
  prefix: string;
  scopes: Scope[];
  created_at: Date;
  revoked_at: Date | null;
  created_us: number;
}

const COLUMNS = `id, tenant_id, name, prefix, scopes, created_at, revoked_at,
  ${sqlMicros('created_at')} AS created_us`;

function toApiKey(row: KeyRow): ApiKey {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    createdAt: iso(row.created_at),
    revokedAt: iso(row.revoked_at),
  };
}

export interface NewApiKey {
  /** null creates a platform-admin key. */
  tenantId: string | null;
  name: string;
  scopes: Scope[];
}

/** Creates a key; the token is in the result and nowhere else, ever. */
export async function createApiKey(q: Queryable, input: NewApiKey): Promise<CreatedApiKey> {
  const token = generateApiKeyToken();
  const uniqueScopes = [...new Set(input.scopes)];
  const result = await q.query<KeyRow>(
    `INSERT INTO api_keys (tenant_id, name, prefix, token_hash, scopes)
     VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [input.tenantId, input.name, displayPrefix(token), hashToken(token), uniqueScopes],
  );
  return { ...toApiKey(result.rows[0]!), token };
}

/** A tenant's keys, newest first, revoked ones included so an admin can see what was cut off. */
export async function listApiKeys(q: Queryable, tenantId: string, page: PageQuery): Promise<Page<ApiKey>> {
  const [beforeUs, beforeId] = page.cursor
    ? // Whole microseconds only: any other number would reach the ::bigint cast and fail there.
      decodeCursor(page.cursor, timeKeySchema)
    : [Number.MAX_SAFE_INTEGER, 'ffffffff-ffff-ffff-ffff-ffffffffffff'];
  const result = await q.query<KeyRow>(
    `SELECT ${COLUMNS} FROM api_keys
     WHERE tenant_id = $1
       AND (${sqlMicros('created_at')}, id) < ($2::bigint, $3::uuid)
     ORDER BY created_at DESC, id DESC LIMIT $4`,
    [tenantId, beforeUs, beforeId, page.limit + 1],
  );
  return toPage(result.rows, page.limit, toApiKey, (row) => [row.created_us, row.id]);
}

/** Revokes a key of this tenant at once; null when the tenant has no such key. */
export async function revokeApiKey(q: Queryable, tenantId: string, keyId: string): Promise<ApiKey | null> {
  const result = await q.query<KeyRow>(
    `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now())
     WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [tenantId, keyId],
  );
  return result.rows[0] ? toApiKey(result.rows[0]) : null;
}
