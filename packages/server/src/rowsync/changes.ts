import { type Db, PREPARED, type Queryable } from '../db/index.ts';
import { staleChartsSql } from '../charts/index.ts';
import { dataTable } from '../synced/index.ts';
import type { PushTarget } from './push-log.ts';

/** One INSERT/UPDATE/DELETE waiting for the group commit. */
export interface QueuedChange {
  target: PushTarget;
  kind: 'upsert' | 'delete';
  type: string;
  id: string;
  /** The record as the webhook sent it (null for a delete): serialised once, with its batch. */
  data: Record<string, unknown> | null;
  updatedAt: string | null;
  deliveryKey: string | null;
  /** `performance.now()` when the request arrived: the log line's duration runs until the write. */
  startedAt: number;
}

export type ChangeOutcome = 'applied' | 'ignored' | 'duplicate';

/**
 * Applies many single-row changes set-based. Changes to one row keep their order: a row
 * changed twice goes in two rounds. Each round is one statement that claims the delivery keys,
 * writes every table's upserts and deletes, logs the push, marks the charts over the pushed
 * tables stale and writes each change's webhook log line — so the common batch (one round)
 * is one round trip and one COMMIT, however many webhooks it answers. An update older than
 * the stored row changes nothing (`ignored`); a delivery key seen before (see signature.ts) is `duplicate`.
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
    if (c.deliveryKey) {
      const key = `${c.target.sourceId}:${c.deliveryKey}`;
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
      h: c.deliveryKey?.slice(0, 200) ?? null,
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
