/** A source's own tenant ids and the Syncdeck tenants they land in (`sync_source_tenants`). */
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../db/index.ts';
import { AppError } from '../lib/errors.ts';
import { iso } from '../lib/time.ts';
import { insertTenant } from '../tenants/index.ts';

export interface TenantRef {
  id: string;
  slug: string;
  name: string;
}

export interface SourceTenantMapping {
  externalId: string;
  tenant: TenantRef;
  /** `push`: created by the first push of an unknown tenant id; `admin`: mapped by an admin. */
  origin: 'push' | 'admin';
  createdAt: string;
  updatedAt: string;
}

interface MappingRow {
  external_id: string;
  tenant_id: string;
  slug: string;
  name: string;
  origin: 'push' | 'admin';
  created_at: Date;
  updated_at: Date;
}

const MAPPING_SELECT = `SELECT m.external_id, m.tenant_id, t.slug, t.name, m.origin, m.created_at, m.updated_at
  FROM sync_source_tenants m JOIN tenants t ON t.id = m.tenant_id`;

function toMapping(row: MappingRow): SourceTenantMapping {
  return {
    externalId: row.external_id,
    tenant: { id: row.tenant_id, slug: row.slug, name: row.name },
    origin: row.origin,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export async function findSourceTenant(
  q: Queryable,
  sourceId: string,
  externalId: string,
): Promise<string | null> {
  const result = await q.query<{ tenant_id: string }>(
    'SELECT tenant_id FROM sync_source_tenants WHERE source_id = $1 AND external_id = $2',
    [sourceId, externalId],
  );
  return result.rows[0]?.tenant_id ?? null;
}

export async function findSourceTenantMapping(
  q: Queryable,
  sourceId: string,
  externalId: string,
): Promise<SourceTenantMapping | null> {
  const result = await q.query<MappingRow>(
    `${MAPPING_SELECT} WHERE m.source_id = $1 AND m.external_id = $2`,
    [sourceId, externalId],
  );
  return result.rows[0] ? toMapping(result.rows[0]) : null;
}

export async function listSourceTenantMappings(
  q: Queryable,
  sourceId: string,
): Promise<SourceTenantMapping[]> {
  const result = await q.query<MappingRow>(
    `${MAPPING_SELECT} WHERE m.source_id = $1 ORDER BY m.external_id`,
    [sourceId],
  );
  return result.rows.map(toMapping);
}

/**
 * Under a lock on (source, external id), so concurrent first pushes create one tenant, and a
 * push creating a tenant and an admin mapping the id do not both write.
 */
export async function lockSourceTenant(tx: Queryable, sourceId: string, externalId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`rowsync-tenant:${sourceId}:${externalId}`]);
}

/** The mapping a first push makes, to the tenant it just created. */
export async function insertSourceTenant(
  tx: Queryable,
  sourceId: string,
  externalId: string,
  tenantId: string,
): Promise<void> {
  await tx.query('INSERT INTO sync_source_tenants (source_id, external_id, tenant_id) VALUES ($1, $2, $3)', [
    sourceId,
    externalId,
    tenantId,
  ]);
}

/**
 * Points a source's tenant id at a tenant (an admin's mapping), answering the tenant it pointed
 * at before. Call under lockSourceTenant. A tenant takes one tenant id per source: its rows are
 * keyed by row id alone, so a second id would overwrite the first one's rows.
 */
export async function upsertSourceTenant(
  tx: Queryable,
  sourceId: string,
  externalId: string,
  tenant: TenantRef,
): Promise<string | null> {
  const taken = await tx.query<{ external_id: string }>(
    'SELECT external_id FROM sync_source_tenants WHERE source_id = $1 AND tenant_id = $2 AND external_id <> $3',
    [sourceId, tenant.id, externalId],
  );
  if (taken.rows[0]) throw tenantTaken(tenant, taken.rows[0].external_id);
  const previous = await findSourceTenant(tx, sourceId, externalId);
  try {
    await tx.query(
      `INSERT INTO sync_source_tenants (source_id, external_id, tenant_id, origin) VALUES ($1, $2, $3, 'admin')
       ON CONFLICT (source_id, external_id) DO UPDATE
         SET tenant_id = EXCLUDED.tenant_id, origin = 'admin', updated_at = now()`,
      [sourceId, externalId, tenant.id],
    );
  } catch (error) {
    // Another id mapped to this tenant at the same moment (the unique index decided).
    if ((error as { code?: unknown }).code === '23505') throw tenantTaken(tenant, 'another tenant id');
    throw error;
  }
  return previous;
}

function tenantTaken(tenant: TenantRef, externalId: string): AppError {
  return AppError.conflict(`Tenant "${tenant.slug}" already takes this source's tenant id "${externalId}"`, [
    { path: 'tenant', message: 'takes another tenant id of this source' },
  ]);
}

export async function deleteSourceTenant(
  tx: Queryable,
  sourceId: string,
  externalId: string,
): Promise<boolean> {
  const result = await tx.query<{ external_id: string }>(
    'DELETE FROM sync_source_tenants WHERE source_id = $1 AND external_id = $2 RETURNING external_id',
    [sourceId, externalId],
  );
  return result.rows.length > 0;
}

/** A new tenant for a source's tenant id: slug `<source>-<id>` when free, else with a hash. */
export async function createTenantFor(tx: Queryable, sourceName: string, externalId: string) {
  const base = `${sourceName}-${externalId}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  const hash = createHash('sha256').update(externalId).digest('hex').slice(0, 12);
  const candidates = [
    base,
    `${base.slice(0, 35).replace(/-+$/, '')}-${hash}`,
    `${sourceName.replaceAll('_', '-').slice(0, 20)}-${randomBytes(8).toString('hex')}`,
  ];
  for (const slug of candidates) {
    if (!/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(slug) || slug.length < 2) continue;
    try {
      return await insertTenant(tx, { slug, name: `${sourceName} ${externalId}`.slice(0, 200) });
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'conflict')) throw error;
    }
  }
  throw new Error(`no free slug for ${sourceName} tenant ${externalId}`);
}
