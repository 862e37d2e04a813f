import { PREPARED, type Queryable } from '../db/index.ts';
import { dataTable } from '../synced/index.ts';
import { queryNamed } from './named-sql.ts';
import type { PushTarget } from './push-log.ts';

/** Claims a delivery key (see signature.ts) inside a transaction; false when it was applied before. */
export async function claimDelivery(
  tx: Queryable,
  sourceId: string,
  deliveryKey: string | null,
): Promise<boolean> {
  if (!deliveryKey) return true;
  const result = await tx.query(
    'INSERT INTO webhook_deliveries (source_id, webhook_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1',
    [sourceId, deliveryKey],
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
  deliveryKey: string | null;
  /** Milliseconds from the request's arrival to the statement's start. */
  elapsedMs: number;
}

/** The log line's duration: until the statement that writes it ends, not until it starts. */
export const DURATION = '$ms::float8 + 1000 * extract(epoch FROM clock_timestamp() - statement_timestamp())';

export interface StagedBatch {
  /** False when the batch's delivery key (its signed webhook id, or its body) was delivered before. */
  claimed: boolean;
  received: number;
  total: number | null;
  startedAt: Date | null;
  alreadyComplete: boolean;
  /** The run has all its rows with this batch: `completeRun` must follow in this transaction. */
  complete: boolean;
}

/**
 * Stages one batch of a full sync, in one statement: claims the delivery key, records the row
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
    h: log.deliveryKey?.slice(0, 200) ?? null,
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
