import type { Queryable } from '../db/index.ts';

/**
 * Deletes the feed's changes older than the retention window. A realtime client resuming from
 * a pruned seq is told to refetch (a `reset` frame) rather than silently given a gap.
 */
export async function pruneFeed(q: Queryable, retentionDays: number): Promise<number> {
  // The feed is pruned up to its first change inside the window, found walking seq's index from
  // the oldest: the changes walked past are the ones to delete, so no created_at index is needed.
  // created_at follows seq to within one transaction's duration.
  const result = await q.query(
    `DELETE FROM events WHERE seq < coalesce(
       (SELECT seq FROM events WHERE created_at >= now() - make_interval(days => $1) ORDER BY seq LIMIT 1),
       (SELECT max(seq) + 1 FROM events))`,
    [retentionDays],
  );
  return result.rowCount;
}
