import { MAX_FULL_SYNC_BATCH, type Source, type TableMapping, type WebhookLog } from '@syncdeck/core';
import { z } from 'zod';
import { type Db, PREPARED, type Queryable, type QueryOptions, type QueryResult } from '../db/index.ts';
import { AppError } from '../lib/errors.ts';
import { decodeCursor, type Page, sqlMicros, toPage } from '../lib/pagination.ts';
import { iso } from '../lib/time.ts';
import { staleChartsSql } from '../charts/index.ts';
import { sqlParams } from '../db/params.ts';
import {
  type ColumnType,
  columnExpression,
  columnIdent,
  dataTable,
  loadColumns,
  quoteLiteral,
  schemaIdent,
  tenantView,
} from '../synced/index.ts';

/** Serialises DDL on the sources' schemas, so two processes never create one table at once. */
const DDL_LOCK = 7_301_101;

// ---- sources ---------------------------------------------------------------------------------

export interface StoredSecret {
  fingerprint: string;
  sealed: string;
  createdAt: string;
}

export interface SourceRecord {
  id: string;
  name: string;
  schema: string;
  secrets: StoredSecret[];
  tables: TableMapping[];
  createdAt: string;
  updatedAt: string;
}

interface SourceRow {
  id: string;
  name: string;
  schema_name: string;
  created_at: Date;
  updated_at: Date;
  secrets: { fingerprint: string; sealed: string; created_at: string }[] | string;
  tables: TableMapping[] | string;
}

const SOURCE_SELECT = `SELECT s.id, s.name, s.schema_name, s.created_at, s.updated_at,
  COALESCE((SELECT json_agg(json_build_object('fingerprint', x.fingerprint, 'sealed', x.sealed,
      'created_at', x.created_at) ORDER BY x.created_at, x.fingerprint)
    FROM sync_source_secrets x WHERE x.source_id = s.id), '[]') AS secrets,
  COALESCE((SELECT json_agg(json_build_object('sourceTable', t.source_table, 'targetTable', t.target_table)
      ORDER BY t.source_table)
    FROM sync_source_tables t WHERE t.source_id = s.id), '[]') AS tables
  FROM sync_sources s`;

