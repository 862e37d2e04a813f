import { z } from 'zod';
import { channels, orderStatuses } from './constants.ts';
import { storableJson, storableString } from './fields.ts';

const text = (max = 500) => storableString().trim().min(1).max(max);
/** Chat ids arrive as numbers from Telegram and as strings elsewhere; they are kept as text. */
const idLike = z.union([text(100), z.number().int()]).transform(String);

export const channelSchema = z.enum(channels);

/** Any of these identifies one customer; phones in any common spelling. */
export const customerIdentifierSchema = z
  .object({
    whatsapp_phone: text(64).optional(),
    phone: text(64).optional(),
    telegram_chat_id: idLike.optional(),
    syrve_customer_id: text(200).optional(),
    web_session_id: text(200).optional(),
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
    display_name: text(200).optional(),
    phone: text(64).optional(),
    primary_channel: channelSchema.optional(),
    telegram_chat_id: idLike.optional(),
    whatsapp_phone: text(64).optional(),
    telegram_topic_id: idLike.optional(),
    telegram_group_id: idLike.optional(),
    syrve_customer_id: text(200).optional(),
    web_session_id: text(200).optional(),
    preferred_language: text(20).optional(),
    trust_level: z
      .union([text(50), z.number()])
      .transform(String)
      .optional(),
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
  external_number: z
    .union([text(100), z.number()])
    .transform(String)
    .optional(),
  items: z
    .array(
      z.object({
        name: text(500),
        amount: z.number().positive().max(100_000).default(1),
        price: z.number().min(0).max(100_000_000).optional(),
      }),
    )
    .max(500)
    .default([]),
  total: z.number().min(0).max(1_000_000_000).optional(),
  delivery_address: text(1000).optional(),
  payment_method: text(100).optional(),
  restaurant: text(200).optional(),
  channel: channelSchema.optional(),
});

export const orderStatusEventSchema = z.object({
  syrve_order_id: text(200),
  status: orderStatusSchema.exclude(['created']),
});

/** Free-form JSON kept as jsonb: every key and string in it must be storable. */
const metadataSchema = storableJson(z.record(z.string().max(100), z.unknown())).optional();

export const escalationCreatedSchema = z.object({
  customer_identifier: customerIdentifierSchema,
  reason: text(2000).optional(),
  metadata: metadataSchema,
});

export const escalationResolvedSchema = z.object({
  customer_identifier: customerIdentifierSchema,
  resolution_summary: text(5000).optional(),
  metadata: metadataSchema,
});

/** Which bot (sender) a message went through: its number, its Telegram bot id, or its Syncdeck id. */
export const botRefSchema = z
  .object({
    whatsapp_number: text(64).optional(),
    telegram_bot_id: idLike.optional(),
    web_widget_id: text(200).optional(),
    id: z.string().uuid().optional(),
  })
  .refine(
    (b) => Boolean(b.whatsapp_number || b.telegram_bot_id || b.web_widget_id || b.id),
    'needs one of whatsapp_number, telegram_bot_id, web_widget_id, id',
  );

export const messageCreatedSchema = z.object({
  customer_identifier: customerIdentifierSchema,
  customer_name: text(200).optional(),
  bot: botRefSchema,
  direction: z.enum(['IN', 'OUT']),
  message_type: text(50).default('text'),
  content: storableString().max(10_000).default(''),
  media_url: storableString().url().max(2000).optional(),
  wa_sid: text(200).optional(),
  metadata: metadataSchema,
});

export const conversationClosedSchema = z
  .object({
    conversation_id: z.string().uuid().optional(),
    customer_identifier: customerIdentifierSchema.optional(),
    bot: botRefSchema.optional(),
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
  event_id: text(200).optional(),
  occurred_at: z.iso.datetime({ offset: true }).optional(),
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
