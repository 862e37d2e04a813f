import type { ClaimedDelivery, DeliveryHandler, SendResult } from '../outbox/index.ts';
import type { TelegramClient } from './telegram.ts';
import type { TwilioClient } from './twilio.ts';
import type { WebhookSender } from './webhook.ts';

/** A `twilio` delivery's payload: the customer's address as Twilio writes it (`whatsapp:+…`). */
export interface TwilioDeliveryPayload {
  to: string;
  body: string;
  mediaUrl?: string;
}

/** The sender's credentials, decrypted when the delivery is sent (never stored in the outbox). */
export interface TwilioSender {
  accountSid: string;
  authToken: string;
  /** `whatsapp:+…` */
  from: string;
}

/** A `telegram` delivery's payload. With `photoUrl` it is a photo captioned with `text`. */
export interface TelegramDeliveryPayload {
  chatId: string | number;
  text: string;
  photoUrl?: string;
}

/** A `webhook` delivery's payload: the event the bot receives, sent as JSON. */
export interface WebhookDeliveryPayload {
  event: unknown;
}

type Lookup<T> = (delivery: ClaimedDelivery) => Promise<T | null>;

const missing = (reason: string): SendResult => ({
  ok: false,
  permanent: true,
  code: 'not_configured',
  reason,
});

/**
 * The outbox handler for `twilio` deliveries: looks up the bot's sender and sends through it.
 *
 * @example
 * ```ts
 * worker.register('twilio', twilioHandler(new TwilioClient({ baseUrl }), {
 *   sender: (d) => senderOfBot(db, box, d.tenantId, d.botId),
 *   statusCallback: `${publicUrl}/api/channels/twilio/status`,
 * }));
 * ```
 */
export function twilioHandler(
  client: TwilioClient,
  options: { sender: Lookup<TwilioSender>; statusCallback?: string },
): DeliveryHandler<TwilioDeliveryPayload> {
  return async (delivery, signal) => {
    const sender = await options.sender(delivery);
    if (!sender) return missing('The bot has no Twilio sender credentials');
    const { to, body, mediaUrl } = delivery.payload;
    return client.sendMessage(
      {
        ...sender,
        to,
        body,
        ...(mediaUrl ? { mediaUrl } : {}),
        ...(options.statusCallback ? { statusCallback: options.statusCallback } : {}),
      },
      signal,
    );
  };
}

/** The outbox handler for `telegram` deliveries: looks up the bot's token and sends the text or photo. */
export function telegramHandler(
  client: TelegramClient,
  options: { token: Lookup<string> },
): DeliveryHandler<TelegramDeliveryPayload> {
  return async (delivery, signal) => {
    const token = await options.token(delivery);
    if (!token) return missing('The bot has no Telegram token');
    const { chatId, text, photoUrl } = delivery.payload;
    return photoUrl
      ? client.sendPhoto(token, chatId, photoUrl, text || undefined, signal)
      : client.sendMessage(token, chatId, text, signal);
  };
}

/**
 * The outbox handler for `webhook` deliveries: signs the event with the bot's secret and posts it
 * to its webhookUrl, with the delivery's id as `webhook-id` on every attempt.
 */
export function webhookHandler(
  sender: WebhookSender,
  options: { target: Lookup<{ url: string; secret: string }> },
): DeliveryHandler<WebhookDeliveryPayload> {
  return async (delivery, signal) => {
    const target = await options.target(delivery);
    if (!target) return missing('The bot has no webhook URL');
    return sender.send(
      { ...target, webhookId: delivery.id, body: JSON.stringify(delivery.payload.event) },
      signal,
    );
  };
}
