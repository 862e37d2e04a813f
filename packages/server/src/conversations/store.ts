import type { Conversation, ConversationStats } from '@syncdeck/core';
import { PREPARED, type Queryable } from '../db/index.ts';
import { sqlParams } from '../db/params.ts';
import { decodeCursor, encodeCursor, sqlFromMicros, sqlMicros, timeKeySchema } from '../lib/pagination.ts';
import { customerSearchText, type SearchPatterns } from '../customers/index.ts';
import {
  CONVERSATION_JSON_COLUMNS,
  type ConversationRow,
  conversationObject,
  MESSAGE_JSON_COLUMNS,
} from '../ingest/index.ts';
import { appendFeed, type FeedEntry } from '../feed/index.ts';
import { CONVERSATION_COLUMNS, pushConversation } from '../ingest/index.ts';

/**
 * A page of a list the seed answers as a bare array, written by the database: `json` is the
 * array's JSON text, sent as it is; the cursor travels in a header.
 */
export interface JsonArrayPage {
  json: string;
  nextCursor: string | null;
}

/** The conversations list's sort key; the same expression as conversations_recent_idx. */
const SORT_AT = 'COALESCE(c.last_message_at, c.created_at)';

/** A list row: the object's JSON text and its sort key. */
type JsonRow = { json: string; sort_us: number; id: string };

const FROM_CONVERSATIONS = `FROM conversations c JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id`;

export interface ConversationFilter {
  status?: 'active' | 'closed' | undefined;
  botId?: string | undefined;
  search?: SearchPatterns | undefined;
  limit: number;
  offset?: number | undefined;
  cursor?: string | undefined;
}

/** Newest activity first; keyset by (last activity, id), or the seed's offset. */
export async function listConversations(
  q: Queryable,
  tenantId: string,
  filter: ConversationFilter,
): Promise<JsonArrayPage> {
  const { params, param } = sqlParams(tenantId);
  const where = ['c.tenant_id = $1'];
  if (filter.status) where.push(`c.status = ${param(filter.status)}`);
  if (filter.botId) where.push(`c.bot_id = ${param(filter.botId)}`);
  if (filter.cursor) {
    const [micros, id] = decodeCursor(filter.cursor, timeKeySchema);
    where.push(`(${SORT_AT}, c.id) < (${sqlFromMicros(param(micros))}, ${param(id)}::uuid)`);
  }
  if (filter.search) {
    const text = param(filter.search.text);
    const phone = param(filter.search.phone);
    const matches = customerSearchText('s');
    where.push(`(c.customer_id IN (SELECT s.id FROM customers s WHERE s.tenant_id = $1
                  AND (${matches} ILIKE ${text} OR ${matches} ILIKE ${phone}))
               OR c.id IN (SELECT m.conversation_id FROM messages m WHERE m.tenant_id = $1 AND m.content ILIKE ${text}))`);
  }
  const result = await q.query<JsonRow>(
    `SELECT row_to_json(o)::text AS json, ${sqlMicros(SORT_AT)} AS sort_us, c.id
     ${FROM_CONVERSATIONS}, LATERAL (SELECT ${CONVERSATION_JSON_COLUMNS}) o
     WHERE ${where.join(' AND ')}
     ORDER BY ${SORT_AT} DESC, c.id DESC
     ${limitOffset(filter.limit + 1, filter.offset, param)}`,
    params,
    // A search's plan depends on its pattern: planned each time.
    filter.search ? undefined : PREPARED,
  );
  return toJsonArrayPage(result.rows, filter.limit, false);
}

/**
 * The limit is written into the statement, not passed: with `LIMIT $n` PostgreSQL costs its
 * cached plan for an unknown share of the table, and plans every page again (a third of a
 * millisecond, and now and then a different plan). One prepared statement per page size, and
 * another for the seed's offset paging.
 */
function limitOffset(limit: number, offset: number | undefined, param: (value: unknown) => string): string {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`not a page size: ${limit}`);
  return offset ? `LIMIT ${limit} OFFSET ${param(offset)}` : `LIMIT ${limit}`;
}

/**
 * Trims the extra row fetched past `limit`, joins the rest's JSON (reversed first when fetched
 * newest first), and keys the next cursor on the last one fetched before the extra.
 */
function toJsonArrayPage(rows: JsonRow[], limit: number, reverse: boolean): JsonArrayPage {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  const nextCursor = rows.length > limit && last ? encodeCursor([last.sort_us, last.id]) : null;
  if (reverse) kept.reverse();
  return { json: `[${kept.map((row) => row.json).join(',')}]`, nextCursor };
}

