/** Replies' SQL: the reply, its conversation and feed entries, and its delivery status. */
import { randomUUID } from 'node:crypto';
import type { Conversation, SentMessage } from '@syncdeck/core';
import {
  applyDeliveryReport,
  type DeliveryReport,
  type DeliveryState,
  isDeliveryStatus,
  type ReplyBot,
  type ReplyConversation,
} from '../channels/index.ts';
import type { Queryable } from '../db/index.ts';
import { appendFeed, type FeedEntry, recordChange } from '../feed/index.ts';
import {
  CONVERSATION_COLUMNS,
  type ConversationRow,
  conversationObject,
  type MessageRow,
  messageObject,
  pushConversation,
} from '../ingest/index.ts';

type SentMessageRow = MessageRow & {
  delivery_status: string | null;
  delivery_error_code: string | null;
  delivery_error: string | null;
  client_id: string | null;
};

const MESSAGE_COLUMNS = `tenant_id, id, conversation_id, direction, message_type, content, media_url, wa_sid, metadata,
  created_at, author_type, author_name, delivery_status, delivery_error_code, delivery_error, client_id`;

export function sentMessageObject(row: SentMessageRow): SentMessage {
  return {
    ...messageObject(row),
    deliveryStatus: isDeliveryStatus(row.delivery_status) ? row.delivery_status : null,
    deliveryErrorCode: row.delivery_error_code,
    deliveryError: row.delivery_error,
    clientId: row.client_id,
  };
}

/** What a reply needs to know about its conversation and bot: never a secret, only whether one exists. */
export interface ReplyTarget {
  conversation: ReplyConversation;
  bot: ReplyBot;
}

export async function findReplyTarget(
  q: Queryable,
  tenantId: string,
  conversationId: string,
): Promise<ReplyTarget | null> {
  const result = await q.query<{
    id: string;
    whatsapp_phone: string | null;
    telegram_chat_id: string | null;
    bot_id: string;
    channel: ReplyBot['channel'];
    address: string;
    has_twilio: boolean;
  }>(
    `SELECT c.id, cu.whatsapp_phone, cu.telegram_chat_id, b.id AS bot_id, b.channel, b.address,
       (b.account_sid IS NOT NULL AND b.auth_token_encrypted IS NOT NULL) AS has_twilio
     FROM conversations c
     JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id
     JOIN bots b ON b.tenant_id = c.tenant_id AND b.id = c.bot_id
     WHERE c.tenant_id = $1 AND c.id = $2`,
    [tenantId, conversationId],
  );
  const row = result.rows[0];
  if (!row) return null;
  return {
    conversation: {
      id: row.id,
      channel: row.channel,
      customer: { whatsappPhone: row.whatsapp_phone, telegramChatId: row.telegram_chat_id },
    },
    bot: {
      id: row.bot_id,
      channel: row.channel,
      whatsappNumber: row.address,
      hasTwilioCredentials: row.has_twilio,
    },
  };
}

