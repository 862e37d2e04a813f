/** A batch's messages, stored set-based in their customers' active conversations. */
import { randomUUID } from 'node:crypto';
import { type MessageAuthorType, messageAuthor } from '@syncdeck/core';
import { PREPARED, type Queryable } from '../db/index.ts';
import type { PreparedEvent } from './prepare.ts';
import { type ConversationRow, type MessageRow, messageObject } from './shapes.ts';
import { type FeedEntry, recordChange } from '../feed/index.ts';
import { type BatchOutcome, CONVERSATION_COLUMNS, pushConversation, selectBoth } from './store.ts';
import { type MessageEvent, key } from './lookup.ts';

/** A message row's columns, as MessageRow has them. */
const MESSAGE_FIELDS = [
  'tenant_id',
  'id',
  'conversation_id',
  'direction',
  'message_type',
  'content',
  'media_url',
  'wa_sid',
  'metadata',
  'created_at',
  'author_type',
  'author_name',
] as const;

/** A message about to be stored, with the conversation it belongs in named by its bot and customer. */
interface MessageRowDraft {
  index: number;
  id: string;
  botId: string;
  customerId: string;
  event: MessageEvent;
  /** Who wrote it: the event's `sender`, the seed's `metadata.operator_name`, or its direction. */
  author: { type: MessageAuthorType; name: string | null };
}

export async function insertMessages(
  tx: Queryable,
  events: PreparedEvent[],
  indexes: number[],
  botOf: Map<number, string>,
  customerOf: Map<number, string>,
  outcomes: (BatchOutcome | undefined)[],
  feed: FeedEntry[],
) {
  // One row per provider message id: a redelivery inside the batch is a duplicate like any other.
  const seenSid = new Set<string>();
  let pending: MessageRowDraft[] = [];
  for (const index of indexes) {
    const event = events[index] as MessageEvent;
    if (event.data.wa_sid) {
      const sid = key(event.tenantId, event.data.wa_sid);
      if (seenSid.has(sid)) {
        outcomes[index] = { status: 'duplicate' };
        continue;
      }
      seenSid.add(sid);
    }
    pending.push({
      index,
      id: randomUUID(),
      botId: botOf.get(index)!,
      customerId: customerOf.get(index)!,
      event,
      author: messageAuthor(event.data),
    });
  }
  // Most messages go to a conversation already active: the first round stores them in one
  // statement. The rest wait for their conversations to be opened, and go in the next round.
  // A conversation another transaction opened meanwhile is neither seen nor opened by
  // openConversations: the round after finds it.
  for (let round = 0; pending.length > 0; round++) {
    if (round === 4) throw new Error('could not find or open the conversations of a batch');
    if (round > 0) await openConversations(tx, pending);
    const placed = await insertIntoActiveConversations(tx, pending, outcomes, feed);
    pending = pending.filter((row) => !placed.has(row.id));
  }
}

/** Opens an active conversation for each bot and customer of `rows` that has none. */
async function openConversations(tx: Queryable, rows: MessageRowDraft[]) {
  const pairs = new Map<string, { tenantId: string; botId: string; customerId: string }>();
  for (const { event, botId, customerId } of rows) {
    pairs.set(key(event.tenantId, botId, customerId), { tenantId: event.tenantId, botId, customerId });
  }
  const wanted = [...pairs.values()];
  await tx.query(
    `INSERT INTO conversations (tenant_id, bot_id, customer_id)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS w(tenant_id, bot_id, customer_id)
     ON CONFLICT (tenant_id, bot_id, customer_id) WHERE status = 'active' DO NOTHING`,
    [wanted.map((p) => p.tenantId), wanted.map((p) => p.botId), wanted.map((p) => p.customerId)],
    PREPARED,
  );
}

/**
 * Stores the messages whose customer has an active conversation with their bot, and moves
 * those conversations' counters and previews, in one statement. The conversations come back as
 * the feed shows them (with the customer's name and phone); a message already stored (same
 * wa_sid) counts nothing and answers duplicate. Returns the ids of the messages placed (stored
 * or duplicate); the others have no active conversation yet.
 */
