import { z } from 'zod';
import { channels, orderStatuses } from './constants.ts';
import { optional, storableJson, storableString, withDefault } from './fields.ts';

// Every optional field here is `optional(…)`: the seed's bots send null for what they do not
// know, and null must neither refuse the event nor clear what is stored.
const text = (max = 500) => storableString().trim().min(1).max(max);
/** Chat ids arrive as numbers from Telegram and as strings elsewhere; they are kept as text. */
const idLike = z.union([text(100), z.number().int()]).transform(String);

export const channelSchema = z.enum(channels);

/** Any of these identifies one customer; phones in any common spelling. */
export const customerIdentifierSchema = z
  .object({
    whatsapp_phone: optional(text(64)),
    phone: optional(text(64)),
    telegram_chat_id: optional(idLike),
    syrve_customer_id: optional(text(200)),
    web_session_id: optional(text(200)),
  })
  .refine(
    (id) =>
      Boolean(
        id.whatsapp_phone || id.phone || id.telegram_chat_id || id.syrve_customer_id || id.web_session_id,
      ),
    'needs at least one of whatsapp_phone, phone, telegram_chat_id, syrve_customer_id, web_session_id',
  );
export type CustomerIdentifier = z.infer<typeof customerIdentifierSchema>;

export const customerSeenSchema = z
  .object({
    display_name: optional(text(200)),
    phone: optional(text(64)),
    primary_channel: optional(channelSchema),
    telegram_chat_id: optional(idLike),
    whatsapp_phone: optional(text(64)),
    telegram_topic_id: optional(idLike),
    telegram_group_id: optional(idLike),
    syrve_customer_id: optional(text(200)),
    web_session_id: optional(text(200)),
    preferred_language: optional(text(20)),
    trust_level: optional(z.union([text(50), z.number()]).transform(String)),
  })
  .refine(
    (d) =>
      Boolean(d.whatsapp_phone || d.phone || d.telegram_chat_id || d.syrve_customer_id || d.web_session_id),
    'needs at least one of whatsapp_phone, phone, telegram_chat_id, syrve_customer_id, web_session_id',
  );

export const orderStatusSchema = z.enum(orderStatuses);
export type OrderStatus = z.infer<typeof orderStatusSchema>;

export const orderCreatedSchema = z.object({
  customer_identifier: customerIdentifierSchema,
  syrve_order_id: text(200),
  external_number: optional(z.union([text(100), z.number()]).transform(String)),
  items: withDefault(
    z
      .array(
        z.object({
          name: text(500),
          amount: withDefault(z.number().positive().max(100_000), 1),
          price: optional(z.number().min(0).max(100_000_000)),
        }),
      )
      .max(500),
    [],
  ),
  total: optional(z.number().min(0).max(1_000_000_000)),
  delivery_address: optional(text(1000)),
  payment_method: optional(text(100)),
  restaurant: optional(text(200)),
  channel: optional(channelSchema),
});

export const orderStatusEventSchema = z.object({
  syrve_order_id: text(200),
  status: orderStatusSchema.exclude(['created']),
});

/** Free-form JSON kept as jsonb: every key and string in it must be storable. */
const metadataSchema = optional(storableJson(z.record(z.string().max(100), z.unknown())));

export const escalationCreatedSchema = z.object({
  customer_identifier: customerIdentifierSchema,
  reason: optional(text(2000)),
  metadata: metadataSchema,
});

export const escalationResolvedSchema = z.object({
  customer_identifier: customerIdentifierSchema,
  resolution_summary: optional(text(5000)),
  metadata: metadataSchema,
});

/** Which bot (sender) a message went through: its number, its Telegram bot id, or its Syncdeck id. */
export const botRefSchema = z
  .object({
    whatsapp_number: optional(text(64)),
    telegram_bot_id: optional(idLike),
    web_widget_id: optional(text(200)),
    id: optional(z.string().uuid()),
  })
  .refine(
    (b) => Boolean(b.whatsapp_number || b.telegram_bot_id || b.web_widget_id || b.id),
    'needs one of whatsapp_number, telegram_bot_id, web_widget_id, id',
  );