function toSourceRecord(row: SourceRow): SourceRecord {
  const secrets = typeof row.secrets === 'string' ? JSON.parse(row.secrets) : row.secrets;
  const tables = typeof row.tables === 'string' ? JSON.parse(row.tables) : row.tables;
  return {
    id: row.id,
    name: row.name,
    schema: row.schema_name,
    secrets: (secrets as { fingerprint: string; sealed: string; created_at: string }[]).map((s) => ({
      fingerprint: s.fingerprint,
      sealed: s.sealed,
      createdAt: new Date(s.created_at).toISOString(),
    })),
    tables: tables as TableMapping[],
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/** What the API shows of a source: never a secret, sealed or not. */
export function toSource(record: SourceRecord): Source {
  return {
    id: record.id,
    name: record.name,
    schema: record.schema,
    secrets: record.secrets.map(({ fingerprint, createdAt }) => ({ fingerprint, createdAt })),
    tables: record.tables,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export async function findSourceByName(q: Queryable, name: string): Promise<SourceRecord | null> {
  const result = await q.query<SourceRow>(`${SOURCE_SELECT} WHERE s.name = $1`, [name]);
  return result.rows[0] ? toSourceRecord(result.rows[0]) : null;
}

/**
 * Each named source's version: its `updated_at` in microseconds, which every change to its
 * secrets or mapping moves (touchSource). Sources that do not exist are left out.
 */
export async function findSourceVersions(q: Queryable, names: string[]): Promise<Map<string, string>> {
  const result = await q.query<{ name: string; version: string }>(
    `SELECT name, ${sqlMicros('updated_at')}::text AS version
     FROM sync_sources WHERE name = ANY($1::text[])`,
    [names],
    PREPARED,
  );
  return new Map(result.rows.map((row) => [row.name, row.version]));
}

export async function listSources(q: Queryable): Promise<SourceRecord[]> {
  const result = await q.query<SourceRow>(`${SOURCE_SELECT} ORDER BY s.name`);
  return result.rows.map(toSourceRecord);
}

/** Creates the source's schema and the live and staging tables of one target table. */
async function createDataTable(tx: Queryable, schema: string, table: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
  await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${schemaIdent(schema)};
    CREATE TABLE IF NOT EXISTS ${dataTable(schema, table)} (
      tenant_id uuid NOT NULL,
      id text NOT NULL,
      data jsonb NOT NULL,
      updated_at timestamptz,
      synced_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id)
    )`);
}

export async function insertSource(
  tx: Queryable,
  input: {
    name: string;
    schema: string;
    secret: { fingerprint: string; sealed: string };
    tables: TableMapping[];
  },
): Promise<void> {
  const taken = await tx.query<{ name: string; schema_name: string }>(
    'SELECT name, schema_name FROM sync_sources WHERE name = $1 OR schema_name = $2',
    [input.name, input.schema],
  );
  for (const row of taken.rows) {
    if (row.name === input.name)
      throw AppError.conflict(`A source named "${input.name}" already exists`, [
        { path: 'name', message: 'already taken' },
      ]);
    throw AppError.conflict(`Schema "${input.schema}" belongs to source "${row.name}"`, [
      { path: 'schema', message: 'already taken' },
    ]);
  }
  const inserted = await tx.query<{ id: string }>(
    'INSERT INTO sync_sources (name, schema_name) VALUES ($1, $2) RETURNING id',
    [input.name, input.schema],
  );
  const id = inserted.rows[0]!.id;
  await tx.query('INSERT INTO sync_source_secrets (source_id, fingerprint, sealed) VALUES ($1, $2, $3)', [
    id,
    input.secret.fingerprint,
    input.secret.sealed,
  ]);
  await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${schemaIdent(input.schema)}`);
  for (const mapping of input.tables)
    await mapTable(tx, { id, name: input.name, schema: input.schema }, mapping);
}

/** Maps a source table to a target table (replacing an earlier mapping of that source table). */
export async function mapTable(
  tx: Queryable,
  source: { id: string; name: string; schema: string },
  mapping: TableMapping,
): Promise<void> {
  const owner = await tx.query<{ name: string }>(
    `SELECT s.name FROM sync_source_tables t JOIN sync_sources s ON s.id = t.source_id
     WHERE t.target_table = $1 AND t.source_id <> $2 LIMIT 1`,
    [mapping.targetTable, source.id],
  );
  if (owner.rows[0]) {
    throw AppError.conflict(`Table "${mapping.targetTable}" belongs to source "${owner.rows[0].name}"`, [
      { path: 'targetTable', message: 'already used by another source' },
    ]);
  }
  await tx.query(
    `INSERT INTO sync_source_tables (source_id, source_table, target_table) VALUES ($1, $2, $3)
     ON CONFLICT (source_id, source_table) DO UPDATE SET target_table = EXCLUDED.target_table`,
    [source.id, mapping.sourceTable, mapping.targetTable],
  );
  await createDataTable(tx, source.schema, mapping.targetTable);
  await touchSource(tx, source.id);
}

export async function addSourceSecret(
  tx: Queryable,
  sourceId: string,
  secret: { fingerprint: string; sealed: string },
): Promise<void> {
  // Locks the source row, so two concurrent additions cannot both see one secret and make three.
  await tx.query('SELECT 1 FROM sync_sources WHERE id = $1 FOR UPDATE', [sourceId]);
  const existing = await tx.query<{ fingerprint: string }>(
    'SELECT fingerprint FROM sync_source_secrets WHERE source_id = $1',
    [sourceId],
  );
  if (existing.rows.some((row) => row.fingerprint === secret.fingerprint))
    throw AppError.conflict('This secret is already active', [{ path: 'secret', message: 'already active' }]);
  if (existing.rows.length >= 2)
    throw AppError.conflict('A source has at most two active secrets: remove the old one first', [
      { path: 'secret', message: 'two secrets are already active' },
    ]);
  await tx.query('INSERT INTO sync_source_secrets (source_id, fingerprint, sealed) VALUES ($1, $2, $3)', [
    sourceId,
    secret.fingerprint,
    secret.sealed,
  ]);
  await touchSource(tx, sourceId);
}

export async function removeSourceSecret(
  tx: Queryable,
  sourceId: string,
  fingerprint: string,
): Promise<void> {
  await tx.query('SELECT 1 FROM sync_sources WHERE id = $1 FOR UPDATE', [sourceId]);
  const existing = await tx.query<{ fingerprint: string }>(
    'SELECT fingerprint FROM sync_source_secrets WHERE source_id = $1',
    [sourceId],
  );
  if (!existing.rows.some((row) => row.fingerprint === fingerprint)) throw AppError.notFound('Secret');
  if (existing.rows.length === 1)
    throw AppError.conflict('A source needs one active secret: add the new one before removing the last', [
      { path: 'secret', message: 'is the only active secret' },
    ]);
  await tx.query('DELETE FROM sync_source_secrets WHERE source_id = $1 AND fingerprint = $2', [
    sourceId,
    fingerprint,
  ]);
  await touchSource(tx, sourceId);
}

async function touchSource(tx: Queryable, sourceId: string): Promise<void> {
  await tx.query('UPDATE sync_sources SET updated_at = now() WHERE id = $1', [sourceId]);
}

// ---- tenants of a source ------------------------------------------------------------------

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

/** Under a lock on (source, external id), so concurrent first pushes create one tenant. */
export async function lockSourceTenant(tx: Queryable, sourceId: string, externalId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`rowsync-tenant:${sourceId}:${externalId}`]);
}

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

// ---- columns and views --------------------------------------------------------------------

const WIDENED = `CASE WHEN a.data_type = EXCLUDED.data_type THEN a.data_type
  WHEN a.data_type = 'jsonb' OR EXCLUDED.data_type = 'jsonb' THEN 'jsonb' ELSE 'text' END`;

/**
 * Records the columns of a push and regenerates the tenant's view when its column set or a
 * column's type changed; otherwise the view is left alone. Returns the columns after the push.
 */
export async function trackColumns(
  tx: Queryable,
  target: { sourceId: string; schema: string; tenantId: string; table: string },
  columns: Map<string, ColumnType>,
): Promise<Map<string, ColumnType>> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
    `rowsync-view:${target.tenantId}:${target.table}`,
  ]);
  const changed = await tx.query(
    `INSERT INTO tenant_column_access AS a (tenant_id, source_id, table_name, column_name, data_type)
     SELECT $1, $2, $3, c.name, c.type FROM unnest($4::text[], $5::text[]) AS c(name, type)
     ON CONFLICT (tenant_id, table_name, column_name) DO UPDATE SET data_type = ${WIDENED}
     WHERE a.data_type <> ${WIDENED}
     RETURNING column_name`,
    [target.tenantId, target.sourceId, target.table, [...columns.keys()], [...columns.values()]],
  );
  const all = await loadColumns(tx, target.tenantId, target.table);
  if (changed.rowCount > 0) await regenerateView(tx, target, all);
  return all;
}