async function insertIntoActiveConversations(
  tx: Queryable,
  rows: MessageRowDraft[],
  outcomes: (BatchOutcome | undefined)[],
  feed: FeedEntry[],
): Promise<Set<string>> {
  const { first: conversations, second: placed } = await selectBoth<
    ConversationRow,
    MessageRow & { stored: boolean }
  >(
    tx,
    `batch AS (
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[],
                            $8::text[], $9::text[], $10::jsonb[], $11::timestamptz[], $12::text[], $13::text[])
         WITH ORDINALITY
         AS b(tenant_id, id, bot_id, customer_id, direction, message_type, content, media_url, wa_sid, metadata,
              created_at, author_type, author_name, n)),
     placed AS (
       SELECT b.*, c.id AS conversation_id FROM batch b
       JOIN conversations c ON c.tenant_id = b.tenant_id AND c.bot_id = b.bot_id AND c.customer_id = b.customer_id
         AND c.status = 'active'),
     inserted AS (
       INSERT INTO messages (tenant_id, id, conversation_id, direction, message_type, content, media_url, wa_sid,
                             metadata, created_at, author_type, author_name)
       SELECT tenant_id, id, conversation_id, direction, message_type, content, media_url, wa_sid, metadata,
         created_at, author_type, author_name FROM placed
       ON CONFLICT (tenant_id, wa_sid) WHERE wa_sid IS NOT NULL DO NOTHING
       RETURNING ${MESSAGE_FIELDS.join(', ')}),
     outcome AS (
       SELECT ${MESSAGE_FIELDS.join(', ')}, true AS stored FROM inserted
       UNION ALL
       SELECT ${MESSAGE_FIELDS.map((f) => (f === 'id' ? 'id' : 'NULL')).join(', ')}, false
       FROM placed WHERE id NOT IN (SELECT id FROM inserted)),
     touched AS (
       SELECT i.tenant_id, i.conversation_id AS id, max(i.created_at) AS last_at,
         (array_agg(i.content ORDER BY i.created_at DESC, b.n DESC))[1] AS preview,
         count(*) FILTER (WHERE i.direction = 'IN') AS unread, count(*) AS count
       FROM inserted i JOIN batch b ON b.id = i.id
       GROUP BY i.tenant_id, i.conversation_id),
     updated AS (
       UPDATE conversations c SET
         last_message_at = GREATEST(c.last_message_at, u.last_at),
         last_message_preview = CASE WHEN c.last_message_at IS NULL OR u.last_at >= c.last_message_at
                                     THEN left(u.preview, 200) ELSE c.last_message_preview END,
         unread_count = c.unread_count + u.unread,
         message_count = c.message_count + u.count,
         updated_at = now()
       FROM touched u
       WHERE c.tenant_id = u.tenant_id AND c.id = u.id
       RETURNING c.*),
     -- Joined to their customers only once updated: each conversation is found by its key, a
     -- plan that stays right while the tables' statistics are still those of empty tables.
     updated_rows AS (
       SELECT ${CONVERSATION_COLUMNS} FROM updated c
       JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id)`,
    'updated_rows',
    'outcome',
    [...MESSAGE_FIELDS, 'stored'],
    [
      rows.map((r) => r.event.tenantId),
      rows.map((r) => r.id),
      rows.map((r) => r.botId),
      rows.map((r) => r.customerId),
      rows.map((r) => r.event.data.direction),
      rows.map((r) => r.event.data.message_type),
      rows.map((r) => r.event.data.content),
      rows.map((r) => r.event.data.media_url ?? null),
      rows.map((r) => r.event.data.wa_sid ?? null),
      rows.map((r) => JSON.stringify(r.event.data.metadata ?? {})),
      rows.map((r) => r.event.occurredAt),
      rows.map((r) => r.author.type),
      rows.map((r) => r.author.name),
    ],
  );
  const outcomeOf = new Map(placed.map((row) => [row.id, row]));
  for (const row of rows) {
    const message = outcomeOf.get(row.id);
    if (!message) continue;
    if (!message.stored) {
      outcomes[row.index] = { status: 'duplicate' };
      continue;
    }
    const { stored: _, ...stored } = message;
    outcomes[row.index] = { status: 'accepted' };
    recordChange(feed, 'message.created', messageObject(stored));
  }
  for (const row of conversations) pushConversation(feed, row);
  return new Set(outcomeOf.keys());
}
