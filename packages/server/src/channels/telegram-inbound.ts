/*
 * Telegram's Bot API updates, read into the ingest API's `message.created` event. Pure: the route
 * checks X-Telegram-Bot-Api-Secret-Token first (verifyTelegramSecretToken) and stores the result.
 *
 * Decisions, since Telegram's shapes leave them open:
 * - Only private chats are customers. In a group or channel the chat is many people (the seed's
 *   bots use groups for their operators), so those updates are ignored, not stored.
 * - Media is a reference, never a URL: Telegram's file URL carries the bot's token
 *   (`/file/bot<token>/<path>`), so `media_url` stays empty and `metadata.telegram_file_id` names
 *   the file; whoever shows it resolves it with getFile at that time and serves it through the
 *   server. `message_type` says what it is (a photo is `image`, at its largest size).
 * - An edit is a new message in the transcript (`metadata.edited`, `metadata.telegram_message_id`
 *   naming the original), since the customer said something new; its provider id differs by the
 *   edit's time, so every edit is kept once.
 * - Updates without a customer's message (callback_query, my_chat_member, polls, service
 *   messages like a pinned message) are `ignored` with a reason: answered 200 all the same, as
 *   anything else makes Telegram send them again.
 */
import { storableString } from '@syncdeck/core';
import { z } from 'zod';
import { detailsFromZod } from '../lib/errors.ts';
import { InvalidChannelRequest } from './inbound-error.ts';
import type { InboundMessageEvent } from './twilio-inbound.ts';

const int = z.number().int();
const name = storableString().max(256);
const body = storableString().max(10_000);
const fileId = storableString().min(1).max(512);

const user = z.looseObject({
  id: int,
  is_bot: z.boolean().optional(),
  first_name: name.optional(),
  last_name: name.optional(),
  username: name.optional(),
  language_code: storableString().max(35).optional(),
});

const chat = z.looseObject({
  id: int,
  type: z.string().max(40),
  first_name: name.optional(),
  last_name: name.optional(),
  username: name.optional(),
});

const photoSize = z.looseObject({
  file_id: fileId,
  file_unique_id: fileId,
  width: int.nonnegative(),
  height: int.nonnegative(),
  file_size: int.nonnegative().optional(),
});

/** What documents, voice notes, audio and videos share; each has more Telegram fields, kept loose. */
const file = z.looseObject({
  file_id: fileId,
  file_unique_id: fileId,
  file_size: int.nonnegative().optional(),
  mime_type: storableString().max(255).optional(),
  file_name: storableString().max(1024).optional(),
  duration: z.number().nonnegative().optional(),
  width: int.nonnegative().optional(),
  height: int.nonnegative().optional(),
});

const messageSchema = z.looseObject({
  message_id: int,
  from: user.optional(),
  chat,
  // Unix seconds; bounded so that the time is a Date (the year 9999 at most).
  date: int.nonnegative().max(253_402_300_799),
  edit_date: int.nonnegative().max(253_402_300_799).optional(),
  text: body.optional(),
  caption: body.optional(),
  photo: z.array(photoSize).min(1).max(50).optional(),
  document: file.optional(),
  voice: file.optional(),
  audio: file.optional(),
  video: file.optional(),
  video_note: file.optional(),
  sticker: file.extend({ emoji: storableString().max(64).optional() }).optional(),
  location: z
    .looseObject({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) })
    .optional(),
  contact: z
    .looseObject({ phone_number: storableString().max(64), first_name: name, last_name: name.optional() })
    .optional(),
});
type TelegramMessage = z.output<typeof messageSchema>;

const updateSchema = z.looseObject({ update_id: int.nonnegative() });

/** Why an update was not turned into a message. */
export type TelegramIgnoreReason =
  /** Not a message: `callback_query`, `my_chat_member`, `channel_post`…, named in `updateType`. */
  | 'not_a_message'
  /** A message in a group, supergroup or channel. */
  | 'not_a_private_chat'
  /** A message with nothing we store: a poll, a game, a service message. */
  | 'unsupported_message';

export type TelegramInbound =
  | { kind: 'message'; updateId: number; idempotencyKey: string; event: InboundMessageEvent }
  | {
      kind: 'ignored';
      updateId: number;
      idempotencyKey: string;
      reason: TelegramIgnoreReason;
      /** The update's field (`message`, `callback_query`…), or null when it has none we know. */
      updateType: string | null;
    };

/**
 * The bot's Telegram id: the number before the colon of its token (`123456:AA…` → `123456`),
 * or null when the token is not of that form. That id is the bot's address in Syncdeck.
 *
 * @example
 * ```ts
 * telegramBotIdFromToken('123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw'); // '123456789'
 * ```
 */
export function telegramBotIdFromToken(token: string): string | null {
  return /^([0-9]{1,20}):[A-Za-z0-9_-]{20,}$/.exec(token)?.[1] ?? null;
}

/**
 * The largest size of a photo: most pixels, then most bytes. Telegram lists them smallest first,
 * but says nothing of keeping to that, so the sizes are compared rather than the last one taken.
 *
 * @example
 * ```ts
 * largestPhotoSize(message.photo)?.file_id;
 * ```
 */
export function largestPhotoSize<T extends { width: number; height: number; file_size?: number | undefined }>(
  sizes: readonly T[],
): T | undefined {
  let best: T | undefined;
  for (const size of sizes) {
    if (!best) best = size;
    else {
      const area = size.width * size.height;
      const bestArea = best.width * best.height;
      if (area > bestArea || (area === bestArea && (size.file_size ?? 0) > (best.file_size ?? 0)))
        best = size;
    }
  }
  return best;
}

