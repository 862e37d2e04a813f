import {
  type CreateTenantInput,
  currencySchema,
  DEFAULT_CURRENCY,
  type Tenant,
  type UpdateTenantInput,
} from '@syncdeck/core';
import type { Queryable } from '../db/index.ts';
import { AppError } from '../lib/errors.ts';
import { type PageQuery, decodeCursor, type Page, textKeySchema, toPage } from '../lib/pagination.ts';
import { iso } from '../lib/time.ts';

export interface TenantRow {
  id: string;
  slug: string;
  name: string;
  currency: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, slug, name, currency, created_at, updated_at';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function toTenant(row: TenantRow): Tenant {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    currency: row.currency,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export async function insertTenant(q: Queryable, input: CreateTenantInput): Promise<Tenant> {
  const result = await q.query<TenantRow>(
    `INSERT INTO tenants (slug, name, currency) VALUES ($1, $2, $3)
     ON CONFLICT (slug) DO NOTHING RETURNING ${COLUMNS}`,
    [input.slug, input.name ?? input.slug, input.currency ?? DEFAULT_CURRENCY],
  );
  const row = result.rows[0];
  if (!row)
    throw AppError.conflict(`A tenant with slug "${input.slug}" already exists`, [
      { path: 'slug', message: 'already taken' },
    ]);
  return toTenant(row);
}

/** A tenant by id or slug, as the `X-Tenant-Id` / `X-Restaurant-Id` headers may name it. */
export async function findTenant(q: Queryable, idOrSlug: string): Promise<Tenant | null> {
  const column = UUID.test(idOrSlug) ? 'id' : 'slug';
  const result = await q.query<TenantRow>(`SELECT ${COLUMNS} FROM tenants WHERE ${column} = $1`, [
    column === 'id' ? idOrSlug.toLowerCase() : idOrSlug,
  ]);
  return result.rows[0] ? toTenant(result.rows[0]) : null;
}

/** Tenants ordered by slug; `onlyIds` restricts the list to what a caller may see. */
export async function listTenants(
  q: Queryable,
  page: PageQuery,
  onlyIds: string[] | 'all',
): Promise<Page<Tenant>> {
  const after = page.cursor ? decodeCursor(page.cursor, textKeySchema)[0] : '';
  const result = await q.query<TenantRow>(
    `SELECT ${COLUMNS} FROM tenants
     WHERE slug > $1 AND ($2::boolean OR id = ANY($3::uuid[]))
     ORDER BY slug LIMIT $4`,
    [after, onlyIds === 'all', onlyIds === 'all' ? [] : onlyIds, page.limit + 1],
  );
  return toPage(result.rows, page.limit, toTenant, (row) => [row.slug]);
}

export async function updateTenant(
  q: Queryable,
  id: string,
  patch: UpdateTenantInput,
): Promise<Tenant | null> {
  const result = await q.query<TenantRow>(
    `UPDATE tenants SET name = COALESCE($2, name), currency = COALESCE($3, currency), updated_at = now()
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, patch.name ?? null, patch.currency ?? null],
  );
  return result.rows[0] ? toTenant(result.rows[0]) : null;
}

/**
 * Sets the currency of a tenant's amounts (an ISO 4217 code, checked here too: callers such as
 * the demo pass a literal). Null when there is no such tenant.
 */
export async function setTenantCurrency(
  q: Queryable,
  tenantId: string,
  currency: string,
): Promise<Tenant | null> {
  const parsed = currencySchema.safeParse(currency);
  if (!parsed.success) {
    throw AppError.invalid([{ path: 'currency', message: parsed.error.issues[0]?.message ?? 'invalid' }]);
  }
  return updateTenant(q, tenantId, { currency: parsed.data });
}
