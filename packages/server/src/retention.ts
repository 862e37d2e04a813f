import { pruneExpiredSessions } from './bot-sessions/index.ts';
import type { Queryable } from './db/index.ts';
import { pruneFeed } from './feed/index.ts';
import { pruneEventIds } from './ingest/index.ts';
import { pruneOutbox } from './outbox/index.ts';
import { pruneRowSync } from './rowsync/index.ts';

/**
 * Forgets what each module keeps only for the retention window (event ids, feed changes,
 * webhook and push logs, delivered webhook ids, abandoned full-sync runs, finished outbox
 * deliveries with their attempts), and bot sessions past their own expiry.
 */
export async function pruneExpired(
  q: Queryable,
  retentionDays: number,
): Promise<{
  eventIds: number;
  feed: number;
  sessions: number;
  rowSync: Awaited<ReturnType<typeof pruneRowSync>>;
  outbox: number;
}> {
  const eventIds = await pruneEventIds(q, retentionDays);
  const feed = await pruneFeed(q, retentionDays);
  const sessions = await pruneExpiredSessions(q);
  const rowSync = await pruneRowSync(q, retentionDays);
  // Only finished deliveries: a queued one is a reply still owed, however old.
  const outbox = await pruneOutbox(q, new Date(Date.now() - retentionDays * 24 * 60 * 60 * 1000));
  return { eventIds, feed, sessions, rowSync, outbox };
}
