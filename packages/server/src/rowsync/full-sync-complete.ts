import { MAX_FULL_SYNC_BATCH } from '@syncdeck/core';
import type { Queryable } from '../db/index.ts';
import { staleChartsSql } from '../charts/index.ts';
import { dataTable } from '../synced/index.ts';
import { type BatchLog, DURATION } from './full-sync-batch.ts';
import { queryNamed } from './named-sql.ts';
import type { PushTarget } from './push-log.ts';

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
 * and the records are only expanded from their arrays, which is faster both on a first import
 * and over rows that did not change.
 *
 * Rows the table does not hold yet are inserted plainly and the others updated, rather than
 * upserted: `ON CONFLICT` costs each row a speculative insertion, a large part of a first
 * import's time. A row that a single change inserts meanwhile makes the plain insert fail;
 * then the writes run again with an upsert.
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
      h: log.deliveryKey?.slice(0, 200) ?? null,
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
  // generate_series rather than WITH ORDINALITY: the planner then expects a batch to hold many
  // rows and joins them to the stored rows by hashing; for the smaller estimate it probes the
  // index once per row, which is much slower over a large run.
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
