import { randomUUID } from 'node:crypto';
import { botSchema, botStatusInputSchema, storableString } from '@syncdeck/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireTenant } from '../auth/index.ts';
import {
  generateTelegramSecretToken,
  parseTelegramUpdate,
  TelegramClient,
  telegramBotIdFromToken,
  verifyTelegramSecretToken,
} from '../channels/index.ts';
import { errorResponses, uuidParamsSchema } from '../http/schemas.ts';
import type { GroupCommitWriter } from '../ingest/index.ts';
import { AppError } from '../lib/errors.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import {
  findBotChannel,
  findTelegramBotByAddress,
  replaceTelegramToken,
  saveTelegramBot,
  telegramBotForWebhook,
} from './store.ts';
import { storeInbound } from './write.ts';

/** The contexts Telegram secrets are sealed under: they open only in their own tenant. */
const tokenContext = (tenantId: string) => `bots.telegram_token:${tenantId}`;
const secretContext = (tenantId: string) => `bots.telegram_secret:${tenantId}`;

const text = (max: number) => storableString().trim().min(1).max(max);
const token = text(200).describe(
  "The bot's token from @BotFather, `123456:AA…`: stored encrypted, never returned",
);

const registerSchema = z
  .object({
    name: text(200),
    token,
    restaurantName: text(200).optional(),
    status: botStatusInputSchema.default('ACTIVE'),
    supportContact: text(200).optional(),
  })
  .strict();
const tokenSchema = z.object({ token }).strict();

const telegramBotSchema = botSchema.extend({
  telegramWebhookSetAt: z.string().nullable().describe('When Syncdeck last set the webhook with Telegram'),
});

const updateAnswer = z.object({ status: z.enum(['accepted', 'duplicate', 'ignored']) });

