/*
 * Where a person's reply goes: which outbox delivery, with which payload. Pure: the route loads
 * the conversation and its bot, calls planReply, and enqueues the plan with the message in one
 * transaction (`enqueueDelivery(tx, { tenantId, ...plan })`).
 *
 * The order of preference, per channel:
 * 1. Syncdeck holds the sender's credentials (a Twilio account SID and auth token, a Telegram
 *    token): it sends through the provider itself. This is how a bot that owns its channel still
 *    gets an operator's reply out (seed 003: "a new sender works immediately").
 * 2. Otherwise the bot has a webhookUrl: the reply goes to the bot as a `message.reply` event,
 *    and the bot sends it on the channel it owns.
 * 3. Otherwise there is nothing to send on: ReplyNotPossible, before anything is stored.
 *
 * The web widget reads its conversation from the feed, so a web reply needs no delivery at all.
 * Payloads carry no credentials: the handlers (handlers.ts) look those up when they send.
 */
import type { channels } from '@syncdeck/core';
import { AppError } from '../lib/errors.ts';
import type { TelegramDeliveryPayload, TwilioDeliveryPayload, WebhookDeliveryPayload } from './handlers.ts';

/** A conversation's channel. */
export type Channel = (typeof channels)[number];

/** Twilio refuses a longer body (error 21617). */
export const TWILIO_MAX_BODY = 1600;
/** Telegram's limits for a message's text and a photo's caption. */
export const TELEGRAM_MAX_TEXT = 4096;
export const TELEGRAM_MAX_CAPTION = 1024;

/** The conversation a reply answers, with the customer's address on each channel it has. */
export interface ReplyConversation {
  id: string;
  channel: Channel;
  customer: {
    /** E.164 (`+9665…`), or with the `whatsapp:` prefix. */
    whatsappPhone?: string | null;
    telegramChatId?: string | number | null;
  };
}

/** The conversation's bot: what it can send with. Only whether credentials exist, never them. */
export interface ReplyBot {
  id: string;
  channel: Channel;
  /** Its WhatsApp number, E.164 or `whatsapp:+…`. */
  whatsappNumber?: string | null;
  /** Both an account SID and an auth token are stored. */
  hasTwilioCredentials?: boolean;
  hasTelegramToken?: boolean;
  webhookUrl?: string | null;
}

/** The reply, as stored: the message it is and what a person wrote. */
export interface OperatorReply {
  messageId: string;
  content: string;
  mediaUrl?: string | null;
  /** Who wrote it, for the bot's webhook. */
  author?: { type: 'agent' | 'bot'; name?: string | null };
  /** The message's time, the webhook event's `timestamp`. */
  createdAt: Date;
}

/** What a bot with a webhookUrl receives to send a person's reply on its own channel. */
export interface ReplyWebhookEvent {
  type: 'message.reply';
  timestamp: string;
  data: {
    message_id: string;
    conversation_id: string;
    bot_id: string;
    channel: Channel;
    to: { whatsapp_phone?: string; telegram_chat_id?: string };
    content: string;
    media_url: string | null;
    author: { type: 'agent' | 'bot'; name: string | null };
  };
}

interface Delivery<K extends string, P> {
  kind: K;
  payload: P;
  botId: string;
  messageId: string;
}

/** A reply's delivery, ready for enqueueDelivery; `feed` needs none (the widget reads the feed). */
export type ReplyPlan =
  | Delivery<'twilio', TwilioDeliveryPayload>
  | Delivery<'telegram', TelegramDeliveryPayload>
  | Delivery<'webhook', WebhookDeliveryPayload & { event: ReplyWebhookEvent }>
  | { kind: 'feed'; botId: string; messageId: string };

/** Why a reply cannot be sent. */
export type ReplyProblem =
  /** The bot's channel is not the conversation's. */
  | 'channel_mismatch'
  /** The customer has no address on the conversation's channel. */
  | 'no_recipient'
  /** No credentials to send with and no webhookUrl to hand it to. */
  | 'no_sender'
  /** Neither text nor media. */
  | 'empty'
  /** Longer than the channel takes. */
  | 'too_long'
  /** The media URL is not an http(s) URL a provider could fetch. */
  | 'invalid_media_url';

/**
 * A reply that cannot go out on the conversation's channel: a 409 `conflict` when the
 * conversation or its bot is the reason, a 400 `validation_failed` when the reply itself is.
 * `problem` says which, for the dashboard to explain.
 */
export class ReplyNotPossible extends AppError {
  override name = 'ReplyNotPossible';
  constructor(
    readonly problem: ReplyProblem,
    message: string,
  ) {
    const invalidReply = problem === 'empty' || problem === 'too_long' || problem === 'invalid_media_url';
    const field = problem === 'invalid_media_url' ? 'mediaUrl' : 'content';
    super(
      invalidReply ? 'validation_failed' : 'conflict',
      message,
      invalidReply ? [{ path: field, message }] : undefined,
    );
  }
}

const CHANNEL_NAMES: Record<Channel, string> = {
  whatsapp: 'WhatsApp',
  telegram: 'Telegram',
  web: 'the web chat',
};

