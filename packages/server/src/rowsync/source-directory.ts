import type { FastifyBaseLogger } from 'fastify';
import { BatchedLookup } from '../db/batched-lookup.ts';
import type { Db } from '../db/index.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import { createTenantFor, findSourceTenant, insertSourceTenant, lockSourceTenant } from './source-tenants.ts';
import { findSourceByName, findSourceVersions, secretContext } from './sources.ts';

export interface LoadedSource {
  id: string;
  name: string;
  schema: string;
  secrets: string[];
  tables: Map<string, string>;
  /**
   * The Syncdeck tenants of its tenant ids, as found so far. Kept with the source, so a mapping
   * an admin changes (which moves the source's version) applies to the very next request.
   */
  tenants: Map<string, string>;
}

/**
 * The sources a process has loaded (their secrets opened) and the tenants of their tenant ids,
 * kept while the source's version holds.
 */
export class SourceDirectory {
  /** Sources as loaded, with the version they were loaded at. */
  private readonly sources = new Map<string, { source: LoadedSource; version: string }>();
  private readonly versions: BatchedLookup<string>;

  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
  ) {
    this.versions = new BatchedLookup((names) => findSourceVersions(db, names));
  }

  /**
   * The source as it is now. Its version is read for every webhook (one query for all those
   * arriving together), so a secret removed or a table remapped through any process applies
   * to the very next request; the secrets are opened again only when the version moved.
   */
  async source(name: string): Promise<LoadedSource | null> {
    const version = await this.versions.find(name);
    if (!version) {
      this.sources.delete(name);
      return null;
    }
    const cached = this.sources.get(name);
    if (cached?.version === version) return cached.source;
    const record = await findSourceByName(this.db, name);
    if (!record) {
      this.sources.delete(name);
      return null;
    }
    const source: LoadedSource = {
      id: record.id,
      name: record.name,
      schema: record.schema,
      secrets: record.secrets.map((s) => this.box.open(s.sealed, secretContext(record.name))),
      tables: new Map(record.tables.map((t) => [t.sourceTable, t.targetTable])),
      tenants: new Map(),
    };
    // Loaded at this version or a later one: a later one only means one more load next time.
    this.sources.set(name, { source, version });
    return source;
  }

  /** The Syncdeck tenant of a source's tenant id; the first push of an unknown one creates it. */
  async tenantFor(source: LoadedSource, externalId: string, log: FastifyBaseLogger): Promise<string> {
    const cached = source.tenants.get(externalId);
    if (cached) return cached;
    let tenantId = await findSourceTenant(this.db, source.id, externalId);
    if (!tenantId) {
      const made = await this.db.transaction(async (tx) => {
        await lockSourceTenant(tx, source.id, externalId);
        const existing = await findSourceTenant(tx, source.id, externalId);
        if (existing) return { id: existing, slug: null };
        const tenant = await createTenantFor(tx, source.name, externalId);
        await insertSourceTenant(tx, source.id, externalId, tenant.id);
        return { id: tenant.id, slug: tenant.slug };
      });
      if (made.slug)
        log.info(
          { source: source.name, externalTenantId: externalId, tenantId: made.id, slug: made.slug },
          'row sync: created a tenant for a source tenant id pushed for the first time',
        );
      tenantId = made.id;
    }
    source.tenants.set(externalId, tenantId);
    return tenantId;
  }
}