async function regenerateView(
  tx: Queryable,
  target: { schema: string; tenantId: string; table: string },
  columns: Map<string, ColumnType>,
): Promise<void> {
  const view = tenantView(target.tenantId, target.table);
  const list = [...columns].map(([name, type]) => columnExpression(name, type, columnIdent(name)));
  // Dropped and created rather than replaced: CREATE OR REPLACE cannot change a column's type.
  await tx.exec(`DROP VIEW IF EXISTS ${view};
    CREATE VIEW ${view} AS SELECT ${list.join(', ')}
    FROM ${dataTable(target.schema, target.table)} WHERE tenant_id = ${quoteLiteral(target.tenantId)}::uuid`);
}

// ---- applying changes ---------------------------------------------------------------------

export interface PushTarget {
  sourceId: string;
  sourceName: string;
  schema: string;
  tenantId: string;
  externalTenantId: string;
  table: string;
}

/** One INSERT/UPDATE/DELETE waiting for the group commit. */
export interface QueuedChange {
  target: PushTarget;
  kind: 'upsert' | 'delete';
  type: string;
  id: string;
  /** The record as the webhook sent it (null for a delete): serialised once, with its batch. */
  data: Record<string, unknown> | null;
  updatedAt: string | null;
  webhookId: string | null;
  /** `performance.now()` when the request arrived: the log line's duration runs until the write. */
  startedAt: number;
}

export type ChangeOutcome = 'applied' | 'ignored' | 'duplicate';

/**
 * Applies many single-row changes set-based. Changes to one row keep their order: a row
 * changed twice goes in two rounds. Each round is one statement that claims the webhook ids,
 * writes every table's upserts and deletes, logs the push, marks the charts over the pushed
 * tables stale and writes each change's webhook log line — so the common batch (one round)
 * is one round trip and one COMMIT, however many webhooks it answers. An update older than
 * the stored row changes nothing (`ignored`); a webhook id seen before is `duplicate`.
 */
export async function applyChangeBatch(db: Db, changes: QueuedChange[]): Promise<ChangeOutcome[]> {
  const rounds: number[][] = [];
  const lastRound = new Map<string, number>();
  const seenIds = new Set<string>();
  const knownDuplicates = new Set<number>();
  const place = (round: number, i: number) => {
    if (!rounds[round]) rounds[round] = [];
    rounds[round].push(i);
  };
  for (const [i, c] of changes.entries()) {
    if (c.webhookId) {
      const key = `${c.target.sourceId}:${c.webhookId}`;
      if (seenIds.has(key)) {
        knownDuplicates.add(i);
        place(0, i);
        continue;
      }
      seenIds.add(key);
    }
    const key = `${c.target.schema}.${c.target.table}:${c.target.tenantId}:${c.id}`;
    const round = (lastRound.get(key) ?? -1) + 1;
    lastRound.set(key, round);
    place(round, i);
  }
  const outcomes: ChangeOutcome[] = changes.map(() => 'ignored');
  const run = async (q: Queryable) => {
    for (const round of rounds) {
      const [sql, params] = roundStatement(changes, round, knownDuplicates);
      // Its text depends only on which tables and kinds the round holds: planned once per connection.
      const result = await q.query<{ k: number; result: ChangeOutcome }>(sql, params, PREPARED);
      for (const row of result.rows) outcomes[row.k] = row.result;
    }
  };
  if (rounds.length === 1) await run(db);
  else await db.transaction(run);
  return outcomes;
}

