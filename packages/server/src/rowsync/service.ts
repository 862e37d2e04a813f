import { isUtf8 } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { type FullSyncBatch, type RowChange, type WebhookResult, webhookPayloadSchema } from '@syncdeck/core';
import type { FastifyBaseLogger } from 'fastify';
import type { SecretBox } from '../lib/secret-box.ts';
import { BatchedLookup } from '../db/batched-lookup.ts';
import type { Db, Queryable } from '../db/index.ts';
import { httpStatusOf } from '../http/errors.ts';
import { AppError, detailsFromZod } from '../lib/errors.ts';
import { insertTenant } from '../tenants/index.ts';
import { addsColumns, type ColumnType, columnsOf, isTimestamp, loadColumns } from '../synced/index.ts';
import { type SignatureHeaders, verifySignature } from './signature.ts';
import type { RowChangeWriter } from './writer.ts';
import { trackColumns } from './ddl.ts';
import { applyUnstagedBatch, claimDelivery, stageBatch } from './full-sync-batch.ts';
import { completeRun } from './full-sync-complete.ts';
import { type PushTarget, recordPush } from './push-log.ts';
import {
  findSourceByName,
  findSourceTenant,
  findSourceVersions,
  insertSourceTenant,
  lockSourceTenant,
  secretContext,
} from './sources.ts';
import { insertWebhookLog, type WebhookLogEntry } from './webhook-log.ts';

interface LoadedSource {
  id: string;
  name: string;
  schema: string;
  secrets: string[];
  tables: Map<string, string>;
}

interface PreparedRow {
  id: string;
  updatedAt: string | null;
  record: Record<string, unknown>;
}

function rejected(path: string, message: string): AppError {
  return new AppError('validation_failed', 'The payload is not valid', [{ path, message }]);
}

function prepareRow(record: Record<string, unknown>, path: string): PreparedRow {
  const id = record.id;
  if (
    !(
      (typeof id === 'string' && id.length > 0 && id.length <= 200) ||
      (typeof id === 'number' && Number.isSafeInteger(id))
    )
  )
    throw rejected(`${path}.id`, 'a string or integer (within ±2^53) primary key is required');
  const updatedAt = record.updated_at;
  if (
    updatedAt !== undefined &&
    updatedAt !== null &&
    !(typeof updatedAt === 'string' && isTimestamp(updatedAt))
  )
    throw rejected(`${path}.updated_at`, 'is not an ISO-8601 timestamp');
  return { id: String(id), updatedAt: (updatedAt as string | null | undefined) ?? null, record };
}

/** The batch as `jsonb_to_recordset` reads it; a key repeated within a batch keeps its last row. */
function recordSet(rows: PreparedRow[]): { json: string; count: number } {
  const byId = new Map(rows.map((row) => [row.id, row]));
  return {
    json: JSON.stringify([...byId.values()].map((row) => ({ id: row.id, u: row.updatedAt, d: row.record }))),
    count: byId.size,
  };
}

/** PostgreSQL's data exceptions (a NUL in a string, a number out of range): the sender's fault. */
function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('22');
}

