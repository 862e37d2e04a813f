import { z } from 'zod';
import { storableString } from './fields.ts';
import { channelSchema, messageAuthorTypes } from './ingest.ts';
import { conversationStatuses, escalationStatuses, timelineEntryTypes } from './constants.ts';

/*
 * What the dashboard reads: the seed's `/api/db/*` objects (camelCase, `restaurantId` is the
 * tenant) and the customers, orders and escalations around them. The change feed carries
 * these same objects, so a live update replaces a fetched row as it is.
 */

const timestamp = z.string().describe('ISO 8601');

export const conversationSchema = z.object({
  id: z.string().uuid(),
  restaurantId: z.string().uuid(),
  botId: z.string().uuid(),
  customerId: z.string().uuid(),
  customerPhone: z.string().nullable().describe('`whatsapp:+E164`; null for a customer known by no phone'),
  customerName: z.string().nullable(),
  status: z.enum(conversationStatuses),
  lastMessageAt: timestamp.nullable(),
  lastMessagePreview: z.string().nullable(),
  unreadCount: z.number().int(),
  messageCount: z.number().int(),
  isBotActive: z.boolean().describe('false while a human handles the conversation'),
  createdAt: timestamp,
  updatedAt: timestamp,
  closedAt: timestamp.nullable(),
});
export type Conversation = z.infer<typeof conversationSchema>;

export const messageSchema = z.object({
  id: z.string().uuid(),
  conversationId: z.string().uuid(),
  restaurantId: z.string().uuid(),
  direction: z.enum(['IN', 'OUT']),
  messageType: z.string(),
  content: z.string(),
  mediaUrl: z.string().nullable(),
  waSid: z.string().nullable(),
  createdAt: timestamp,
  metadata: z.record(z.string(), z.unknown()),
  authorType: z
    .enum(messageAuthorTypes)
    .describe('Who wrote it: the customer, the bot, or a person (an agent) answering through the bot'),
  authorName: z.string().nullable().describe("The agent's (or bot's) name, when the sender gave one"),
});
export type Message = z.infer<typeof messageSchema>;

/** A sent message's delivery status; the order reports merge in is the server's channels/delivery-status.ts. */
export const messageDeliveryStatuses = [
  'queued',
  'sending',
  'sent',
  'failed',
  'undelivered',
  'delivered',
  'read',
] as const;

/** A message Syncdeck sends (an operator's reply), with how far its delivery has got. */
export const sentMessageSchema = messageSchema.extend({
  deliveryStatus: z
    .enum(messageDeliveryStatuses)
    .nullable()
    .describe('null for a message Syncdeck did not send'),
  deliveryErrorCode: z.string().nullable().describe("The provider's error code, for a failed delivery"),
  deliveryError: z.string().nullable().describe('A readable reason, for a failed delivery'),
  clientId: z.string().nullable().describe("The sender's id for the reply, which makes a retry idempotent"),
});
export type SentMessage = z.infer<typeof sentMessageSchema>;

/** `POST /api/conversations/:id/messages`: an operator's reply. */
export const replyBodySchema = z
  .object({
    content: storableString().max(4096).describe('The text; may be empty when mediaUrl is given'),
    mediaUrl: storableString().max(2048).optional().describe('An http(s) URL the provider fetches'),
    clientId: storableString()
      .min(1)
      .max(200)
      .optional()
      .describe('Repeat it on a retry: stored and sent once'),
  })
  .strict();
export type ReplyBody = z.infer<typeof replyBodySchema>;

export const conversationStatsSchema = z.object({
  totalConversations: z.number().int(),
  activeConversations: z.number().int(),
  totalUnread: z.number().int(),
});
export type ConversationStats = z.infer<typeof conversationStatsSchema>;

