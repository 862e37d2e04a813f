import type { Queryable } from '../db/index.ts';

/**
 * Forgets event ids older than the retention window. They must outlive any sane retry
 * horizon (the default 7 days does): an id forgotten earlier would let a retry apply twice.
 */
export async function pruneEventIds(q: Queryable, retentionDays: number): Promise<number> {
  const result = await q.query(
    'DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(days => $1)',
    [retentionDays],
  );
  return result.rowCount;
}
