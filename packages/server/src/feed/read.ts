import type { Queryable } from '../db/index.ts';

/** A change as the feed stores it; its frame is `{"seq","type","data"}` with `data` = `json`. */
export interface StoredFeedEvent {
  seq: number;
  type: string;
  tenantId: string;
  /** The payload's JSON text as the writer stored it: sent on without parsing. */
  json: string;
  /** The WebSocket frame as sent, encoded by the first client that sends it (see frames.ts). */
  frame?: Buffer;
}

const FEED_COLUMNS = 'seq, tenant_id AS "tenantId", type, payload::text AS json';

/**
 * The last committed seq. The counter moves in the same transaction that appends the
 * changes, and holds its row lock until COMMIT, so everything up to it is visible, without gaps.
 */
export async function currentSeq(db: Queryable): Promise<number> {
  const result = await db.query<{ seq: number }>('SELECT seq FROM feed_counter WHERE id = 1');
  return result.rows[0]?.seq ?? 0;
}

/** The oldest seq still kept (older ones were pruned), or null when the feed is empty. */
export async function oldestRetainedSeq(db: Queryable): Promise<number | null> {
  const result = await db.query<{ seq: number | null }>('SELECT min(seq) AS seq FROM events');
  return result.rows[0]?.seq ?? null;
}

/** Every tenant's changes after `seq`, in order. */
export async function feedAfter(db: Queryable, seq: number, limit: number): Promise<StoredFeedEvent[]> {
  const result = await db.query<StoredFeedEvent>(
    `SELECT ${FEED_COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`,
    [seq, limit],
  );
  return result.rows;
}

/** One tenant's changes after `seq`, in order. */
export async function tenantFeedAfter(
  db: Queryable,
  tenantId: string,
  seq: number,
  limit: number,
): Promise<StoredFeedEvent[]> {
  const result = await db.query<StoredFeedEvent>(
    `SELECT ${FEED_COLUMNS} FROM events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    [tenantId, seq, limit],
  );
  return result.rows;
}
