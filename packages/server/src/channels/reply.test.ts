import { describe, expect, it } from 'vitest';
import {
  type OperatorReply,
  planReply,
  type ReplyBot,
  type ReplyConversation,
  ReplyNotPossible,
  type ReplyProblem,
  TELEGRAM_MAX_CAPTION,
  TELEGRAM_MAX_TEXT,
  TWILIO_MAX_BODY,
} from './reply.ts';

const AT = new Date('2026-12-08T00:00:00.000Z');
const reply: OperatorReply = { messageId: 'msg-1', content: 'On its way!', createdAt: AT };

const whatsapp: ReplyConversation = {
  id: 'conv-wa',
  channel: 'whatsapp',
  customer: { whatsappPhone: '+966501234567' },
};
const waBot: ReplyBot = {
  id: 'bot-wa',
  channel: 'whatsapp',
  whatsappNumber: 'whatsapp:+966508034010',
  hasTwilioCredentials: true,
};
const telegram: ReplyConversation = { id: 'conv-tg', channel: 'telegram', customer: { telegramChatId: 42 } };
const tgBot: ReplyBot = { id: 'bot-tg', channel: 'telegram', hasTelegramToken: true };

function problemOf(run: () => unknown): { problem: ReplyProblem; code: string } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ReplyNotPossible);
    const e = error as ReplyNotPossible;
    return { problem: e.problem, code: e.code };
  }
  throw new Error('expected ReplyNotPossible');
}