function checkMedia(mediaUrl: string | null | undefined): string | undefined {
  if (!mediaUrl) return undefined;
  let url: URL;
  try {
    url = new URL(mediaUrl);
  } catch {
    throw new ReplyNotPossible('invalid_media_url', 'The media URL is not a URL');
  }
  // The provider fetches it from the internet: nothing else would reach the customer.
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ReplyNotPossible('invalid_media_url', 'The media URL must be an http(s) URL');
  return mediaUrl;
}

function checkLength(text: string, max: number, what: string): void {
  // UTF-16 length: what Telegram counts, and never less than Twilio's character count.
  if (text.length > max) throw new ReplyNotPossible('too_long', `${what} takes at most ${max} characters`);
}

const withPrefix = (phone: string) => (/^whatsapp:/i.test(phone) ? phone : `whatsapp:${phone}`);

function webhookPlan(
  conversation: ReplyConversation,
  bot: ReplyBot,
  reply: OperatorReply,
  to: ReplyWebhookEvent['data']['to'],
  mediaUrl: string | undefined,
): ReplyPlan {
  const event: ReplyWebhookEvent = {
    type: 'message.reply',
    timestamp: reply.createdAt.toISOString(),
    data: {
      message_id: reply.messageId,
      conversation_id: conversation.id,
      bot_id: bot.id,
      channel: conversation.channel,
      to,
      content: reply.content,
      media_url: mediaUrl ?? null,
      author: { type: reply.author?.type ?? 'agent', name: reply.author?.name ?? null },
    },
  };
  return { kind: 'webhook', botId: bot.id, messageId: reply.messageId, payload: { event } };
}

/**
 * The delivery that takes `reply` to the customer of `conversation` through `bot`, or
 * ReplyNotPossible saying why there is none. Nothing here reads a secret: `hasTwilioCredentials`
 * and `hasTelegramToken` only say whether the handler will find one.
 *
 * @example
 * ```ts
 * const plan = planReply(
 *   { id: conv.id, channel: 'whatsapp', customer: { whatsappPhone: '+966501234567' } },
 *   { id: bot.id, channel: 'whatsapp', whatsappNumber: '+966508034010', hasTwilioCredentials: true },
 *   { messageId, content: 'On its way!', createdAt: new Date() },
 * );
 * // { kind: 'twilio', payload: { to: 'whatsapp:+966501234567', body: 'On its way!' }, botId, messageId }
 * if (plan.kind !== 'feed') await enqueueDelivery(tx, { tenantId, ...plan });
 * ```
 */
export function planReply(conversation: ReplyConversation, bot: ReplyBot, reply: OperatorReply): ReplyPlan {
  const channel = conversation.channel;
  if (bot.channel !== channel)
    throw new ReplyNotPossible(
      'channel_mismatch',
      `The conversation is on ${CHANNEL_NAMES[channel]} but its bot sends on ${CHANNEL_NAMES[bot.channel]}`,
    );
  const mediaUrl = checkMedia(reply.mediaUrl);
  if (!reply.content.trim() && !mediaUrl)
    throw new ReplyNotPossible('empty', 'The reply has no text and no media');
  const ids = { botId: bot.id, messageId: reply.messageId };

  switch (channel) {
    case 'web':
      return { kind: 'feed', ...ids };
    case 'whatsapp': {
      const phone = conversation.customer.whatsappPhone?.trim();
      if (!phone) throw new ReplyNotPossible('no_recipient', 'The customer has no WhatsApp number');
      if (bot.hasTwilioCredentials && bot.whatsappNumber) {
        checkLength(reply.content, TWILIO_MAX_BODY, 'A WhatsApp message through Twilio');
        return {
          kind: 'twilio',
          ...ids,
          payload: { to: withPrefix(phone), body: reply.content, ...(mediaUrl ? { mediaUrl } : {}) },
        };
      }
      if (bot.webhookUrl)
        return webhookPlan(
          conversation,
          bot,
          reply,
          { whatsapp_phone: phone.replace(/^whatsapp:/i, '') },
          mediaUrl,
        );
      throw new ReplyNotPossible(
        'no_sender',
        'The bot has no Twilio credentials and no webhook URL: register its account SID and auth token to reply',
      );
    }
    case 'telegram': {
      const chatId = conversation.customer.telegramChatId;
      if (chatId === null || chatId === undefined || String(chatId).trim() === '')
        throw new ReplyNotPossible('no_recipient', 'The customer has no Telegram chat');
      if (bot.hasTelegramToken) {
        if (mediaUrl) checkLength(reply.content, TELEGRAM_MAX_CAPTION, "A Telegram photo's caption");
        else checkLength(reply.content, TELEGRAM_MAX_TEXT, 'A Telegram message');
        return {
          kind: 'telegram',
          ...ids,
          payload: {
            chatId: String(chatId),
            text: reply.content,
            ...(mediaUrl ? { photoUrl: mediaUrl } : {}),
          },
        };
      }
      if (bot.webhookUrl)
        return webhookPlan(conversation, bot, reply, { telegram_chat_id: String(chatId) }, mediaUrl);
      throw new ReplyNotPossible(
        'no_sender',
        'The bot has no Telegram token and no webhook URL: register its token to reply',
      );
    }
  }
}