export const telegramInboundRoutes: FastifyPluginAsyncZod<{
  writer: GroupCommitWriter;
  secrets: SecretBox;
}> = async (app, { writer, secrets }) => {
  const { db, config } = app;
  const telegram = new TelegramClient({ baseUrl: config.providers.telegramApiBaseUrl });

  /** The bot's Telegram id from its token; a token of another shape is refused by name. */
  function telegramId(value: string): string {
    const id = telegramBotIdFromToken(value);
    if (!id) throw AppError.invalid([{ path: 'token', message: 'must be a bot token, 123456:AA…' }]);
    return id;
  }

  /**
   * Points the bot's updates at Syncdeck with a fresh secret, before anything is stored: when
   * Telegram refuses, nothing changes here. Answers the secret, sealed.
   */
  async function setWebhook(tenantId: string, botId: string, botToken: string): Promise<string> {
    const secret = generateTelegramSecretToken();
    const url = `${config.publicUrl}/api/channels/telegram/${botId}`;
    const result = await telegram.setWebhook(botToken, url, secret);
    if (!result.ok) {
      // Telegram refusing the token says so; no answer (network, 5xx, 429) says to try again.
      if (result.permanent)
        throw AppError.badRequest('Telegram refused the webhook', [
          { path: 'token', message: `Telegram: ${result.reason}` },
        ]);
      throw AppError.badRequest('Telegram could not be reached; try again', [
        { path: 'token', message: `Telegram did not set the webhook: ${result.reason}` },
      ]);
    }
    return secrets.seal(secret, secretContext(tenantId));
  }

  app.post(
    '/api/admin/bots/telegram',
    {
      schema: {
        tags: ['bots'],
        summary: 'Register a Telegram bot',
        description:
          "Checks the token with Telegram by setting the bot's webhook to `PUBLIC_URL/api/channels/telegram/<id>` " +
          'with a secret Syncdeck generates; only then is the bot stored (token and secret encrypted, never ' +
          "returned). Telegram's refusal, or no answer from it, is 400 with its description. A bot ingest met first " +
          'under this Telegram id is claimed; one already registered is 409.',
        body: registerSchema,
        response: { 201: telegramBotSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { tenant } = await requireTenant(request, 'admin');
      const body = request.body;
      const address = telegramId(body.token);
      const conflict = () =>
        AppError.conflict(`A Telegram bot ${address} is already registered in this tenant`, [
          {
            path: 'token',
            message: 'already registered; PUT /api/admin/bots/:id/telegram replaces its token',
          },
        ]);
      const existing = await findTelegramBotByAddress(db, tenant.id, address);
      if (existing?.registered) throw conflict();
      const id = existing?.id ?? randomUUID();
      const sealedSecret = await setWebhook(tenant.id, id, body.token);
      const bot = await saveTelegramBot(db, tenant.id, {
        id,
        address,
        name: body.name,
        restaurantName: body.restaurantName ?? null,
        status: body.status,
        supportContact: body.supportContact ?? null,
        sealedToken: secrets.seal(body.token, tokenContext(tenant.id)),
        sealedSecret,
      });
      // Another admin registered it while Telegram answered: theirs stands, and so must its webhook.
      if (!bot) throw conflict();
      return reply.code(201).send(bot);
    },
  );

  app.put(
    '/api/admin/bots/:id/telegram',
    {
      schema: {
        tags: ['bots'],
        summary: "Set or replace a Telegram bot's token",
        description:
          'The token must belong to this bot (the same Telegram id). Sets the webhook again with a new ' +
          "secret, then stores both; Telegram's refusal changes nothing.",
        params: uuidParamsSchema,
        body: tokenSchema,
        response: { 200: telegramBotSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'admin');
      const { id } = request.params;
      const current = await findBotChannel(db, tenant.id, id);
      if (!current) throw AppError.notFound('Bot');
      if (current.channel !== 'telegram')
        throw AppError.invalid([
          { path: 'token', message: `this is a ${current.channel} bot, not a Telegram bot` },
        ]);
      if (telegramId(request.body.token) !== current.address)
        throw AppError.invalid([
          { path: 'token', message: `is not the token of Telegram bot ${current.address}` },
        ]);
      const sealedSecret = await setWebhook(tenant.id, id, request.body.token);
      const bot = await replaceTelegramToken(
        db,
        tenant.id,
        id,
        secrets.seal(request.body.token, tokenContext(tenant.id)),
        sealedSecret,
      );
      if (!bot) throw AppError.notFound('Bot');
      return bot;
    },
  );

  app.post(
    '/api/channels/telegram/:id',
    {
      schema: {
        tags: ['channels'],
        summary: "Telegram's webhook for one bot",
        description:
          'Refused (403) unless `X-Telegram-Bot-Api-Secret-Token` is the secret given to setWebhook. A text ' +
          'or media message in a private chat is stored like an ingested `message.created`; an `update_id` seen ' +
          'before is stored once; other updates answer 200 and store nothing, so Telegram does not send them again.',
        params: uuidParamsSchema,
        body: z.unknown(),
        response: { 200: updateAnswer, ...errorResponses(400, 403, 413, 415) },
      },
    },
    async (request) => {
      const bot = await telegramBotForWebhook(db, request.params.id);
      const secret = bot && secrets.open(bot.telegram_secret_encrypted, secretContext(bot.tenant_id));
      if (
        !bot ||
        !secret ||
        !verifyTelegramSecretToken(secret, request.headers['x-telegram-bot-api-secret-token'])
      ) {
        request.log.warn(
          { botId: request.params.id },
          'Telegram update refused: unknown bot or wrong secret',
        );
        throw AppError.forbidden('The request does not carry the secret token');
      }
      const update = parseTelegramUpdate(request.body, { telegramBotId: bot.address });
      if (update.kind === 'ignored') {
        request.log.info(
          { botId: bot.id, reason: update.reason, type: update.updateType },
          'Telegram update ignored',
        );
        return { status: 'ignored' as const };
      }
      const status = await storeInbound(
        writer,
        config,
        { tenantId: bot.tenant_id, id: bot.id },
        update.event,
      );
      return { status };
    },
  );
};
