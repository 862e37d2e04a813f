import { describe, expect, it } from 'vitest';
import { prepareEvent } from '../ingest/prepare.ts';
import { InvalidChannelRequest } from './inbound-error.ts';
import { largestPhotoSize, parseTelegramUpdate, telegramBotIdFromToken } from './telegram-inbound.ts';

const BOT = '7000000001';
const from = {
  id: 42,
  is_bot: false,
  first_name: 'Omar',
  last_name: 'K',
  username: 'omark',
  language_code: 'ar',
};
const chat = { id: 42, first_name: 'Omar', last_name: 'K', username: 'omark', type: 'private' };
const DATE = 1_765_000_000;

const update = (message: Record<string, unknown>, key = 'message', updateId = 9001) => ({
  update_id: updateId,
  [key]: { message_id: 17, from, chat, date: DATE, ...message },
});

function parse(raw: unknown) {
  return parseTelegramUpdate(raw, { telegramBotId: BOT });
}

function eventOf(raw: unknown) {
  const result = parse(raw);
  if (result.kind !== 'message') throw new Error(`ignored: ${result.reason}`);
  return result.event;
}

describe('parseTelegramUpdate', () => {
  it('turns a text message into the message.created event ingest accepts', () => {
    const result = parse(update({ text: 'Is the shop open?' }));
    expect(result).toEqual({
      kind: 'message',
      updateId: 9001,
      idempotencyKey: `telegram:${BOT}:9001`,
      event: {
        event: 'message.created',
        event_id: `telegram:${BOT}:9001`,
        occurred_at: new Date(DATE * 1000).toISOString(),
        data: {
          customer_identifier: { telegram_chat_id: '42' },
          customer_name: 'Omar K',
          bot: { telegram_bot_id: BOT },
          direction: 'IN',
          message_type: 'text',
          content: 'Is the shop open?',
          wa_sid: `tg:${BOT}:42:17`,
          metadata: {
            channel: 'telegram',
            provider: 'telegram',
            telegram_message_id: 17,
            telegram_user_id: 42,
            telegram_username: 'omark',
            language_code: 'ar',
          },
          sender: { type: 'customer' },
        },
      },
    });
    if (result.kind !== 'message') return;
    const prepared = prepareEvent(result.event, 'tenant', 'SA', new Date());
    if (prepared.name !== 'message.created') throw new Error(prepared.name);
    expect(prepared.bot).toEqual({ channel: 'telegram', address: BOT });
    expect(prepared.customer.identities).toEqual([{ kind: 'telegram', value: '42' }]);
  });

  it('takes a photo at its largest size, as a file reference with the caption as content', () => {
    const event = eventOf(
      update({
        caption: 'this one',
        photo: [
          { file_id: 'small', file_unique_id: 'u1', width: 90, height: 60, file_size: 1200 },
          { file_id: 'large', file_unique_id: 'u3', width: 1280, height: 853, file_size: 98000 },
          { file_id: 'medium', file_unique_id: 'u2', width: 320, height: 213, file_size: 14000 },
        ],
      }),
    );
    expect(event.data.message_type).toBe('image');
    expect(event.data.content).toBe('this one');
    expect(event.data.media_url).toBeUndefined();
    expect(event.data.metadata).toMatchObject({
      telegram_file_id: 'large',
      telegram_file_unique_id: 'u3',
      file: { width: 1280, height: 853, file_size: 98000 },
    });
    expect(() => prepareEvent(event, 't', 'SA', new Date())).not.toThrow();
  });

  it('picks the largest photo by pixels, then bytes', () => {
    const a = { width: 10, height: 10, file_size: 5 };
    const b = { width: 10, height: 10, file_size: 9 };
    const c = { width: 5, height: 15 };
    expect(largestPhotoSize([a, b, c])).toBe(b);
    expect(largestPhotoSize([])).toBeUndefined();
  });

  it('types documents, voice, video, stickers, locations and contacts', () => {
    const file = { file_id: 'f', file_unique_id: 'u' };
    const cases: [Record<string, unknown>, string, string][] = [
      [{ document: { ...file, file_name: 'menu.pdf', mime_type: 'application/pdf' } }, 'document', ''],
      [{ voice: { ...file, duration: 3, mime_type: 'audio/ogg' } }, 'audio', ''],
      [{ audio: { ...file, duration: 200 } }, 'audio', ''],
      [{ video: { ...file, width: 640, height: 480, duration: 5 } }, 'video', ''],
      [{ video_note: { ...file, length: 240, duration: 5 } }, 'video', ''],
      [{ sticker: { ...file, emoji: '👍', width: 512, height: 512, type: 'regular' } }, 'sticker', '👍'],
      [{ location: { latitude: 24.7, longitude: 46.6 } }, 'location', ''],
      [{ contact: { phone_number: '+966501111111', first_name: 'Ali' } }, 'contact', 'Ali +966501111111'],
    ];
    for (const [message, type, content] of cases) {
      const event = eventOf(update(message));
      expect(event.data.message_type).toBe(type);
      expect(event.data.content).toBe(content);
      expect(() => prepareEvent(event, 't', 'SA', new Date())).not.toThrow();
    }
    expect(eventOf(update(cases[0]![0])).data.metadata?.file).toEqual({
      file_name: 'menu.pdf',
      mime_type: 'application/pdf',
    });
  });

  it('keeps an edit as its own message, once per edit', () => {
    const result = parse(
      update({ text: 'Is the shop open now?', edit_date: DATE + 60 }, 'edited_message', 9002),
    );
    if (result.kind !== 'message') throw new Error('ignored');
    expect(result.event.event_id).toBe(`telegram:${BOT}:9002`);
    expect(result.event.occurred_at).toBe(new Date((DATE + 60) * 1000).toISOString());
    expect(result.event.data.wa_sid).toBe(`tg:${BOT}:42:17:edit:${DATE + 60}`);
    expect(result.event.data.metadata).toMatchObject({
      edited: true,
      edit_date: DATE + 60,
      telegram_message_id: 17,
    });
  });

  it('ignores updates that are not a customer’s message, naming them', () => {
    expect(parse({ update_id: 5, callback_query: { id: 'x', from, data: 'yes' } })).toEqual({
      kind: 'ignored',
      updateId: 5,
      idempotencyKey: `telegram:${BOT}:5`,
      reason: 'not_a_message',
      updateType: 'callback_query',
    });
    expect(parse({ update_id: 6, my_chat_member: {} })).toMatchObject({ updateType: 'my_chat_member' });
    expect(parse({ update_id: 7 })).toMatchObject({ reason: 'not_a_message', updateType: null });
    expect(parse(update({ text: 'hi', chat: { id: -100, type: 'supergroup', title: 'Ops' } }))).toMatchObject(
      {
        kind: 'ignored',
        reason: 'not_a_private_chat',
        updateType: 'message',
      },
    );
    expect(parse(update({ pinned_message: { message_id: 1 } }))).toMatchObject({
      reason: 'unsupported_message',
    });
  });

  it('names the customer from the chat or the username when the sender has no name', () => {
    const noFrom = { update_id: 1, message: { message_id: 1, chat, date: DATE, text: 'x' } };
    expect(eventOf(noFrom).data.customer_name).toBe('Omar K');
    const onlyUsername = update({
      text: 'x',
      from: { id: 42, username: 'omark' },
      chat: { id: 42, type: 'private' },
    });
    expect(eventOf(onlyUsername).data.customer_name).toBe('omark');
    const nameless = update({ text: 'x', from: { id: 42 }, chat: { id: 42, type: 'private' } });
    expect(eventOf(nameless).data.customer_name).toBeUndefined();
    const long = update({ text: 'x', from: { id: 42, first_name: '😀'.repeat(150) } });
    expect(() => prepareEvent(eventOf(long), 't', 'SA', new Date())).not.toThrow();
  });

  it('refuses what is not an update, with paths into it', () => {
    const detailsOf = (raw: unknown) => {
      try {
        parse(raw);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidChannelRequest);
        return (error as InvalidChannelRequest).details.map((d) => d.path).sort();
      }
      throw new Error('expected InvalidChannelRequest');
    };
    expect(detailsOf(null)).toEqual(['']);
    expect(detailsOf({ update_id: 'one' })).toEqual(['update_id']);
    expect(detailsOf({ update_id: 1, message: { message_id: 1, date: DATE, text: 'a\u0000' } })).toEqual([
      'message.chat',
      'message.text',
    ]);
    expect(detailsOf(update({ photo: [] }))).toEqual(['message.photo']);
  });
});

describe('telegramBotIdFromToken', () => {
  it('reads the id before the colon', () => {
    expect(telegramBotIdFromToken('123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw')).toBe('123456789');
    expect(telegramBotIdFromToken('not a token')).toBeNull();
    expect(telegramBotIdFromToken('123:short')).toBeNull();
  });
});
