import type { Queryable } from '../db/index.ts';

/** Webhook logs, push logs and delivery keys past the window; abandoned full-sync runs. */
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