async function conversationRow(q: Queryable, tenantId: string, id: string): Promise<ConversationRow | null> {
  const result = await q.query<ConversationRow>(
    `SELECT ${CONVERSATION_COLUMNS} ${FROM_CONVERSATIONS} WHERE c.tenant_id = $1 AND c.id = $2`,
    [tenantId, id],
  );
  return result.rows[0] ?? null;
}

export async function getConversation(
  q: Queryable,
  tenantId: string,
  id: string,
): Promise<Conversation | null> {
  const row = await conversationRow(q, tenantId, id);
  return row ? conversationObject(row) : null;
}

export interface MessagePageQuery {
  limit: number;
  offset?: number | undefined;
  /** Messages strictly after this cursor, oldest first. */
  after?: string | undefined;
  /** The `limit` messages just before this cursor (still answered oldest first). */
  before?: string | undefined;
  /** The newest `limit` messages (answered oldest first). */
  latest?: boolean | undefined;
}

/**
 * A conversation's messages, always answered oldest first. Going forward (no cursor, or
 * `after`) the next cursor is an `after` cursor; going back (`before`, `latest`) it is a
 * `before` cursor for the older messages. Null when the conversation is not the tenant's.
 */
export async function listMessages(
  q: Queryable,
  tenantId: string,
  conversationId: string,
  page: MessagePageQuery,
): Promise<JsonArrayPage | null> {
  const exists = await q.query('SELECT 1 FROM conversations WHERE tenant_id = $1 AND id = $2', [
    tenantId,
    conversationId,
  ]);
  if (exists.rowCount === 0) return null;
  const { params, param } = sqlParams(tenantId, conversationId);
  const where = ['m.tenant_id = $1', 'm.conversation_id = $2'];
  const backwards = Boolean(page.before || page.latest);
  if (page.after) {
    const [micros, id] = decodeCursor(page.after, timeKeySchema, 'after');
    where.push(`(m.created_at, m.id) > (${sqlFromMicros(param(micros))}, ${param(id)}::uuid)`);
  }
  if (page.before) {
    const [micros, id] = decodeCursor(page.before, timeKeySchema, 'before');
    where.push(`(m.created_at, m.id) < (${sqlFromMicros(param(micros))}, ${param(id)}::uuid)`);
  }
  const direction = backwards ? 'DESC' : 'ASC';
  const result = await q.query<JsonRow>(
    `SELECT row_to_json(o)::text AS json, ${sqlMicros('m.created_at')} AS sort_us, m.id
     FROM messages m, LATERAL (SELECT ${MESSAGE_JSON_COLUMNS}) o
     WHERE ${where.join(' AND ')}
     ORDER BY m.created_at ${direction}, m.id ${direction}
     ${limitOffset(page.limit + 1, page.offset, param)}`,
    params,
    PREPARED,
  );
  return toJsonArrayPage(result.rows, page.limit, backwards);
}

/** The tenant's counters, kept by triggers on conversations (migration 0004): a sum over at most 8 rows. */
export async function conversationStats(q: Queryable, tenantId: string): Promise<ConversationStats> {
  const result = await q.query<{ total: number; active: number; unread: number }>(
    `SELECT COALESCE(sum(total_conversations), 0)::bigint AS total,
            COALESCE(sum(active_conversations), 0)::bigint AS active,
            COALESCE(sum(total_unread), 0)::bigint AS unread
     FROM conversation_stats WHERE tenant_id = $1`,
    [tenantId],
    PREPARED,
  );
  const row = result.rows[0]!;
  return { totalConversations: row.total, activeConversations: row.active, totalUnread: row.unread };
}

/**
 * Clears the unread count and tells the change feed, in one transaction. Reading a
 * conversation that has nothing unread changes nothing and appends nothing.
 */
export async function markConversationRead(
  tx: Queryable,
  tenantId: string,
  id: string,
): Promise<Conversation | null> {
  const cleared = await tx.query(
    `UPDATE conversations SET unread_count = 0, updated_at = now()
     WHERE tenant_id = $1 AND id = $2 AND unread_count > 0`,
    [tenantId, id],
  );
  const row = await conversationRow(tx, tenantId, id);
  if (!row) return null;
  if (cleared.rowCount > 0) {
    const feed: FeedEntry[] = [];
    pushConversation(feed, row);
    await appendFeed(tx, feed);
  }
  return conversationObject(row);
}
