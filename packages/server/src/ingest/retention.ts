import { pruneExpiredSessions } from '../bot-sessions/store.ts';
import type { Queryable } from '../db/index.ts';
import { pruneRowSync } from '../rowsync/store.ts';

/**
 * Forgets event ids and feed entries older than the retention window, and bot sessions past
 * their own expiry. Event ids must outlive any sane retry horizon (the default 7 days does);
 * a realtime client resuming from a pruned seq is told to refetch rather than silently given a gap.
 */
export async function pruneExpired(
  q: Queryable,
  retentionDays: number,
): Promise<{
  eventIds: number;
  feed: number;
  sessions: number;
  rowSync: Awaited<ReturnType<typeof pruneRowSync>>;
}> {
  const eventIds = await q.query(
    'DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(days => $1)',
    [retentionDays],
  );
  // The feed is pruned up to its first change inside the window, found walking seq's index from
  // the oldest: the changes walked past are the ones to delete, so no created_at index is needed.
  // created_at follows seq to within one transaction's duration.
  const feed = await q.query(
    `DELETE FROM events WHERE seq < coalesce(
       (SELECT seq FROM events WHERE created_at >= now() - make_interval(days => $1) ORDER BY seq LIMIT 1),
       (SELECT max(seq) + 1 FROM events))`,
    [retentionDays],
  );
  const sessions = await pruneExpiredSessions(q);
  // Webhook and push logs, delivered webhook ids and abandoned full-sync runs share the window.
  const rowSync = await pruneRowSync(q, retentionDays);
  return { eventIds: eventIds.rowCount, feed: feed.rowCount, sessions, rowSync };
}
