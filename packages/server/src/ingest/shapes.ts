import type { MessageAuthorType } from '@syncdeck/core';
import { iso, sqlIso } from '../lib/time.ts';
import { whatsappAddress } from '../lib/phones.ts';

/*
 * Rows as the wire shows them: camelCase, as the seed's dashboards read them
 * (`restaurantId` is the tenant). The change feed carries these same objects.
 */

export interface CustomerRow {
  tenant_id: string;
  id: string;
  display_name: string | null;
  phone: string | null;
  whatsapp_phone: string | null;
  telegram_chat_id: string | null;
  telegram_topic_id: string | null;
  telegram_group_id: string | null;
  syrve_customer_id: string | null;
  web_session_id: string | null;
  primary_channel: string | null;
  preferred_language: string | null;
  trust_level: string | null;
  first_seen_at: Date;
  last_seen_at: Date;
  created_at: Date;
  updated_at: Date;
}

export function customerObject(row: CustomerRow) {
  return {
    id: row.id,
    restaurantId: row.tenant_id,
    displayName: row.display_name,
    phone: row.phone,
    whatsappPhone: whatsappAddress(row.whatsapp_phone),
    telegramChatId: row.telegram_chat_id,
    telegramTopicId: row.telegram_topic_id,
    telegramGroupId: row.telegram_group_id,
    syrveCustomerId: row.syrve_customer_id,
    webSessionId: row.web_session_id,
    primaryChannel: row.primary_channel,
    preferredLanguage: row.preferred_language,
    trustLevel: row.trust_level,
    firstSeenAt: iso(row.first_seen_at),
    lastSeenAt: iso(row.last_seen_at),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export interface ConversationRow {
  tenant_id: string;
  id: string;
  bot_id: string;
  customer_id: string;
  status: 'active' | 'closed';
  is_bot_active: boolean;
  unread_count: number;
  message_count: number;
  last_message_at: Date | null;
  last_message_preview: string | null;
  created_at: Date;
  updated_at: Date;
  closed_at: Date | null;
  customer_phone: string | null;
  customer_name: string | null;
}

export function conversationObject(row: ConversationRow) {
  return {
    id: row.id,
    restaurantId: row.tenant_id,
    botId: row.bot_id,
    customerId: row.customer_id,
    customerPhone: whatsappAddress(row.customer_phone),
    customerName: row.customer_name,
    status: row.status,
    lastMessageAt: iso(row.last_message_at),
    lastMessagePreview: row.last_message_preview,
    unreadCount: row.unread_count,
    messageCount: row.message_count,
    isBotActive: row.is_bot_active,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    closedAt: iso(row.closed_at),
  };
}

/**
 * conversationObject as the database writes it, for lists: `row_to_json` over these columns of
 * conversation `c` and its customer `cu`, selected in a LATERAL subquery (JSON keeps their
 * order). Fifty conversations then never become rows, Dates and objects in the server only to
 * be written out again. The tests hold both builders to the same output.
 */
export const CONVERSATION_JSON_COLUMNS = `c.id, c.tenant_id AS "restaurantId", c.bot_id AS "botId",
  c.customer_id AS "customerId", 'whatsapp:' || cu.whatsapp_phone AS "customerPhone", cu.display_name AS "customerName",
  c.status, ${sqlIso('c.last_message_at')} AS "lastMessageAt", c.last_message_preview AS "lastMessagePreview",
  c.unread_count AS "unreadCount", c.message_count AS "messageCount", c.is_bot_active AS "isBotActive",
  ${sqlIso('c.created_at')} AS "createdAt", ${sqlIso('c.updated_at')} AS "updatedAt", ${sqlIso('c.closed_at')} AS "closedAt"`;

export interface MessageRow {
  tenant_id: string;
  id: string;
  conversation_id: string;
  direction: 'IN' | 'OUT';
  message_type: string;
  content: string;
  media_url: string | null;
  wa_sid: string | null;
  metadata: Record<string, unknown>;
  created_at: Date;
  /** Null on rows stored before authors were (migration 0016): read by direction. */
  author_type: MessageAuthorType | null;
  author_name: string | null;
}

export function messageObject(row: MessageRow) {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    restaurantId: row.tenant_id,
    direction: row.direction,
    messageType: row.message_type,
    content: row.content,
    mediaUrl: row.media_url,
    waSid: row.wa_sid,
    createdAt: iso(row.created_at),
    metadata: row.metadata,
    authorType: row.author_type ?? (row.direction === 'IN' ? 'customer' : 'bot'),
    authorName: row.author_name,
  };
}

/** messageObject as the database writes it, over message `m`; see CONVERSATION_JSON_COLUMNS. */
export const MESSAGE_JSON_COLUMNS = `m.id, m.conversation_id AS "conversationId", m.tenant_id AS "restaurantId",
  m.direction, m.message_type AS "messageType", m.content, m.media_url AS "mediaUrl", m.wa_sid AS "waSid",
  ${sqlIso('m.created_at')} AS "createdAt", m.metadata,
  COALESCE(m.author_type, CASE m.direction WHEN 'IN' THEN 'customer' ELSE 'bot' END) AS "authorType",
  m.author_name AS "authorName"`;

export interface OrderRow {
  tenant_id: string;
  id: string;
  syrve_order_id: string;
  customer_id: string;
  external_number: string | null;
  items: unknown[];
  total: number | null;
  delivery_address: string | null;
  payment_method: string | null;
  restaurant: string | null;
  channel: string | null;
  status: string;
  status_at: Date;
  created_at: Date;
  updated_at: Date;
}

export function orderObject(row: OrderRow) {
  return {
    id: row.id,
    restaurantId: row.tenant_id,
    syrveOrderId: row.syrve_order_id,
    customerId: row.customer_id,
    externalNumber: row.external_number,
    items: row.items,
    total: row.total,
    deliveryAddress: row.delivery_address,
    paymentMethod: row.payment_method,
    restaurant: row.restaurant,
    channel: row.channel,
    status: row.status,
    statusAt: iso(row.status_at),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export interface EscalationRow {
  tenant_id: string;
  id: string;
  customer_id: string;
  conversation_id: string | null;
  status: 'open' | 'resolved';
  reason: string | null;
  resolution_summary: string | null;
  resolved_by: string | null;
  metadata: Record<string, unknown>;
  opened_at: Date;
  resolved_at: Date | null;
}

export function escalationObject(row: EscalationRow) {
  return {
    id: row.id,
    restaurantId: row.tenant_id,
    customerId: row.customer_id,
    conversationId: row.conversation_id,
    status: row.status,
    reason: row.reason,
    resolutionSummary: row.resolution_summary,
    resolvedBy: row.resolved_by,
    metadata: row.metadata,
    openedAt: iso(row.opened_at),
    resolvedAt: iso(row.resolved_at),
  };
}
