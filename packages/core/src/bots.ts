import { z } from 'zod';
import { channelSchema } from './ingest.ts';
import {
  BOT_SESSION_MAX_DEPTH,
  BOT_SESSION_MAX_STATE_BYTES,
  BOT_SESSION_MAX_TTL_SECONDS,
  botStatuses,
} from './constants.ts';
import { jsonValueProblem, storableString } from './fields.ts';

const text = (max: number) => storableString().trim().min(1).max(max);

export const botStatusSchema = z.enum(botStatuses);
export type BotStatus = z.infer<typeof botStatusSchema>;

/** Statuses are answered upper case, as the seed shows them, and accepted in any case. */
export const botStatusInputSchema = storableString()
  .transform((value) => value.trim().toUpperCase())
  .pipe(botStatusSchema)
  .describe(`One of ${botStatuses.join(', ')} (any case)`);

const whatsappNumber = text(64).describe(
  'Any common spelling: `whatsapp:+966508034010`, `+966 50 803 4010`, `00966508034010`; stored as E.164',
);
const accountSid = text(100)
  .regex(/^AC/, 'must be a Twilio account SID (AC…)')
  .describe('Twilio account SID, `AC…`');
const authToken = text(500).describe('Twilio auth token: stored encrypted, never returned');

/** `POST /api/admin/bots`: the seed's registration body. */
export const createBotSchema = z
  .object({
    name: text(200),
    restaurantName: text(200),
    whatsappNumber,
    accountSid,
    authToken,
    senderSid: text(100).optional().describe('Twilio sender SID, `XE…`'),
    wabaId: text(100).optional().describe('WhatsApp Business Account id'),
    status: botStatusInputSchema.default('ACTIVE'),
    supportContact: text(200).optional(),
  })
  .strict();
export type CreateBotInput = z.infer<typeof createBotSchema>;

/** `PUT /api/admin/bots/:id`: the fields to change; `null` clears an optional one. */
export const updateBotSchema = z
  .object({
    name: text(200),
    restaurantName: text(200),
    whatsappNumber,
    accountSid,
    authToken,
    senderSid: text(100).nullable(),
    wabaId: text(100).nullable(),
    status: botStatusInputSchema,
    supportContact: text(200).nullable(),
    isActive: z.boolean().describe('`true` is status ACTIVE, `false` INACTIVE'),
  })
  .partial()
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'give at least one field to change')
  .refine(
    (body) =>
      body.isActive === undefined ||
      body.status === undefined ||
      (body.status === 'ACTIVE') === body.isActive,
    { message: 'contradicts status', path: ['isActive'] },
  );
export type UpdateBotInput = z.infer<typeof updateBotSchema>;

export const botSchema = z.object({
  id: z.string().uuid(),
  restaurantId: z.string().uuid().describe('The tenant'),
  name: z.string(),
  restaurantName: z.string().nullable(),
  channel: channelSchema,
  address: z.string().describe('E.164 phone for WhatsApp, the bot id for Telegram, the widget id for web'),
  whatsappNumber: z.string().nullable().describe('`whatsapp:+9665…`; null for other channels'),
  senderSid: z.string().nullable(),
  wabaId: z.string().nullable(),
  accountSid: z.string().nullable(),
  hasAuthToken: z.boolean().describe('Whether an auth token is stored; the token itself is never returned'),
  hasTelegramToken: z
    .boolean()
    .describe('Whether a Telegram bot token is stored (its webhook set); the token is never returned'),
  status: botStatusSchema,
  isActive: z.boolean(),
  supportContact: z.string().nullable(),
  registeredAt: z
    .string()
    .nullable()
    .describe('When an admin registered it; null for a sender first seen by ingest'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Bot = z.infer<typeof botSchema>;

/** The seed's "List Bots for Restaurant" item (`GET /api/db/restaurants/:id/bots`). */
export const restaurantBotSchema = botSchema.pick({
  id: true,
  name: true,
  restaurantName: true,
  whatsappNumber: true,
  status: true,
  isActive: true,
  createdAt: true,
  updatedAt: true,
});
export type RestaurantBot = z.infer<typeof restaurantBotSchema>;

export const deletedBotSchema = z.object({
  success: z.literal(true),
  deleted: z.boolean().describe('true: the bot is gone; false: it has conversations and was deactivated'),
  deactivated: z.boolean(),
  message: z.string(),
  bot: botSchema.describe('The bot as it was deleted, or as it is now deactivated'),
});
export type DeletedBot = z.infer<typeof deletedBotSchema>;

export const botSessionKeySchema = storableString()
  .min(1)
  .max(200)
  .describe("Opaque to the server, e.g. the customer's phone or chat id; compared exactly");

/** `PUT /api/bot-sessions/:botId/:customerKey`. */
export const putBotSessionSchema = z
  .object({
    state: z
      .unknown()
      .superRefine((value, ctx) => {
        if (value === undefined) {
          ctx.addIssue({ code: 'custom', message: 'Required' });
          return;
        }
        const problem = jsonValueProblem(value, BOT_SESSION_MAX_DEPTH);
        if (problem) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
      })
      .describe(`Any JSON value, at most ${BOT_SESSION_MAX_STATE_BYTES} bytes`),
    ttlSeconds: z
      .number()
      .int()
      .min(1)
      .max(BOT_SESSION_MAX_TTL_SECONDS)
      .optional()
      .describe('Seconds until the session expires, counted from this write; omitted: it never expires'),
  })
  .strict();
export type PutBotSessionInput = z.infer<typeof putBotSessionSchema>;

export const botSessionSchema = z.object({
  botId: z.string().uuid(),
  customerKey: z.string(),
  state: z.unknown(),
  version: z.number().int().describe('Changes on every write; also the ETag'),
  expiresAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type BotSession = z.infer<typeof botSessionSchema>;