/** What kind of message it is, and the file it carries, if any. */
function contentOf(message: TelegramMessage): {
  type: string;
  file?: { file_id: string; file_unique_id: string; [key: string]: unknown };
} | null {
  if (message.photo) return { type: 'image', file: largestPhotoSize(message.photo)! };
  if (message.video) return { type: 'video', file: message.video };
  if (message.video_note) return { type: 'video', file: message.video_note };
  if (message.voice) return { type: 'audio', file: message.voice };
  if (message.audio) return { type: 'audio', file: message.audio };
  if (message.document) return { type: 'document', file: message.document };
  if (message.sticker) return { type: 'sticker', file: message.sticker };
  if (message.location) return { type: 'location' };
  if (message.contact) return { type: 'contact' };
  if (message.text !== undefined || message.caption !== undefined) return { type: 'text' };
  return null;
}

/** The file's description for metadata: what a viewer needs before fetching it. */
function fileFacts(file: Record<string, unknown>): Record<string, unknown> {
  const facts: Record<string, unknown> = {};
  for (const key of ['mime_type', 'file_name', 'file_size', 'width', 'height', 'duration', 'emoji'])
    if (file[key] !== undefined) facts[key] = file[key];
  return facts;
}

/** At most 200 characters, cut by code points: a cut inside a surrogate pair is unstorable. */
const cut = (text: string) => [...text].slice(0, 200).join('');
const fullName = (...parts: (string | undefined)[]) =>
  cut(
    parts
      .map((p) => p?.trim())
      .filter(Boolean)
      .join(' '),
  );

/**
 * Reads one Telegram `Update` sent to the bot `telegramBotId` into the `message.created` event
 * ingest stores (`message` and `edited_message` in private chats), or says why it is ignored.
 * The idempotency key, `telegram:<botId>:<update_id>`, is the event id: update ids count per
 * bot, so the bot is part of it. Throws InvalidChannelRequest for an update that is not
 * Telegram's shape, with paths like `message.chat.id`.
 *
 * @example
 * ```ts
 * const result = parseTelegramUpdate(request.body, { telegramBotId: bot.address });
 * if (result.kind === 'message') await ingest(tenantId, result.event);
 * ```
 */
export function parseTelegramUpdate(
  raw: unknown,
  options: { telegramBotId: string | number },
): TelegramInbound {
  const botId = String(options.telegramBotId);
  const update = updateSchema.safeParse(raw);
  if (!update.success) throw new InvalidChannelRequest('telegram', detailsFromZod(update.error));
  const { update_id: updateId } = update.data;
  const idempotencyKey = `telegram:${botId}:${updateId}`;
  const ignored = (reason: TelegramIgnoreReason, updateType: string | null): TelegramInbound => ({
    kind: 'ignored',
    updateId,
    idempotencyKey,
    reason,
    updateType,
  });

  const updateType =
    update.data.message !== undefined
      ? 'message'
      : update.data.edited_message !== undefined
        ? 'edited_message'
        : null;
  if (!updateType) {
    // An update has exactly one field besides update_id; name it for the log.
    const other = Object.keys(update.data).find((key) => key !== 'update_id') ?? null;
    return ignored('not_a_message', other);
  }
  const parsed = messageSchema.safeParse(update.data[updateType]);
  if (!parsed.success) throw new InvalidChannelRequest('telegram', detailsFromZod(parsed.error, updateType));
  const message = parsed.data;
  if (message.chat.type !== 'private') return ignored('not_a_private_chat', updateType);
  const content = contentOf(message);
  if (!content) return ignored('unsupported_message', updateType);

  const edited = updateType === 'edited_message';
  const from = message.from;
  const customerName =
    fullName(from?.first_name, from?.last_name) ||
    fullName(message.chat.first_name, message.chat.last_name) ||
    cut(from?.username ?? message.chat.username ?? '');
  const text =
    message.text ??
    message.caption ??
    (message.sticker?.emoji ||
      (message.contact
        ? fullName(message.contact.first_name, message.contact.last_name, message.contact.phone_number)
        : ''));
  const metadata: Record<string, unknown> = {
    channel: 'telegram',
    provider: 'telegram',
    telegram_message_id: message.message_id,
    ...(from ? { telegram_user_id: from.id } : {}),
    ...(from?.username ? { telegram_username: from.username } : {}),
    ...(from?.language_code ? { language_code: from.language_code } : {}),
    ...(content.file
      ? {
          telegram_file_id: content.file.file_id,
          telegram_file_unique_id: content.file.file_unique_id,
          file: fileFacts(content.file),
        }
      : {}),
    ...(message.location
      ? { location: { latitude: message.location.latitude, longitude: message.location.longitude } }
      : {}),
    ...(message.contact ? { contact: { phone_number: message.contact.phone_number } } : {}),
    ...(edited ? { edited: true, ...(message.edit_date ? { edit_date: message.edit_date } : {}) } : {}),
  };
  const at = edited && message.edit_date ? message.edit_date : message.date;
  const providerId = `tg:${botId}:${message.chat.id}:${message.message_id}${edited ? `:edit:${message.edit_date ?? updateId}` : ''}`;
  return {
    kind: 'message',
    updateId,
    idempotencyKey,
    event: {
      event: 'message.created',
      event_id: idempotencyKey,
      occurred_at: new Date(at * 1000).toISOString(),
      data: {
        customer_identifier: { telegram_chat_id: String(message.chat.id) },
        ...(customerName ? { customer_name: customerName } : {}),
        bot: { telegram_bot_id: botId },
        direction: 'IN',
        message_type: content.type,
        content: text,
        wa_sid: providerId,
        metadata,
        sender: { type: 'customer' },
      },
    },
  };
}