export class RowSyncService {
  /** Sources as loaded (secrets opened), with the version they were loaded at. */
  private readonly sources = new Map<string, { source: LoadedSource; version: string }>();
  private readonly versions: BatchedLookup<string>;
  private readonly tenants = new Map<string, string>();
  /** Columns known to be tracked, per tenant and table: only ever a subset of the database's. */
  private readonly columns = new Map<string, Map<string, ColumnType>>();

  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
    /** Group commit for single-row changes. */
    private readonly writer: RowChangeWriter,
  ) {
    this.versions = new BatchedLookup((names) => findSourceVersions(db, names));
  }

  /**
   * The source as it is now. Its version is read for every webhook (one query for all those
   * arriving together), so a secret removed or a table remapped through any process applies
   * to the very next request; the secrets are opened again only when the version moved.
   */
  private async source(name: string): Promise<LoadedSource | null> {
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
    };
    // Loaded at this version or a later one: a later one only means one more load next time.
    this.sources.set(name, { source, version });
    return source;
  }

  /** The Syncdeck tenant of a source's tenant id; the first push of an unknown one creates it. */
  private async tenantFor(source: LoadedSource, externalId: string, log: FastifyBaseLogger): Promise<string> {
    const key = `${source.id}:${externalId}`;
    const cached = this.tenants.get(key);
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
    this.tenants.set(key, tenantId);
    return tenantId;
  }

  /**
   * The columns of these records when they add to (or widen) what is known to be tracked;
   * null when they do not, which is nearly always.
   */
  private async newColumns(
    tenantId: string,
    table: string,
    records: readonly Record<string, unknown>[],
  ): Promise<Map<string, ColumnType> | null> {
    const key = `${tenantId}:${table}`;
    let known = this.columns.get(key);
    if (!known) {
      known = await loadColumns(this.db, tenantId, table);
      this.columns.set(key, known);
    }
    return addsColumns(known, records) ? columnsOf(records) : null;
  }

  private remember(tenantId: string, table: string, columns: Map<string, ColumnType>): void {
    this.columns.set(`${tenantId}:${table}`, columns);
  }

  /**
   * Verifies the signature over the raw bytes before anything is parsed, then applies the
   * payload. Every attempt, refused or not, leaves one line in `webhook_logs`.
   */
  async receive(
    name: string,
    body: Buffer,
    headers: SignatureHeaders,
    startedAt: number,
    log: FastifyBaseLogger,
  ): Promise<WebhookResult> {
    const entry: Omit<WebhookLogEntry, 'result' | 'status' | 'durationMs' | 'error'> = {
      sourceName: name,
      sourceId: null,
      tenantId: null,
      externalTenantId: null,
      type: null,
      table: null,
      syncId: null,
      rows: 0,
      webhookId: null,
    };
    const elapsed = () => performance.now() - startedAt;
    const refuse = async (error: AppError): Promise<AppError> => {
      await insertWebhookLog(this.db, {
        ...entry,
        result: httpStatusOf(error.code) >= 500 ? 'failed' : 'rejected',
        status: httpStatusOf(error.code),
        durationMs: elapsed(),
        error:
          error.message +
          (error.details ? `: ${error.details.map((d) => `${d.path} ${d.message}`).join('; ')}` : ''),
      });
      return error;
    };

    const source = await this.source(name);
    if (!source) throw await refuse(AppError.notFound('Source'));
    entry.sourceId = source.id;
    const verified = verifySignature(body, headers, source.secrets);
    if (!verified.ok)
      throw await refuse(AppError.unauthorized(`The signature was refused: ${verified.reason}`));
    entry.webhookId = verified.webhookId;

    // JSON is UTF-8 (RFC 8259): decoding other bytes would quietly store U+FFFD in their place.
    if (!isUtf8(body))
      throw await refuse(new AppError('invalid_json', 'Body is not valid JSON: it is not UTF-8'));
    // Decoded once: parsed here, and a full sync's batch is staged from this same text.
    const text = body.toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw await refuse(new AppError('invalid_json', `Body is not valid JSON: ${(error as Error).message}`));
    }
    if (json && typeof json === 'object') {
      const raw = json as Record<string, unknown>;
      if (typeof raw.type === 'string') entry.type = raw.type;
      if (typeof raw.table === 'string') entry.table = raw.table;
      if (typeof raw.tenant_id === 'string' || typeof raw.tenant_id === 'number')
        entry.externalTenantId = String(raw.tenant_id);
    }
    const parsed = webhookPayloadSchema.safeParse(json);
    if (!parsed.success)
      throw await refuse(
        new AppError('validation_failed', 'The payload is not valid', detailsFromZod(parsed.error)),
      );
    const payload = parsed.data;
    const table = source.tables.get(payload.table);
    if (!table)
      throw await refuse(
        new AppError(
          'unmapped_table',
          `Source "${source.name}" has no mapping for table "${payload.table}"`,
          [
            {
              path: 'table',
              message: `map it with: syncdeck source map ${source.name} ${payload.table} TARGET`,
            },
          ],
        ),
      );
    entry.table = table;

    try {
      const prepared =
        payload.type === 'FULL_SYNC'
          ? payload.records.map((record, index) => prepareRow(record, `records.${index}`))
          : [this.prepareChange(payload)];
      const tenantId = await this.tenantFor(source, payload.tenant_id, log);
      entry.tenantId = tenantId;
      const target: PushTarget = {
        sourceId: source.id,
        sourceName: source.name,
        schema: source.schema,
        tenantId,
        externalTenantId: payload.tenant_id,
        table,
      };
      if (payload.type === 'FULL_SYNC')
        return await this.fullSync(target, payload, text, prepared, entry, elapsed);
      return await this.rowChange(target, payload, prepared[0]!, entry, startedAt);
    } catch (error) {
      if (error instanceof AppError) throw await refuse(error);
      if (isDataException(error))
        throw await refuse(
          new AppError('bad_data', `The database refused a value: ${(error as Error).message}`),
        );
      await refuse(new AppError('internal_error', (error as Error).message)).catch(() => {});
      throw error;
    }
  }

  private prepareChange(payload: RowChange): PreparedRow {
    if (payload.type === 'DELETE') {
      const record = payload.old_record ?? payload.record;
      if (!record) throw rejected('old_record', 'a DELETE needs old_record (or record) with the id');
      return prepareRow(record, payload.old_record ? 'old_record' : 'record');
    }
    if (!payload.record) throw rejected('record', `an ${payload.type} needs the record`);
    return prepareRow(payload.record, 'record');
  }

  private async rowChange(
    target: PushTarget,
    payload: RowChange,
    row: PreparedRow,
    entry: Omit<WebhookLogEntry, 'result' | 'status' | 'durationMs' | 'error'>,
    startedAt: number,
  ): Promise<WebhookResult> {
    const kind = payload.type === 'DELETE' ? ('delete' as const) : ('upsert' as const);
    const columns =
      kind === 'upsert' ? await this.newColumns(target.tenantId, target.table, [row.record]) : null;
    if (columns) {
      // Committed ahead of the change: a column known without rows yet is harmless, and the
      // view is then in place before the group commit writes the row.
      const tracked = await this.db.transaction((tx) => trackColumns(tx, target, columns));
      this.remember(target.tenantId, target.table, tracked);
    }
    const outcome = await this.writer.write({
      target,
      kind,
      type: payload.type,
      id: row.id,
      data: kind === 'delete' ? null : row.record,
      updatedAt: row.updatedAt,
      webhookId: entry.webhookId,
      startedAt,
    });
    return {
      success: true,
      result: outcome,
      type: payload.type,
      table: target.table,
      tenantId: target.tenantId,
      rows: outcome === 'applied' ? 1 : 0,
    };
  }

  private async fullSync(
    target: PushTarget,
    payload: FullSyncBatch,
    text: string,
    rows: PreparedRow[],
    entry: Omit<WebhookLogEntry, 'result' | 'status' | 'durationMs' | 'error'>,
    elapsed: () => number,
  ): Promise<WebhookResult> {
    entry.syncId = payload.sync_id;
    const newColumns = await this.newColumns(
      target.tenantId,
      target.table,
      rows.map((row) => row.record),
    );
    const staged = payload.total !== undefined || payload.is_last !== undefined;
    const outcome = await this.db.transaction((tx) =>
      staged
        ? this.stagedBatch(tx, target, payload, text, rows, newColumns, entry, elapsed)
        : this.unstagedBatch(tx, target, payload, recordSet(rows), newColumns, entry, elapsed),
    );
    if (outcome.tracked) this.remember(target.tenantId, target.table, outcome.tracked);
    return {
      success: true,
      result: outcome.result,
      type: 'FULL_SYNC',
      table: target.table,
      tenantId: target.tenantId,
      rows: outcome.count,
      fullSync: outcome.fullSync,
    };
  }

  /** A batch of a run with `total` or `is_last`: staged, and applied whole with the last one. */
  private async stagedBatch(
    tx: Queryable,
    target: PushTarget,
    payload: FullSyncBatch,
    text: string,
    rows: PreparedRow[],
    newColumns: Map<string, ColumnType> | null,
    entry: Omit<WebhookLogEntry, 'result' | 'status' | 'durationMs' | 'error'>,
    elapsed: () => number,
  ): Promise<BatchOutcome> {
    const distinct = new Set(rows.map((row) => row.id)).size;
    const log = () => ({
      sourceName: target.sourceName,
      externalTenantId: target.externalTenantId,
      webhookId: entry.webhookId,
      elapsedMs: elapsed(),
    });
    const run = await stageBatch(
      tx,
      target,
      {
        syncId: payload.sync_id,
        offset: payload.offset,
        size: payload.records.length,
        total: payload.total ?? null,
        isLast: payload.is_last === true,
        text,
        ids: rows.map((row) => row.id),
        distinct,
      },
      log(),
    );
    const fullSync = {
      syncId: payload.sync_id,
      received: run.received,
      total: run.total ?? payload.total ?? null,
      complete: run.complete || run.alreadyComplete,
      removed: 0,
    };
    if (!run.claimed)
      return { tracked: null, result: 'duplicate', count: 0, fullSync: { ...fullSync, complete: false } };
    if (run.alreadyComplete) return { tracked: null, result: 'duplicate', count: 0, fullSync };
    const tracked = newColumns ? await trackColumns(tx, target, newColumns) : null;
    if (!run.complete) return { tracked, result: 'staged', count: distinct, fullSync };
    const done = await completeRun(
      tx,
      target,
      { syncId: payload.sync_id, startedAt: run.startedAt!, distinct },
      log(),
    );
    return { tracked, result: 'applied', count: distinct, fullSync: { ...fullSync, removed: done.removed } };
  }

  /** The seed's full sync (neither `total` nor `is_last`): offset 0 clears the tenant's table. */
  private async unstagedBatch(
    tx: Queryable,
    target: PushTarget,
    payload: FullSyncBatch,
    set: { json: string; count: number },
    newColumns: Map<string, ColumnType> | null,
    entry: Omit<WebhookLogEntry, 'result' | 'status' | 'durationMs' | 'error'>,
    elapsed: () => number,
  ): Promise<BatchOutcome> {
    const finish = async (
      result: WebhookResult['result'],
      count: number,
      fullSync: NonNullable<WebhookResult['fullSync']>,
      tracked: Map<string, ColumnType> | null,
    ): Promise<BatchOutcome> => {
      await insertWebhookLog(tx, {
        ...entry,
        rows: count,
        result,
        status: 200,
        durationMs: elapsed(),
        error: null,
      });
      return { tracked, result, count, fullSync };
    };
    const fullSync = { syncId: payload.sync_id, received: 0, total: null, complete: false, removed: 0 };
    if (!(await claimDelivery(tx, target.sourceId, entry.webhookId)))
      return finish('duplicate', 0, fullSync, null);
    const tracked = newColumns ? await trackColumns(tx, target, newColumns) : null;
    const done = await applyUnstagedBatch(tx, target, payload.offset, set.json);
    await recordPush(tx, target, 'FULL_SYNC', done.applied + done.removed);
    return finish(
      'applied',
      done.applied,
      { ...fullSync, received: set.count, removed: done.removed },
      tracked,
    );
  }
}

interface BatchOutcome {
  tracked: Map<string, ColumnType> | null;
  result: WebhookResult['result'];
  count: number;
  fullSync: NonNullable<WebhookResult['fullSync']>;
}

/** A new tenant for a source's tenant id: slug `<source>-<id>` when free, else with a hash. */
async function createTenantFor(tx: Queryable, sourceName: string, externalId: string) {
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