export async function findByClientId(
  q: Queryable,
  tenantId: string,
  conversationId: string,
  clientId: string,
): Promise<SentMessage | null> {
  const result = await q.query<SentMessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE tenant_id = $1 AND conversation_id = $2 AND client_id = $3`,
    [tenantId, conversationId, clientId],
  );
  return result.rows[0] ? sentMessageObject(result.rows[0]) : null;
}

export interface NewReply {
  tenantId: string;
  conversationId: string;
  content: string;
  mediaUrl: string | null;
  clientId: string | null;
  author: { type: 'agent' | 'bot'; name: string | null; userId: string | null };
  /** Whether the reply hands the conversation to a person. */
  handOver: boolean;
  /** null: nothing to deliver (the web widget reads the feed), so it is sent as it is stored. */
  deliveryStatus: 'queued' | 'sent';
}

/**
 * Stores the reply and moves its conversation (counters, preview, who handles it) as ingest does
 * for an outbound message, and queues both changes for the feed. Null when the same clientId
 * was stored meanwhile by a concurrent request.
 */
export async function insertReply(
  tx: Queryable,
  reply: NewReply,
  feed: FeedEntry[],
): Promise<{ message: SentMessage; conversation: Conversation } | null> {
  const inserted = await tx.query<SentMessageRow>(
    `INSERT INTO messages (tenant_id, id, conversation_id, direction, message_type, content, media_url, metadata,
       created_at, author_type, author_name, author_user_id, client_id, delivery_status)
     VALUES ($1, $2, $3, 'OUT', $4, $5, $6, '{}', now(), $7, $8, $9, $10, $11)
     ON CONFLICT (tenant_id, conversation_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
     RETURNING ${MESSAGE_COLUMNS}`,
    [
      reply.tenantId,
      randomUUID(),
      reply.conversationId,
      reply.mediaUrl ? 'image' : 'text',
      reply.content,
      reply.mediaUrl,
      reply.author.type,
      reply.author.name,
      reply.author.userId,
      reply.clientId,
      reply.deliveryStatus,
    ],
  );
  const row = inserted.rows[0];
  if (!row) return null;
  const updated = await tx.query<ConversationRow>(
    `WITH updated AS (
       UPDATE conversations c SET
         last_message_at = GREATEST(c.last_message_at, $3),
         last_message_preview = CASE WHEN c.last_message_at IS NULL OR $3 >= c.last_message_at
                                     THEN left($4, 200) ELSE c.last_message_preview END,
         message_count = c.message_count + 1,
         is_bot_active = CASE WHEN $5 THEN false ELSE c.is_bot_active END,
         updated_at = now()
       WHERE c.tenant_id = $1 AND c.id = $2
       RETURNING c.*)
     SELECT ${CONVERSATION_COLUMNS} FROM updated c
     JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id`,
    [reply.tenantId, reply.conversationId, row.created_at, row.content, reply.handOver],
  );
  const message = sentMessageObject(row);
  recordChange(feed, 'message.created', message);
  pushConversation(feed, updated.rows[0]!);
  return { message, conversation: conversationObject(updated.rows[0]!) };
}

/** Hands the conversation back to its bot; null when there is no such conversation. */
export async function handBack(tx: Queryable, tenantId: string, id: string): Promise<Conversation | null> {
  const changed = await tx.query<ConversationRow>(
    `WITH updated AS (
       UPDATE conversations c SET is_bot_active = true, updated_at = now()
       WHERE c.tenant_id = $1 AND c.id = $2 AND NOT c.is_bot_active
       RETURNING c.*)
     SELECT ${CONVERSATION_COLUMNS} FROM updated c
     JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id`,
    [tenantId, id],
  );
  if (changed.rows[0]) {
    const feed: FeedEntry[] = [];
    pushConversation(feed, changed.rows[0]);
    await appendFeed(tx, feed);
    return conversationObject(changed.rows[0]);
  }
  const current = await tx.query<ConversationRow>(
    `SELECT ${CONVERSATION_COLUMNS} FROM conversations c
     JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id
     WHERE c.tenant_id = $1 AND c.id = $2`,
    [tenantId, id],
  );
  return current.rows[0] ? conversationObject(current.rows[0]) : null;
}

/** A message Syncdeck sent, found by the provider's id for it (a status callback's MessageSid). */
export async function findSentByProviderId(
  q: Queryable,
  providerMessageId: string,
): Promise<{ tenantId: string; messageId: string; botId: string } | null> {
  const result = await q.query<{ tenant_id: string; id: string; bot_id: string }>(
    `SELECT m.tenant_id, m.id, c.bot_id FROM messages m
     JOIN conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id
     WHERE m.provider_message_id = $1`,
    [providerMessageId],
  );
  const row = result.rows[0];
  return row ? { tenantId: row.tenant_id, messageId: row.id, botId: row.bot_id } : null;
}

/**
 * Merges a delivery report into a message's status (by the order of channels/delivery-status.ts,
 * never backwards) under a row lock, so concurrent reports in any process end the same; a change
 * goes on the feed as `message.updated`. `providerMessageId` is recorded when the message has none.
 */
export async function applyReport(
  tx: Queryable,
  tenantId: string,
  messageId: string,
  report: DeliveryReport,
  providerMessageId: string | null = null,
): Promise<boolean> {
  const current = await tx.query<{
    delivery_status: string | null;
    delivery_error_code: string | null;
    delivery_error: string | null;
  }>(
    `SELECT delivery_status, delivery_error_code, delivery_error FROM messages
     WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
    [tenantId, messageId],
  );
  const row = current.rows[0];
  if (!row) return false;
  const state: DeliveryState | null = isDeliveryStatus(row.delivery_status)
    ? { status: row.delivery_status, errorCode: row.delivery_error_code, errorReason: row.delivery_error }
    : null;
  const { changed, state: next } = applyDeliveryReport(state, report);
  if (!changed && !providerMessageId) return false;
  const updated = await tx.query<SentMessageRow>(
    `UPDATE messages SET delivery_status = $3, delivery_error_code = $4, delivery_error = $5,
       provider_message_id = COALESCE(provider_message_id, $6)
     WHERE tenant_id = $1 AND id = $2
     RETURNING ${MESSAGE_COLUMNS}`,
    [tenantId, messageId, next.status, next.errorCode, next.errorReason, providerMessageId],
  );
  if (changed) {
    const feed: FeedEntry[] = [];
    recordChange(feed, 'message.updated', sentMessageObject(updated.rows[0]!));
    await appendFeed(tx, feed);
  }
  return changed;
}

/** The sealed Twilio credentials of a bot, for the outbox's sender lookup. */
export async function findTwilioCredentials(
  q: Queryable,
  tenantId: string,
  botId: string,
): Promise<{ accountSid: string; sealedAuthToken: string; address: string } | null> {
  const result = await q.query<{
    account_sid: string | null;
    auth_token_encrypted: string | null;
    address: string;
  }>('SELECT account_sid, auth_token_encrypted, address FROM bots WHERE tenant_id = $1 AND id = $2', [
    tenantId,
    botId,
  ]);
  const row = result.rows[0];
  if (!row?.account_sid || !row.auth_token_encrypted) return null;
  return { accountSid: row.account_sid, sealedAuthToken: row.auth_token_encrypted, address: row.address };
}