export const customerSchema = z.object({
  id: z.string().uuid(),
  restaurantId: z.string().uuid(),
  displayName: z.string().nullable(),
  phone: z.string().nullable(),
  whatsappPhone: z.string().nullable(),
  telegramChatId: z.string().nullable(),
  telegramTopicId: z.string().nullable(),
  telegramGroupId: z.string().nullable(),
  syrveCustomerId: z.string().nullable(),
  webSessionId: z.string().nullable(),
  primaryChannel: z.string().nullable(),
  preferredLanguage: z.string().nullable(),
  trustLevel: z.string().nullable(),
  firstSeenAt: timestamp,
  lastSeenAt: timestamp,
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Customer = z.infer<typeof customerSchema>;

export const orderStatusChangeSchema = z.object({
  status: z.string(),
  occurredAt: timestamp,
});

export const orderSchema = z.object({
  id: z.string().uuid(),
  restaurantId: z.string().uuid(),
  syrveOrderId: z.string(),
  customerId: z.string().uuid(),
  externalNumber: z.string().nullable(),
  items: z.array(z.unknown()),
  total: z.number().nullable(),
  deliveryAddress: z.string().nullable(),
  paymentMethod: z.string().nullable(),
  restaurant: z.string().nullable(),
  channel: z.string().nullable(),
  status: z.string(),
  statusAt: timestamp,
  createdAt: timestamp,
  updatedAt: timestamp,
  statusHistory: z
    .array(orderStatusChangeSchema)
    .describe('Every status reported, oldest first, late ones included (they do not change `status`)'),
});
export type Order = z.infer<typeof orderSchema>;

export const escalationSchema = z.object({
  id: z.string().uuid(),
  restaurantId: z.string().uuid(),
  customerId: z.string().uuid(),
  conversationId: z.string().uuid().nullable(),
  status: z.enum(escalationStatuses),
  reason: z.string().nullable(),
  resolutionSummary: z.string().nullable(),
  resolvedBy: z.string().nullable().describe('The operator, user or API key that resolved it'),
  metadata: z.record(z.string(), z.unknown()),
  openedAt: timestamp,
  resolvedAt: timestamp.nullable(),
});
export type Escalation = z.infer<typeof escalationSchema>;

/** Who an order or escalation is for, as lists show it (the customer's own row may change later). */
const customerRef = {
  customerName: z.string().nullable().describe("The customer's display name, when known"),
  customerPhone: z
    .string()
    .nullable()
    .describe('`whatsapp:+E164`, else their phone; for a customer with no name'),
};

/** An order as `/api/orders` answers it: the order and its customer's name. */
export const orderWithCustomerSchema = orderSchema.extend(customerRef);
export type OrderWithCustomer = z.infer<typeof orderWithCustomerSchema>;

/** An escalation as `/api/escalations` answers it: the escalation and its customer's name. */
export const escalationWithCustomerSchema = escalationSchema.extend(customerRef);
export type EscalationWithCustomer = z.infer<typeof escalationWithCustomerSchema>;

export const resolveEscalationSchema = z.strictObject({
  resolutionSummary: storableString().trim().min(1).max(5000).optional(),
});
export type ResolveEscalationInput = z.infer<typeof resolveEscalationSchema>;

export const timelineEntrySchema = z.object({
  type: z.enum(timelineEntryTypes),
  at: timestamp,
  entityId: z.string().describe('The customer, conversation, order or escalation'),
  detail: z.string().nullable().describe('The new status, the reason, the summary…'),
});
export type TimelineEntry = z.infer<typeof timelineEntrySchema>;

export const customerIdentitySchema = z.object({
  kind: z.string().describe('`phone`, `telegram`, `syrve` or `web`'),
  value: z.string(),
});

/** The customer, everything known about them, and what happened, newest first. */
export const customerProfileSchema = customerSchema.extend({
  identities: z.array(customerIdentitySchema),
  channels: z.array(channelSchema).describe('Channels of the bots the customer talked to'),
  conversations: z.array(conversationSchema),
  orders: z.array(orderSchema),
  escalations: z.array(escalationSchema),
  timeline: z.array(timelineEntrySchema),
  totals: z
    .object({
      orders: z.number().int().describe('Every order of the customer, not only those listed'),
      spent: z.number().describe("Their orders' totals, cancelled orders left out, in the tenant's currency"),
      openEscalations: z.number().int(),
    })
    .describe('Over all their rows, however many the lists above show'),
});
export type CustomerProfile = z.infer<typeof customerProfileSchema>;
