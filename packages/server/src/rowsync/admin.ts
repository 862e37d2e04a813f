import { createHash } from 'node:crypto';
import { type CreateSourceInput, type Source, type TableMapping, tenantSlugSchema } from '@syncdeck/core';
import { z } from 'zod';
import type { Db, Queryable } from '../db/index.ts';
import { AppError, detailsFromZod } from '../lib/errors.ts';
import { findTenant } from '../tenants/index.ts';
import { externalTenantIdSchema } from './mapping-schemas.ts';
import {
  deleteSourceTenant,
  findSourceTenantMapping,
  listSourceTenantMappings,
  lockSourceTenant,
  type SourceTenantMapping,
  type TenantRef,
  upsertSourceTenant,
} from './source-tenants.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import {
  addSourceSecret,
  findSourceByName,
  freeDefaultMapping,
  insertSource,
  mapTable,
  removeSourceSecret,
  secretContext,
  type SourceRecord,
  toSource,
  touchSource,
} from './sources.ts';

/**
 * Managing sources, for the admin API and the CLI. The webhook (service.ts) only reads them, and
 * sees a change on its next request through the source's version.
 */

/** Identifies a secret without revealing it. */
export function secretFingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 16);
}

async function requireSource(q: Queryable, name: string): Promise<SourceRecord> {
  const source = await findSourceByName(q, name);
  if (!source) throw AppError.notFound(`Source "${name}"`);
  return source;
}

/** Created with the default mapping (less what other sources hold) and `tables` over it. */
export async function createSource(db: Db, box: SecretBox, input: CreateSourceInput): Promise<Source> {
  await db.transaction(async (tx) => {
    const tables = new Map((await freeDefaultMapping(tx)).map((m) => [m.sourceTable, m.targetTable]));
    for (const mapping of input.tables ?? []) tables.set(mapping.sourceTable, mapping.targetTable);
    await insertSource(tx, {
      name: input.name,
      schema: input.schema ?? input.name,
      secret: {
        fingerprint: secretFingerprint(input.secret),
        sealed: box.seal(input.secret, secretContext(input.name)),
      },
      tables: [...tables].map(([sourceTable, targetTable]) => ({ sourceTable, targetTable })),
    });
  });
  return toSource(await requireSource(db, input.name));
}

export async function getSource(db: Db, name: string): Promise<Source> {
  return toSource(await requireSource(db, name));
}

export async function addSecret(db: Db, box: SecretBox, name: string, secret: string): Promise<Source> {
  await db.transaction(async (tx) => {
    const source = await requireSource(tx, name);
    await addSourceSecret(tx, source.id, {
      fingerprint: secretFingerprint(secret),
      sealed: box.seal(secret, secretContext(name)),
    });
  });
  return toSource(await requireSource(db, name));
}

/** Removes a secret named by its value or its fingerprint. */
export async function removeSecret(db: Db, name: string, secretOrFingerprint: string): Promise<Source> {
  await db.transaction(async (tx) => {
    const source = await requireSource(tx, name);
    const fingerprint = source.secrets.some((s) => s.fingerprint === secretOrFingerprint)
      ? secretOrFingerprint
      : secretFingerprint(secretOrFingerprint);
    await removeSourceSecret(tx, source.id, fingerprint);
  });
  return toSource(await requireSource(db, name));
}

export async function mapSourceTable(db: Db, name: string, mapping: TableMapping): Promise<Source> {
  await db.transaction(async (tx) => {
    const source = await requireSource(tx, name);
    await mapTable(tx, source, mapping);
  });
  return toSource(await requireSource(db, name));
}

/** Only what a caller gives that the webhook would read as the same tenant id may be mapped. */
function externalIdOf(externalId: string): string {
  const parsed = externalTenantIdSchema.safeParse(externalId);
  if (!parsed.success) throw AppError.invalid(detailsFromZod(parsed.error, 'externalId'));
  return parsed.data;
}

async function requireTenant(q: Queryable, idOrSlug: string): Promise<TenantRef> {
  const parsed = tenantSlugSchema.or(z.string().uuid()).safeParse(idOrSlug);
  const tenant = parsed.success ? await findTenant(q, parsed.data) : null;
  if (!tenant) throw AppError.notFound(`Tenant "${idOrSlug}"`);
  return { id: tenant.id, slug: tenant.slug, name: tenant.name };
}

/**
 * Maps a source's tenant id to an existing tenant (by id or slug): later pushes of that id land
 * there. Rows already pushed stay in the tenant they landed in; a full sync fills the new one.
 * Throws not_found for an unknown source or tenant, conflict when the tenant already takes
 * another tenant id of the source.
 */
export async function setSourceTenant(
  db: Db,
  sourceName: string,
  externalId: string,
  tenantIdOrSlug: string,
): Promise<SourceTenantMapping & { previousTenant: TenantRef | null }> {
  const id = externalIdOf(externalId);
  return db.transaction(async (tx) => {
    const source = await requireSource(tx, sourceName);
    const tenant = await requireTenant(tx, tenantIdOrSlug);
    await lockSourceTenant(tx, source.id, id);
    const previous = await upsertSourceTenant(tx, source.id, id, tenant);
    // Moves the source's version: every process drops the tenants it had found for this source.
    await touchSource(tx, source.id);
    const mapping = (await findSourceTenantMapping(tx, source.id, id))!;
    const previousTenant =
      previous && previous !== tenant.id ? await requireTenant(tx, previous).catch(() => null) : null;
    return { ...mapping, previousTenant };
  });
}

/** What other modules call (the demo): `setSourceTenant` without its answer. */
export async function mapSourceTenant(
  db: Db,
  sourceName: string,
  externalId: string,
  tenantId: string,
): Promise<void> {
  await setSourceTenant(db, sourceName, externalId, tenantId);
}

/** Forgets a mapping: the next push of that id creates a tenant, as for any unknown id. */
export async function unmapSourceTenant(db: Db, sourceName: string, externalId: string): Promise<void> {
  const id = externalIdOf(externalId);
  await db.transaction(async (tx) => {
    const source = await requireSource(tx, sourceName);
    await lockSourceTenant(tx, source.id, id);
    if (!(await deleteSourceTenant(tx, source.id, id)))
      throw AppError.notFound(`Tenant id "${id}" of this source`);
    await touchSource(tx, source.id);
  });
}

export async function listSourceTenants(db: Db, sourceName: string): Promise<SourceTenantMapping[]> {
  const source = await requireSource(db, sourceName);
  return listSourceTenantMappings(db, source.id);
}
