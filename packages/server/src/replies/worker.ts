import type { FastifyBaseLogger } from 'fastify';
import { authTokenContext } from '../bots/index.ts';
import {
  TelegramClient,
  TwilioClient,
  telegramHandler,
  twilioHandler,
  WebhookSender,
  webhookHandler,
} from '../channels/index.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/index.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import { type OutboxOptions, OutboxWorker } from '../outbox/index.ts';
import { TWILIO_STATUS_PATH } from './routes.ts';
import { applyReport, findTwilioCredentials } from './store.ts';

/**
 * This process's outbox worker, with a handler for each kind. Credentials are looked up (and
 * opened) when a delivery is sent, never stored with it. Each outcome moves the message's
 * delivery status in the transaction that records it, so the dashboard's ticks commit with it.
 */
export function createReplyWorker(
  db: Db,
  secrets: SecretBox,
  config: Pick<Config, 'publicUrl' | 'providers'>,
  logger: FastifyBaseLogger,
  options: Partial<OutboxOptions> = {},
): OutboxWorker {
  const twilio = new TwilioClient({ baseUrl: config.providers.twilioApiBaseUrl });
  const telegram = new TelegramClient({ baseUrl: config.providers.telegramApiBaseUrl });
  return (
    new OutboxWorker(db, {
      options,
      logger,
      async onOutcome(tx, delivery, outcome) {
        if (!delivery.messageId || outcome.status === 'queued') return;
        await applyReport(
          tx,
          delivery.tenantId,
          delivery.messageId,
          outcome.status === 'sent'
            ? { status: 'sent' }
            : { status: 'failed', errorCode: outcome.code, errorReason: outcome.reason },
          outcome.providerId,
        );
      },
    })
      .register(
        'twilio',
        twilioHandler(twilio, {
          statusCallback: `${config.publicUrl}${TWILIO_STATUS_PATH}`,
          async sender(delivery) {
            if (!delivery.botId) return null;
            const found = await findTwilioCredentials(db, delivery.tenantId, delivery.botId);
            if (!found) return null;
            return {
              accountSid: found.accountSid,
              authToken: secrets.open(found.sealedAuthToken, authTokenContext(delivery.tenantId)),
              from: `whatsapp:${found.address}`,
            };
          },
        }),
      )
      // Bots have no stored Telegram token or webhook URL yet: such deliveries fail as
      // not configured (planReply does not plan them while nothing says a bot has one).
      .register('telegram', telegramHandler(telegram, { token: async () => null }))
      .register('webhook', webhookHandler(new WebhookSender(), { target: async () => null }))
  );
}