describe('planReply', () => {
  it('sends a WhatsApp reply through Twilio with the customer as whatsapp:+…', () => {
    expect(planReply(whatsapp, waBot, reply)).toEqual({
      kind: 'twilio',
      botId: 'bot-wa',
      messageId: 'msg-1',
      payload: { to: 'whatsapp:+966501234567', body: 'On its way!' },
    });
    const withMedia = planReply(
      { ...whatsapp, customer: { whatsappPhone: 'whatsapp:+966501234567' } },
      waBot,
      { ...reply, content: '', mediaUrl: 'https://cdn.example.com/receipt.png' },
    );
    expect(withMedia).toMatchObject({
      kind: 'twilio',
      payload: { to: 'whatsapp:+966501234567', body: '', mediaUrl: 'https://cdn.example.com/receipt.png' },
    });
  });

  it('sends a Telegram reply as text, or as a captioned photo', () => {
    expect(planReply(telegram, tgBot, reply)).toEqual({
      kind: 'telegram',
      botId: 'bot-tg',
      messageId: 'msg-1',
      payload: { chatId: '42', text: 'On its way!' },
    });
    expect(planReply(telegram, tgBot, { ...reply, mediaUrl: 'https://cdn.example.com/a.jpg' })).toMatchObject(
      {
        payload: { chatId: '42', text: 'On its way!', photoUrl: 'https://cdn.example.com/a.jpg' },
      },
    );
  });

  it('hands the reply to a bot that owns its channel through its webhook', () => {
    const plan = planReply(
      whatsapp,
      { ...waBot, hasTwilioCredentials: false, webhookUrl: 'https://bot.example.com/hook' },
      { ...reply, author: { type: 'agent', name: 'Huda' } },
    );
    expect(plan).toEqual({
      kind: 'webhook',
      botId: 'bot-wa',
      messageId: 'msg-1',
      payload: {
        event: {
          type: 'message.reply',
          timestamp: AT.toISOString(),
          data: {
            message_id: 'msg-1',
            conversation_id: 'conv-wa',
            bot_id: 'bot-wa',
            channel: 'whatsapp',
            to: { whatsapp_phone: '+966501234567' },
            content: 'On its way!',
            media_url: null,
            author: { type: 'agent', name: 'Huda' },
          },
        },
      },
    });
    const tg = planReply(
      telegram,
      { ...tgBot, hasTelegramToken: false, webhookUrl: 'https://bot.example.com' },
      reply,
    );
    expect(tg).toMatchObject({
      kind: 'webhook',
      payload: { event: { data: { to: { telegram_chat_id: '42' } } } },
    });
  });

  it('prefers sending itself when it holds the credentials, even if the bot has a webhook', () => {
    expect(planReply(whatsapp, { ...waBot, webhookUrl: 'https://bot.example.com' }, reply).kind).toBe(
      'twilio',
    );
    expect(planReply(telegram, { ...tgBot, webhookUrl: 'https://bot.example.com' }, reply).kind).toBe(
      'telegram',
    );
  });

  it('needs no delivery for the web chat: the widget reads the feed', () => {
    expect(
      planReply(
        { id: 'c', channel: 'web', customer: {} },
        { id: 'b', channel: 'web', webhookUrl: 'https://x.y' },
        reply,
      ),
    ).toEqual({ kind: 'feed', botId: 'b', messageId: 'msg-1' });
  });

  it('puts no secret in any payload', () => {
    const plans = [
      planReply(whatsapp, waBot, reply),
      planReply(telegram, tgBot, reply),
      planReply(whatsapp, { ...waBot, hasTwilioCredentials: false, webhookUrl: 'https://b.example' }, reply),
    ];
    for (const plan of plans)
      expect(JSON.stringify(plan)).not.toMatch(/token|authToken|accountSid|secret|password/i);
  });

  it('says why when there is nothing to send on (409)', () => {
    expect(problemOf(() => planReply(whatsapp, { ...waBot, hasTwilioCredentials: false }, reply))).toEqual({
      problem: 'no_sender',
      code: 'conflict',
    });
    expect(problemOf(() => planReply(whatsapp, { ...waBot, whatsappNumber: null }, reply)).problem).toBe(
      'no_sender',
    );
    expect(problemOf(() => planReply(telegram, { ...tgBot, hasTelegramToken: false }, reply)).problem).toBe(
      'no_sender',
    );
    expect(problemOf(() => planReply({ ...whatsapp, customer: {} }, waBot, reply)).problem).toBe(
      'no_recipient',
    );
    expect(
      problemOf(() => planReply({ ...telegram, customer: { telegramChatId: ' ' } }, tgBot, reply)).problem,
    ).toBe('no_recipient');
    expect(problemOf(() => planReply(whatsapp, tgBot, reply))).toEqual({
      problem: 'channel_mismatch',
      code: 'conflict',
    });
  });

  it('refuses a reply no provider would take (400)', () => {
    expect(problemOf(() => planReply(whatsapp, waBot, { ...reply, content: '  ' }))).toEqual({
      problem: 'empty',
      code: 'validation_failed',
    });
    for (const mediaUrl of ['not a url', 'file:///etc/passwd', 'data:image/png;base64,AAAA'])
      expect(problemOf(() => planReply(whatsapp, waBot, { ...reply, mediaUrl })).problem).toBe(
        'invalid_media_url',
      );
  });

  it('holds each channel to its length limit', () => {
    const text = (n: number) => ({ ...reply, content: 'x'.repeat(n) });
    expect(planReply(whatsapp, waBot, text(TWILIO_MAX_BODY)).kind).toBe('twilio');
    expect(problemOf(() => planReply(whatsapp, waBot, text(TWILIO_MAX_BODY + 1))).problem).toBe('too_long');
    expect(planReply(telegram, tgBot, text(TELEGRAM_MAX_TEXT)).kind).toBe('telegram');
    expect(problemOf(() => planReply(telegram, tgBot, text(TELEGRAM_MAX_TEXT + 1))).problem).toBe('too_long');
    const photo = (n: number) => ({ ...text(n), mediaUrl: 'https://cdn.example.com/a.jpg' });
    expect(planReply(telegram, tgBot, photo(TELEGRAM_MAX_CAPTION)).kind).toBe('telegram');
    expect(problemOf(() => planReply(telegram, tgBot, photo(TELEGRAM_MAX_CAPTION + 1))).problem).toBe(
      'too_long',
    );
    // A bot that sends on its own channel sets its own limits.
    const hook = { ...waBot, hasTwilioCredentials: false, webhookUrl: 'https://b.example' };
    expect(planReply(whatsapp, hook, text(TWILIO_MAX_BODY + 1)).kind).toBe('webhook');
  });
});
