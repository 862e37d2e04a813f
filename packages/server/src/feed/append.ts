import { PREPARED, type Queryable, type QueryOptions } from '../db/index.ts';

/** One change to append to the feed when the transaction commits. */
export interface FeedEntry {
  tenantId: string;
  /** `<entity>.<what happened>`, e.g. `order.updated`. */
  type: string;
  entityId: string;
  payload: unknown;
}

/** Queues a change for the feed. Every wire object carries its id and tenant (`restaurantId`). */
export function recordChange(
  feed: FeedEntry[],
  type: string,
  payload: { id: string; restaurantId: string },
): void {
  feed.push({ tenantId: payload.restaurantId, type, entityId: payload.id, payload });
}

/** Told the new last seq at each COMMIT that appended to the feed, in every process (LISTEN). */
export const FEED_CHANNEL = 'syncdeck_feed';

/** Separates the payloads feed_append receives as one text; JSON text never holds it unescaped. */
const RECORD_SEPARATOR = '\u001e';

/**
 * Appends the transaction's changes to the feed and returns the last seq, in one statement:
 * the database's feed_append (migrations 0008 and 0010), which the row-sync push trigger uses
 * too. It locks the counter row until COMMIT, so sequence numbers become visible in order
 * across processes, and notifies FEED_CHANNEL at COMMIT.
 */
export async function appendFeed(
  tx: Queryable,
  entries: FeedEntry[],
  /** The transaction's last statement: COMMIT goes with it (QueryOptions.commit). */
  options: Pick<QueryOptions, 'commit'> = {},
): Promise<number | null> {
  if (entries.length === 0) return null;
  // The payloads go as one text rather than an array: escaping each for an array literal, and
  // unescaping it again in the database, would cost more than the rest of the append.
  const result = await tx.query<{ seq: number }>(
    'SELECT feed_append($1::uuid[], $2::text[], $3::uuid[], $4::text) AS seq',
    [
      entries.map((e) => e.tenantId),
      entries.map((e) => e.type),
      entries.map((e) => e.entityId),
      entries.map((e) => JSON.stringify(e.payload)).join(RECORD_SEPARATOR),
    ],
    { ...PREPARED, ...options },
  );
  return result.rows[0]!.seq;
}