export const messageAuthorTypes = ['customer', 'bot', 'agent'] as const;
export type MessageAuthorType = (typeof messageAuthorTypes)[number];

/**
 * Who wrote a message, when the bot knows better than its direction says: an OUT message a
 * person (an operator answering through the bot) wrote is `{type: 'agent', name}`.
 */
export const messageSenderSchema = z.object({
  type: z.enum(messageAuthorTypes),
  name: optional(text(200)),
});
export type MessageSender = z.input<typeof messageSenderSchema>;

export const messageCreatedSchema = z
  .object({
    customer_identifier: customerIdentifierSchema,
    customer_name: optional(text(200)),
    bot: botRefSchema,
    direction: z.enum(['IN', 'OUT']),
    message_type: withDefault(text(50), 'text'),
    content: withDefault(storableString().max(10_000), ''),
    media_url: optional(storableString().url().max(2000)),
    wa_sid: optional(text(200)),
    metadata: metadataSchema,
    sender: optional(messageSenderSchema),
  })
  .refine((d) => !d.sender || (d.sender.type === 'customer') === (d.direction === 'IN'), {
    message: "an IN message is the customer's, an OUT message the bot's or an agent's",
    path: ['sender', 'type'],
  });

/**
 * Who wrote a message: `sender` when given; else, for an OUT message, the person the seed's bots
 * name in `metadata.operator_name`; else the customer (IN) or the bot (OUT).
 */
export function messageAuthor(data: {
  direction: 'IN' | 'OUT';
  sender?: { type: MessageAuthorType; name?: string | undefined } | undefined;
  metadata?: Record<string, unknown> | undefined;
}): { type: MessageAuthorType; name: string | null } {
  if (data.sender) return { type: data.sender.type, name: data.sender.name ?? null };
  if (data.direction === 'IN') return { type: 'customer', name: null };
  const operator = data.metadata?.operator_name;
  // Cut by code points: a cut inside a surrogate pair would leave text PostgreSQL cannot store.
  const name = typeof operator === 'string' ? [...operator.trim()].slice(0, 200).join('') : '';
  if (name) return { type: 'agent', name };
  return { type: 'bot', name: null };
}

export const conversationClosedSchema = z
  .object({
    conversation_id: optional(z.string().uuid()),
    customer_identifier: optional(customerIdentifierSchema),
    bot: optional(botRefSchema),
  })
  .refine(
    (d) => Boolean(d.conversation_id || (d.customer_identifier && d.bot)),
    'needs conversation_id, or customer_identifier and bot',
  );

/** Every event the ingest API knows, with the schema of its `data`. */
export const syncEventSchemas = {
  'customer.seen': customerSeenSchema,
  'order.created': orderCreatedSchema,
  'order.status': orderStatusEventSchema,
  'escalation.created': escalationCreatedSchema,
  'escalation.resolved': escalationResolvedSchema,
  'message.created': messageCreatedSchema,
  'conversation.closed': conversationClosedSchema,
} as const;

export type SyncEventName = keyof typeof syncEventSchemas;
export const syncEventNames = Object.keys(syncEventSchemas) as SyncEventName[];
export type SyncEventData<E extends SyncEventName> = z.input<(typeof syncEventSchemas)[E]>;
export type ParsedSyncEventData<E extends SyncEventName> = z.output<(typeof syncEventSchemas)[E]>;

/** The envelope around each event, exactly as the seed's bot sends it (plus optional id and time). */
export const syncEnvelopeSchema = z.object({
  event: storableString().max(100),
  data: z.record(z.string(), z.unknown()),
  event_id: optional(text(200)),
  occurred_at: optional(z.iso.datetime({ offset: true })),
});

export const syncResultSchema = z.object({
  index: z.number().int(),
  status: z.enum(['accepted', 'duplicate', 'rejected']),
  event_id: z.string().optional(),
  error: z
    .object({
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })),
      /** True when the event was fine but could not be stored this time: send it again. */
      retryable: z.boolean().optional(),
    })
    .optional(),
});
export type SyncResult = z.infer<typeof syncResultSchema>;