export function roundStatement(
  changes: QueuedChange[],
  round: number[],
  knownDuplicates: Set<number>,
): [string, unknown[]] {
  const groups = new Map<string, number>();
  const groupOf = new Map<number, number>();
  const writes: string[] = [];
  for (const i of round) {
    if (knownDuplicates.has(i)) continue;
    const c = changes[i]!;
    const key = `${c.kind}:${c.target.schema}:${c.target.table}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = groups.size;
      groups.set(key, g);
      const table = dataTable(c.target.schema, c.target.table);
      const claimed =
        'AND (a.h IS NULL OR EXISTS (SELECT 1 FROM dd WHERE dd.source_id = a.s AND dd.webhook_id = a.h))';
      writes.push(
        c.kind === 'upsert'
          ? `w${g} AS (INSERT INTO ${table} AS t (tenant_id, id, data, updated_at)
               SELECT a.t, a.id, a.d, a.u FROM rows a WHERE a.g = ${g} ${claimed} ORDER BY a.t, a.id
               ON CONFLICT (tenant_id, id) DO UPDATE
                 SET data = EXCLUDED.data, updated_at = EXCLUDED.updated_at, synced_at = now()
                 WHERE t.updated_at IS NULL OR EXCLUDED.updated_at IS NULL OR EXCLUDED.updated_at >= t.updated_at
               RETURNING ${g} AS g, t.tenant_id, t.id)`
          : `w${g} AS (DELETE FROM ${table} t USING rows a
               WHERE a.g = ${g} ${claimed} AND t.tenant_id = a.t AND t.id = a.id
               RETURNING ${g} AS g, t.tenant_id, t.id)`,
      );
    }
    groupOf.set(i, g);
  }
  const rows = round.map((i) => {
    const c = changes[i]!;
    return {
      k: i,
      g: groupOf.get(i) ?? null,
      s: c.target.sourceId,
      h: c.webhookId?.slice(0, 200) ?? null,
      t: c.target.tenantId,
      id: c.id,
      d: c.data,
      u: c.updatedAt,
      tb: c.target.table,
      ty: c.type,
      sn: c.target.sourceName,
      ext: c.target.externalTenantId.slice(0, 100),
      ms: performance.now() - c.startedAt,
      ig: c.kind === 'upsert' ? 'an older updated_at than the stored row' : 'no such row',
    };
  });
  const applied = writes.length
    ? [...groups.values()].map((g) => `SELECT g, tenant_id, id FROM w${g}`).join(' UNION ALL ')
    : 'SELECT NULL::int AS g, NULL::uuid AS tenant_id, NULL::text AS id WHERE false';
  const stale = staleChartsSql(
    "SELECT DISTINCT t AS tenant_id, tb AS table_name FROM outcome WHERE result = 'applied'",
  );
  const sql = `WITH rows AS MATERIALIZED (
      SELECT * FROM jsonb_to_recordset($1::jsonb) AS a(k int, g int, s uuid, h text, t uuid, id text, d jsonb,
        u timestamptz, tb text, ty text, sn text, ext text, ms float8, ig text)),
    dd AS (INSERT INTO webhook_deliveries (source_id, webhook_id)
      SELECT a.s, a.h FROM rows a WHERE a.g IS NOT NULL AND a.h IS NOT NULL
      ON CONFLICT DO NOTHING RETURNING source_id, webhook_id),
    ${writes.map((w) => `${w},`).join('\n')}
    applied AS (${applied}),
    outcome AS (SELECT a.*, CASE
        WHEN a.g IS NULL OR (a.h IS NOT NULL AND NOT EXISTS (
          SELECT 1 FROM dd WHERE dd.source_id = a.s AND dd.webhook_id = a.h)) THEN 'duplicate'
        WHEN EXISTS (SELECT 1 FROM applied p WHERE p.g = a.g AND p.tenant_id = a.t AND p.id = a.id) THEN 'applied'
        ELSE 'ignored' END AS result
      FROM rows a),
    logged AS (INSERT INTO webhook_logs (source_name, source_id, tenant_id, external_tenant_id, event_type,
        table_name, rows, result, status, duration_ms, error, webhook_id)
      SELECT sn, s, t, ext, ty, tb, CASE WHEN result = 'applied' THEN 1 ELSE 0 END, result, 200, ms,
        CASE WHEN result = 'ignored' THEN ig END, h
      FROM outcome RETURNING 1),
    pushed AS (INSERT INTO tenant_data_push_log (tenant_id, source_id, table_name, event_type, rows)
      SELECT t, s, tb, ty, count(*) FROM outcome WHERE result = 'applied' GROUP BY t, s, tb, ty RETURNING 1),
    stale AS (${stale} RETURNING 1)
    SELECT k, result FROM outcome`;
  return [sql, [JSON.stringify(rows)]];
}

/** Claims a webhook id inside a transaction; false when it was applied before. */
export async function claimDelivery(
  tx: Queryable,
  sourceId: string,
  webhookId: string | null,
): Promise<boolean> {
  if (!webhookId) return true;
  const result = await tx.query(
    'INSERT INTO webhook_deliveries (source_id, webhook_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1',
    [sourceId, webhookId],
  );
  return result.rowCount > 0;
}

/** Rows as `jsonb_to_recordset` reads them: `[{id, u, d}]`. */
export type RecordSet = string;

function recordset(param: string): string {
  return `jsonb_to_recordset(${param}::jsonb) AS x(id text, u timestamptz, d jsonb)`;
}

/** The seed's full sync (no `total`, no `is_last`): the first batch clears the tenant's table. */
export async function applyUnstagedBatch(
  tx: Queryable,
  target: PushTarget,
  offset: number,
  rows: RecordSet,
): Promise<{ applied: number; removed: number }> {
  const table = dataTable(target.schema, target.table);
  let removed = 0;
  if (offset === 0)
    removed = (await tx.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [target.tenantId])).rowCount;
  const upserted = await tx.query(
    `INSERT INTO ${table} AS t (tenant_id, id, data, updated_at) SELECT $1, x.id, x.d, x.u FROM ${recordset('$2')}
     ON CONFLICT (tenant_id, id) DO UPDATE SET data = EXCLUDED.data, updated_at = EXCLUDED.updated_at, synced_at = now()
     WHERE t.updated_at IS NULL OR EXCLUDED.updated_at IS NULL OR EXCLUDED.updated_at >= t.updated_at`,
    [target.tenantId, rows],
  );
  return { applied: upserted.rowCount, removed };
}

/** What a full-sync batch's log line says of the attempt, besides its outcome. */
export interface BatchLog {
  sourceName: string;
  externalTenantId: string;
  webhookId: string | null;
  /** Milliseconds from the request's arrival to the statement's start. */
  elapsedMs: number;
}

/** The log line's duration: until the statement that writes it ends, not until it starts. */
const DURATION = '$ms::float8 + 1000 * extract(epoch FROM clock_timestamp() - statement_timestamp())';

export interface StagedBatch {
  /** False when the batch's `webhook-id` was delivered before. */
  claimed: boolean;
  received: number;
  total: number | null;
  startedAt: Date | null;
  alreadyComplete: boolean;
  /** The run has all its rows with this batch: `completeRun` must follow in this transaction. */
  complete: boolean;
}

/**
 * Stages one batch of a full sync, in one statement: claims the webhook id, records the row
 * positions it covers on the run (under the run row's lock, so concurrent batches all count),
 * keeps its records as one row, and logs the attempt unless the run is now complete, in which
 * case the caller completes it in the same transaction. Readers still see the previous rows.
 */
export async function stageBatch(
  tx: Queryable,
  target: PushTarget,
  batch: {
    syncId: string;
    offset: number;
    /** Records as sent: the positions `offset` … `offset + size` are covered. */
    size: number;
    total: number | null;
    isLast: boolean;
    /**
     * The webhook's body as received (decoded): its `records` are staged as they are, not
     * re-serialised, and sent as text, which is half the size of bytea's hex on the wire.
     */
    text: string;
    /** Each record's key, in the records' order (so the run's keys are read without its records). */
    ids: string[];
    /** Distinct records, for the log. */
    distinct: number;
  },
  log: BatchLog,
): Promise<StagedBatch> {
  const values = {
    t: target.tenantId,
    s: target.sourceId,
    tb: target.table,
    sync: batch.syncId,
    total: batch.total,
    off: batch.offset,
    n: batch.size,
    last: batch.isLast,
    body: batch.text,
    ids: batch.ids,
    h: log.webhookId?.slice(0, 200) ?? null,
    sn: log.sourceName.slice(0, 100),
    ext: log.externalTenantId.slice(0, 100),
    distinct: batch.distinct,
    ms: log.elapsedMs,
  };
  const staged = await queryNamed<{
    claimed: boolean;
    received: number | null;
    total: number | null;
    started_at: Date | null;
    already_complete: boolean;
    complete: boolean;
  }>(
    tx,
    `WITH claim AS (
       INSERT INTO webhook_deliveries (source_id, webhook_id) SELECT $s, $h WHERE $h::text IS NOT NULL
       ON CONFLICT DO NOTHING RETURNING 1),
     claimed AS (SELECT $h::text IS NULL OR EXISTS (SELECT 1 FROM claim) AS ok),
     run AS (
       INSERT INTO full_sync_runs AS r (tenant_id, source_id, table_name, sync_id, total, covered, received)
       SELECT $t, $s, $tb, $sync, $total::int, int4multirange(int4range($off::int, $off::int + $n::int)), $n::int
       FROM claimed WHERE ok
       ON CONFLICT (tenant_id, table_name, sync_id) DO UPDATE SET
         total = COALESCE(EXCLUDED.total, r.total),
         covered = CASE WHEN r.completed_at IS NULL THEN r.covered + EXCLUDED.covered ELSE r.covered END,
         received = CASE WHEN r.completed_at IS NULL THEN (SELECT COALESCE(sum(upper(c) - lower(c)), 0)
           FROM unnest(r.covered + EXCLUDED.covered) AS c) ELSE r.received END,
         updated_at = now()
       RETURNING received, total, started_at, completed_at IS NOT NULL AS already_complete,
         completed_at IS NULL AND CASE WHEN total IS NOT NULL THEN received >= total ELSE $last::boolean END
           AS complete),
     stored AS (
       INSERT INTO full_sync_batches (tenant_id, table_name, sync_id, batch_offset, rows, records, ids)
       SELECT $t, $tb, $sync, $off, $n, $body::jsonb -> 'records', $ids::text[]
       FROM run WHERE NOT already_complete
       ON CONFLICT (tenant_id, table_name, sync_id, batch_offset)
         DO UPDATE SET rows = EXCLUDED.rows, records = EXCLUDED.records, ids = EXCLUDED.ids
       RETURNING 1),
     state AS (SELECT c.ok AS claimed, r.* FROM claimed c LEFT JOIN run r ON true),
     logged AS (
       INSERT INTO webhook_logs (source_name, source_id, tenant_id, external_tenant_id, event_type, table_name,
         sync_id, rows, result, status, duration_ms, error, webhook_id)
       SELECT $sn, $s, $t, $ext, 'FULL_SYNC', $tb, $sync,
         CASE WHEN claimed AND NOT already_complete THEN $distinct::int ELSE 0 END,
         CASE WHEN claimed AND NOT already_complete THEN 'staged' ELSE 'duplicate' END, 200, ${DURATION},
         CASE WHEN already_complete THEN 'the run is already complete'
           WHEN claimed AND $last::boolean AND total IS NOT NULL
             THEN format('is_last, but %s of %s rows have arrived: waiting for the rest', received, total) END,
         $h
       FROM state WHERE NOT COALESCE(complete, false)
       RETURNING 1)
     SELECT claimed, received, total, started_at, COALESCE(already_complete, false) AS already_complete,
       COALESCE(complete, false) AS complete
     FROM state`,
    values,
    PREPARED,
  );
  const row = staged.rows[0]!;
  return {
    claimed: row.claimed,
    received: row.received ?? 0,
    total: row.total,
    startedAt: row.started_at,
    alreadyComplete: row.already_complete,
    complete: row.complete,
  };
}

/**
 * The run's last batch has been staged: the tenant's rows the run did not carry are removed
 * (except ones written after the run began, which are newer than its snapshot), the rows it
 * carried are written (an older `updated_at` still loses, an identical row is left alone), its
 * batches are cleared, the run is closed, the push is logged, the charts over the table go stale
 * and the attempt is logged, all in the caller's transaction.
 *
 * Each write is a statement of its own that reads the staged batches again, rather than one
 * statement that pairs every staged row with its stored one first: that pairing was kept in
 * memory, each wide row copied once more, and a key sent twice was found by sorting all the
 * rows. Here the keys come from the batches' `ids`, a key sent twice is found by hashing them,
 * and the records are only expanded from their arrays (100,000 rows, the statements alone from
 * psql on this project's machine: a first import 1.2-1.5 s → 0.98 s, over unchanged rows
 * 1.0 s → 0.77 s).
 *
 * Rows the table does not hold yet are inserted plainly and the others updated, rather than
 * upserted: `ON CONFLICT` costs each row a speculative insertion, which was a third of the
 * time on a first import. A row that a single change inserts meanwhile makes the plain insert
 * fail; then the writes run again with an upsert.
 */
export async function completeRun(
  tx: Queryable,
  target: PushTarget,
  run: { syncId: string; startedAt: Date; distinct: number },
  log: BatchLog,
): Promise<{ applied: number; removed: number }> {
  const begun = performance.now();
  // A run's keys are hashed in memory rather than in temporary files.
  await tx.exec("SET LOCAL work_mem = '64MB'; SAVEPOINT complete_run");
  const values = {
    t: target.tenantId,
    tb: target.table,
    sync: run.syncId,
    started: run.startedAt,
  };
  let counts: { applied: number; removed: number };
  try {
    counts = await writeRunRows(tx, target, values, false);
    await tx.exec('RELEASE SAVEPOINT complete_run');
  } catch (error) {
    if ((error as { code?: string }).code !== '23505') throw error;
    await tx.exec('ROLLBACK TO SAVEPOINT complete_run');
    counts = await writeRunRows(tx, target, values, true);
  }
  await queryNamed(
    tx,
    `WITH cleared AS (
       DELETE FROM full_sync_batches WHERE tenant_id = $t AND table_name = $tb AND sync_id = $sync RETURNING 1),
     closed AS (
       UPDATE full_sync_runs SET completed_at = now()
       WHERE tenant_id = $t AND table_name = $tb AND sync_id = $sync RETURNING 1),
     pushed AS (
       INSERT INTO tenant_data_push_log (tenant_id, source_id, table_name, event_type, rows)
       VALUES ($t, $s, $tb, 'FULL_SYNC', $changed::int) RETURNING 1),
     stale AS (${staleChartsSql('SELECT $t::uuid AS tenant_id, $tb::text AS table_name')} RETURNING 1)
     INSERT INTO webhook_logs (source_name, source_id, tenant_id, external_tenant_id, event_type, table_name,
       sync_id, rows, result, status, duration_ms, webhook_id)
     VALUES ($sn, $s, $t, $ext, 'FULL_SYNC', $tb, $sync, $distinct::int, 'applied', 200, ${DURATION}, $h)`,
    {
      ...values,
      s: target.sourceId,
      changed: counts.applied + counts.removed,
      distinct: run.distinct,
      h: log.webhookId?.slice(0, 200) ?? null,
      sn: log.sourceName.slice(0, 100),
      ext: log.externalTenantId.slice(0, 100),
      ms: log.elapsedMs + (performance.now() - begun),
    },
  );
  return counts;
}

/**
 * A record's place in its run, to find which of a key's records is the last: its batch's
 * offset, then its position within the batch (a batch holds at most MAX_FULL_SYNC_BATCH).
 */
const placeInRun = (batch: string, n: string) =>
  `${batch}.batch_offset::bigint * ${MAX_FULL_SYNC_BATCH + 1} + ${n}`;

/** Removes, updates and inserts the run's rows in the live table; answers what changed. */
async function writeRunRows(
  tx: Queryable,
  target: PushTarget,
  values: { t: string; tb: string; sync: string; started: Date },
  upsert: boolean,
): Promise<{ applied: number; removed: number }> {
  const live = dataTable(target.schema, target.table);
  const ofRun = (b: string) => `${b}.tenant_id = $t AND ${b}.table_name = $tb AND ${b}.sync_id = $sync`;
  // The rule for a stored row: a newer (or undated) row that differs replaces it.
  const replaces = (stored: string, data: string, updatedAt: string) =>
    `(${stored}.updated_at IS NULL OR ${updatedAt} IS NULL OR ${updatedAt} >= ${stored}.updated_at)
     AND (${stored}.data <> ${data} OR ${stored}.updated_at IS DISTINCT FROM ${updatedAt})`;
  // A key sent twice is rare: the keys that were, with the place of their last record, are found
  // once (by hashing the run's keys) and given to the statements that read the records.
  const repeated = await queryNamed<{ id: string; last: string }>(
    tx,
    `SELECT k.id, max(${placeInRun('b', 'k.n')}) AS last
     FROM full_sync_batches b CROSS JOIN LATERAL unnest(b.ids) WITH ORDINALITY AS k(id, n)
     WHERE ${ofRun('b')}
     GROUP BY k.id HAVING count(*) > 1`,
    values,
  );
  const withRepeated = {
    ...values,
    repeated: repeated.rows.map((row) => row.id),
    last: repeated.rows.map((row) => row.last),
  };
  // The run's rows, each once: a repeated key keeps its last record. The records are numbered by
  // generate_series rather than WITH ORDINALITY: the planner then expects 1,000 rows a batch, not
  // 100, and joins them to the stored rows by hashing rather than one index probe per row (which
  // made updating 100,000 rows take 0.65 s instead of 0.37 s).
  const staged = `staged AS (
       SELECT r.id, r.d, (r.d ->> 'updated_at')::timestamptz AS u
       FROM full_sync_batches b
         CROSS JOIN LATERAL ROWS FROM (
           unnest(b.ids), jsonb_array_elements(b.records), generate_series(1, jsonb_array_length(b.records))
         ) AS r(id, d, n)
       WHERE ${ofRun('b')}
         AND NOT EXISTS (SELECT 1 FROM unnest($repeated::text[], $last::bigint[]) AS p(id, last)
                         WHERE p.id = r.id AND p.last > ${placeInRun('b', 'r.n')}))`;

  const removed = await queryNamed(
    tx,
    `WITH carried AS (
       SELECT k.id FROM full_sync_batches b CROSS JOIN LATERAL unnest(b.ids) AS k(id) WHERE ${ofRun('b')})
     DELETE FROM ${live} l
     WHERE l.tenant_id = $t AND l.synced_at < $started AND NOT EXISTS (SELECT 1 FROM carried c WHERE c.id = l.id)`,
    values,
  );
  if (upsert) {
    const upserted = await queryNamed(
      tx,
      `WITH ${staged}
       INSERT INTO ${live} AS t (tenant_id, id, data, updated_at) SELECT $t, s.id, s.d, s.u FROM staged s
       ON CONFLICT (tenant_id, id) DO UPDATE
         SET data = EXCLUDED.data, updated_at = EXCLUDED.updated_at, synced_at = now()
         WHERE ${replaces('t', 'EXCLUDED.data', 'EXCLUDED.updated_at')}`,
      withRepeated,
    );
    return { removed: removed.rowCount, applied: upserted.rowCount };
  }
  const updated = await queryNamed(
    tx,
    `WITH ${staged}
     UPDATE ${live} t SET data = s.d, updated_at = s.u, synced_at = now()
     FROM staged s WHERE t.tenant_id = $t AND t.id = s.id AND ${replaces('t', 's.d', 's.u')}`,
    withRepeated,
  );
  // A statement of its own after the update: its snapshot holds the rows stored until now.
  const inserted = await queryNamed(
    tx,
    `WITH ${staged}
     INSERT INTO ${live} (tenant_id, id, data, updated_at) SELECT $t, s.id, s.d, s.u FROM staged s
     WHERE NOT EXISTS (SELECT 1 FROM ${live} l WHERE l.tenant_id = $t AND l.id = s.id)`,
    withRepeated,
  );
  return { removed: removed.rowCount, applied: updated.rowCount + inserted.rowCount };
}

/**
 * SQL with `$name` placeholders turned positional, each name one parameter however often it
 * appears: a statement that reads a value in several places stays readable.
 */
function named(text: string, values: Record<string, unknown>): { sql: string; params: unknown[] } {
  const { params, param } = sqlParams();
  const index = new Map<string, string>();
  const sql = text.replace(/\$([a-z][a-z0-9_]*)/gi, (_, name: string) => {
    if (!(name in values)) throw new Error(`no value for $${name}`);
    let ref = index.get(name);
    if (!ref) {
      ref = param(values[name]);
      index.set(name, ref);
    }
    return ref;
  });
  return { sql, params };
}

/** Runs SQL written with `$name` placeholders (see `named`). */
function queryNamed<Row>(
  q: Queryable,
  text: string,
  values: Record<string, unknown>,
  options?: QueryOptions,
): Promise<QueryResult<Row>> {
  const { sql, params } = named(text, values);
  return q.query<Row>(sql, params, options);
}

/** After a change that readers can see: the push log and the charts over the table go stale. */
export async function recordPush(
  tx: Queryable,
  target: PushTarget,
  type: string,
  rows: number,
): Promise<void> {
  await tx.query(
    `WITH pushed AS (INSERT INTO tenant_data_push_log (tenant_id, source_id, table_name, event_type, rows)
       VALUES ($1, $2, $3, $4, $5) RETURNING 1)
     ${staleChartsSql('SELECT $1::uuid AS tenant_id, $3::text AS table_name')}`,
    [target.tenantId, target.sourceId, target.table, type, rows],
  );
}

// ---- webhook logs -------------------------------------------------------------------------

export interface WebhookLogEntry {
  sourceName: string;
  sourceId: string | null;
  tenantId: string | null;
  externalTenantId: string | null;
  type: string | null;
  table: string | null;
  syncId: string | null;
  rows: number;
  result: WebhookLog['result'];
  status: number;
  durationMs: number;
  error: string | null;
  webhookId: string | null;
}

export function insertWebhookLog(q: Queryable, entry: WebhookLogEntry): Promise<void> {
  return insertWebhookLogs(q, [entry]);
}

/** Several log lines in one statement; every text is cut to a bounded length. */
export async function insertWebhookLogs(q: Queryable, entries: WebhookLogEntry[]): Promise<void> {
  const rows = entries.map((entry) => ({
    source_name: entry.sourceName.slice(0, 100),
    source_id: entry.sourceId,
    tenant_id: entry.tenantId,
    external_tenant_id: entry.externalTenantId?.slice(0, 100) ?? null,
    event_type: entry.type?.slice(0, 40) ?? null,
    table_name: entry.table?.slice(0, 100) ?? null,
    sync_id: entry.syncId?.slice(0, 200) ?? null,
    rows: entry.rows,
    result: entry.result,
    status: entry.status,
    duration_ms: entry.durationMs,
    error: entry.error?.slice(0, 1000) ?? null,
    webhook_id: entry.webhookId?.slice(0, 200) ?? null,
  }));
  await q.query(
    `INSERT INTO webhook_logs (source_name, source_id, tenant_id, external_tenant_id, event_type, table_name,
       sync_id, rows, result, status, duration_ms, error, webhook_id)
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(source_name text, source_id uuid, tenant_id uuid,
       external_tenant_id text, event_type text, table_name text, sync_id text, rows int, result text,
       status int, duration_ms float8, error text, webhook_id text)`,
    [JSON.stringify(rows)],
  );
}

interface WebhookLogRow {
  id: string;
  source_name: string;
  tenant_id: string | null;
  external_tenant_id: string | null;
  event_type: string | null;
  table_name: string | null;
  sync_id: string | null;
  rows: number;
  result: WebhookLog['result'];
  status: number;
  duration_ms: number;
  error: string | null;
  created_at: Date;
  micros: number;
}

function toWebhookLog(row: WebhookLogRow): WebhookLog {
  return {
    id: row.id,
    source: row.source_name,
    tenantId: row.tenant_id,
    externalTenantId: row.external_tenant_id,
    type: row.event_type,
    table: row.table_name,
    syncId: row.sync_id,
    rows: row.rows,
    result: row.result,
    status: row.status,
    durationMs: Math.round(row.duration_ms * 1000) / 1000,
    error: row.error,
    createdAt: iso(row.created_at),
  };
}

const LOG_COLUMNS = `id, source_name, tenant_id, external_tenant_id, event_type, table_name, sync_id, rows, result,
  status, duration_ms, error, created_at, ${sqlMicros('created_at')} AS micros`;

const logCursor = z.tuple([z.number().int(), z.string().uuid()]);

/** One attempt; `tenantId` null finds any (a platform admin's view), else only that tenant's. */
export async function findWebhookLog(
  q: Queryable,
  id: string,
  tenantId: string | null,
): Promise<WebhookLog | null> {
  const result = await q.query<WebhookLogRow>(
    `SELECT ${LOG_COLUMNS} FROM webhook_logs WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2)`,
    [id, tenantId],
  );
  return result.rows[0] ? toWebhookLog(result.rows[0]) : null;
}

/** Newest first. `tenantId` null: every tenant's (and tenantless) attempts, for a platform admin. */
export async function listWebhookLogs(
  q: Queryable,
  filter: {
    tenantId: string | null;
    source?: string | undefined;
    result?: string | undefined;
    table?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  },
): Promise<Page<WebhookLog>> {
  const after = filter.cursor ? decodeCursor(filter.cursor, logCursor) : null;
  const result = await q.query<WebhookLogRow>(
    `SELECT ${LOG_COLUMNS}
     FROM webhook_logs
     WHERE ($1::uuid IS NULL OR tenant_id = $1)
       AND ($2::text IS NULL OR source_name = $2)
       AND ($3::text IS NULL OR result = $3)
       AND ($4::text IS NULL OR table_name = $4)
       AND ($5::bigint IS NULL OR (created_at, id) < (to_timestamp(0) + $5::bigint * interval '1 microsecond', $6::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $7`,
    [
      filter.tenantId,
      filter.source ?? null,
      filter.result ?? null,
      filter.table ?? null,
      after?.[0] ?? null,
      after?.[1] ?? null,
      filter.limit + 1,
    ],
  );
  return toPage(result.rows, filter.limit, toWebhookLog, (row) => [row.micros, row.id]);
}

/** The source schema a target table lives in, or null when no source maps to it. */
export async function findTargetTable(
  q: Queryable,
  table: string,
): Promise<{ sourceId: string; schema: string } | null> {
  const result = await q.query<{ source_id: string; schema_name: string }>(
    `SELECT t.source_id, s.schema_name FROM sync_source_tables t JOIN sync_sources s ON s.id = t.source_id
     WHERE t.target_table = $1 LIMIT 1`,
    [table],
  );
  const row = result.rows[0];
  return row ? { sourceId: row.source_id, schema: row.schema_name } : null;
}

// ---- retention ----------------------------------------------------------------------------

/** Webhook logs, push logs and delivered webhook ids past the window; abandoned full-sync runs. */
export async function pruneRowSync(
  q: Queryable,
  retentionDays: number,
): Promise<{ webhookLogs: number; pushLog: number; deliveries: number; abandonedRuns: number }> {
  const args = [retentionDays];
  const logs = await q.query(
    'DELETE FROM webhook_logs WHERE created_at < now() - make_interval(days => $1)',
    args,
  );
  const pushes = await q.query(
    'DELETE FROM tenant_data_push_log WHERE created_at < now() - make_interval(days => $1)',
    args,
  );
  const deliveries = await q.query(
    'DELETE FROM webhook_deliveries WHERE created_at < now() - make_interval(days => $1)',
    args,
  );
  const abandoned = await q.query<{ n: number }>(
    `WITH gone AS (
       DELETE FROM full_sync_runs WHERE completed_at IS NULL AND updated_at < now() - make_interval(days => $1)
       RETURNING tenant_id, table_name, sync_id),
     batches AS (
       DELETE FROM full_sync_batches b USING gone g
       WHERE b.tenant_id = g.tenant_id AND b.table_name = g.table_name AND b.sync_id = g.sync_id RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
    args,
  );
  await q.query('DELETE FROM full_sync_runs WHERE completed_at < now() - make_interval(days => $1)', args);
  return {
    webhookLogs: logs.rowCount,
    pushLog: pushes.rowCount,
    deliveries: deliveries.rowCount,
    abandonedRuns: abandoned.rows[0]!.n,
  };
}
