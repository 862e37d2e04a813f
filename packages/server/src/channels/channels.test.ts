import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegram, FakeTwilio } from '../testing/providers/index.ts';
import { answer, LoopbackServer, type RecordedRequest } from '../testing/providers/server.ts';
import type { ClaimedDelivery } from '../outbox/index.ts';
import {
  generateWebhookSecret,
  signStandardWebhook,
  TelegramClient,
  TwilioClient,
  telegramHandler,
  twilioHandler,
  twilioSignature,
  verifyTelegramSecretToken,
  verifyTwilioSignature,
  WebhookSender,
  webhookHandler,
} from './index.ts';

// Twilio's documented example (its request-validation docs): auth token 12345, this URL and these parameters.
const DOCS_TOKEN = '12345';
const DOCS_URL = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const DOCS_PARAMS = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+14158675309',
  Digits: '1234',
  From: '+14158675309',
  To: '+18005551212',
};
const DOCS_SIGNATURE = 'RSOYDt4T1cUTdK1PDd93/VVr8B8=';

describe('verifyTwilioSignature', () => {
  it("accepts Twilio's documented example", () => {
    expect(twilioSignature(DOCS_TOKEN, DOCS_URL, DOCS_PARAMS)).toBe(DOCS_SIGNATURE);
    expect(verifyTwilioSignature(DOCS_TOKEN, DOCS_URL, DOCS_PARAMS, DOCS_SIGNATURE)).toBe(true);
  });

  it('refuses a wrong token, an altered or added parameter, a wrong URL, no header', () => {
    expect(verifyTwilioSignature('54321', DOCS_URL, DOCS_PARAMS, DOCS_SIGNATURE)).toBe(false);
    expect(
      verifyTwilioSignature(DOCS_TOKEN, DOCS_URL, { ...DOCS_PARAMS, Digits: '1235' }, DOCS_SIGNATURE),
    ).toBe(false);
    expect(verifyTwilioSignature(DOCS_TOKEN, DOCS_URL, { ...DOCS_PARAMS, Body: 'x' }, DOCS_SIGNATURE)).toBe(
      false,
    );
    expect(verifyTwilioSignature(DOCS_TOKEN, `${DOCS_URL}&baz=3`, DOCS_PARAMS, DOCS_SIGNATURE)).toBe(false);
    expect(
      verifyTwilioSignature(DOCS_TOKEN, DOCS_URL.replace('https', 'http'), DOCS_PARAMS, DOCS_SIGNATURE),
    ).toBe(false);
    expect(verifyTwilioSignature(DOCS_TOKEN, DOCS_URL, DOCS_PARAMS, undefined)).toBe(false);
    expect(verifyTwilioSignature('', DOCS_URL, DOCS_PARAMS, DOCS_SIGNATURE)).toBe(false);
  });

  it('accepts the URL with or without the default port, as Twilio signs either', () => {
    const withPort = twilioSignature(
      DOCS_TOKEN,
      'https://mycompany.com:443/myapp.php?foo=1&bar=2',
      DOCS_PARAMS,
    );
    expect(verifyTwilioSignature(DOCS_TOKEN, DOCS_URL, DOCS_PARAMS, withPort)).toBe(true);
    expect(
      verifyTwilioSignature(
        DOCS_TOKEN,
        'https://mycompany.com:443/myapp.php?foo=1&bar=2',
        DOCS_PARAMS,
        DOCS_SIGNATURE,
      ),
    ).toBe(true);
  });

  it("signs a repeated parameter's values sorted", () => {
    const signature = twilioSignature('t', 'https://x.test/', { MediaUrl: ['b', 'a'] });
    const expected = createHmac('sha1', 't').update('https://x.test/MediaUrlaMediaUrlb').digest('base64');
    expect(signature).toBe(expected);
  });
});

describe('TwilioClient against the stand-in', () => {
  const account = { accountSid: `AC${'1'.repeat(32)}`, authToken: 'auth-token-1' };
  const message = {
    ...account,
    from: 'whatsapp:+966508034010',
    to: 'whatsapp:+966501234567',
    body: 'Your order is on its way',
  };
  let twilio: FakeTwilio;
  let client: TwilioClient;

  beforeAll(async () => {
    twilio = await FakeTwilio.start([account]);
    client = new TwilioClient({ baseUrl: twilio.url, timeoutMs: 2_000 });
  });
  afterAll(() => twilio.close());

  it('posts the form Twilio documents, with Basic auth, and answers the message SID', async () => {
    const result = await client.sendMessage({
      ...message,
      mediaUrl: 'https://example.com/menu.jpg',
      statusCallback: 'https://hub.example.com/api/channels/twilio/status',
    });
    const request = twilio.requests.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe(`/2010-04-01/Accounts/${account.accountSid}/Messages.json`);
    expect(request.headers.authorization).toBe(
      `Basic ${Buffer.from(`${account.accountSid}:${account.authToken}`).toString('base64')}`,
    );
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
      To: message.to,
      From: message.from,
      Body: message.body,
      MediaUrl: 'https://example.com/menu.jpg',
      StatusCallback: 'https://hub.example.com/api/channels/twilio/status',
    });
    const sid = twilio.messages.at(-1)!.sid;
    expect(sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(result).toMatchObject({ ok: true, providerId: sid, httpStatus: 201 });
  });

  it('maps 429 (with Retry-After), 5xx and a dropped connection to transient failures', async () => {
    twilio.fail({ kind: 'rate-limited', retryAfterSeconds: 2 }, { kind: 'server-error' }, { kind: 'drop' });
    expect(await client.sendMessage(message)).toMatchObject({
      ok: false,
      permanent: false,
      code: '20429',
      retryAfterMs: 2_000,
      httpStatus: 429,
    });
    expect(await client.sendMessage(message)).toMatchObject({ ok: false, permanent: false, code: '20500' });
    const dropped = await client.sendMessage(message);
    expect(dropped).toMatchObject({ ok: false, permanent: false });
    expect(dropped.ok || dropped.httpStatus).toBeFalsy();
  });

  it("fails permanently on Twilio's refusals, with its code and a readable reason", async () => {
    expect(await client.sendMessage({ ...message, to: 'whatsapp:12' })).toMatchObject({
      ok: false,
      permanent: true,
      code: '21211',
      reason: "The customer's number is not a valid phone number",
      httpStatus: 400,
    });
    twilio.fail({ kind: 'error', status: 400, code: 63016 });
    expect(await client.sendMessage(message)).toMatchObject({
      permanent: true,
      code: '63016',
      reason: expect.stringMatching(/24-hour window/),
    });
    expect(await client.sendMessage({ ...message, authToken: 'wrong' })).toMatchObject({
      permanent: true,
      code: '20003',
      httpStatus: 401,
    });
  });

  it('gives up on a silent provider after its timeout, as a transient failure', async () => {
    const silent = await LoopbackServer.start(() => {});
    try {
      const result = await new TwilioClient({ baseUrl: silent.url, timeoutMs: 100 }).sendMessage(message);
      expect(result).toMatchObject({ ok: false, permanent: false, code: 'timeout' });
    } finally {
      await silent.close();
    }
  });

  it('posts status callbacks signed as Twilio signs them', async () => {
    const received: RecordedRequest[] = [];
    const hub = await LoopbackServer.start((request, response) => {
      received.push(request);
      answer(response, 200, {});
    });
    try {
      const callback = `${hub.url}/api/channels/twilio/status`;
      await client.sendMessage({ ...message, statusCallback: callback });
      const { sid } = twilio.messages.at(-1)!;
      expect(await twilio.sendStatus(sid, 'delivered')).toBe(200);
      const params = Object.fromEntries(new URLSearchParams(received[0]!.body));
      expect(params).toMatchObject({ MessageSid: sid, MessageStatus: 'delivered' });
      const header = received[0]!.headers['x-twilio-signature'] as string;
      expect(verifyTwilioSignature(account.authToken, callback, params, header)).toBe(true);
      expect(verifyTwilioSignature('other-token', callback, params, header)).toBe(false);
    } finally {
      await hub.close();
    }
  });
});

describe('TelegramClient against the stand-in', () => {
  const token = '123456:ABC-secret_token';
  let telegram: FakeTelegram;
  let client: TelegramClient;

  beforeAll(async () => {
    telegram = await FakeTelegram.start([token]);
    client = new TelegramClient({ baseUrl: telegram.url, timeoutMs: 2_000 });
  });
  afterAll(() => telegram.close());

  it('calls setWebhook, sendMessage and sendPhoto with the JSON bodies the Bot API documents', async () => {
    expect(
      await client.setWebhook(token, 'https://hub.example.com/api/channels/telegram/b1', 'sec_ret-1'),
    ).toMatchObject({
      ok: true,
    });
    expect(await client.sendMessage(token, 42, 'Hello')).toMatchObject({
      ok: true,
      providerId: expect.any(String),
    });
    expect(await client.sendPhoto(token, 42, 'https://example.com/p.jpg', 'Menu')).toMatchObject({
      ok: true,
    });
    expect(
      telegram.requests.map((r) => [r.method, r.path, r.headers['content-type'], JSON.parse(r.body)]),
    ).toEqual([
      [
        'POST',
        `/bot${token}/setWebhook`,
        'application/json',
        { url: 'https://hub.example.com/api/channels/telegram/b1', secret_token: 'sec_ret-1' },
      ],
      ['POST', `/bot${token}/sendMessage`, 'application/json', { chat_id: 42, text: 'Hello' }],
      [
        'POST',
        `/bot${token}/sendPhoto`,
        'application/json',
        { chat_id: 42, photo: 'https://example.com/p.jpg', caption: 'Menu' },
      ],
    ]);
    expect(telegram.webhooks.get(token)).toEqual({
      url: 'https://hub.example.com/api/channels/telegram/b1',
      secretToken: 'sec_ret-1',
    });
    expect((await client.setWebhook(token, 'https://x.test', 'not allowed!')).ok).toBe(false);
  });

  it('waits retry_after on 429, retries 5xx and drops, fails 403 and 400 at once', async () => {
    telegram.fail({ kind: 'rate-limited', retryAfterSeconds: 3 }, { kind: 'server-error' }, { kind: 'drop' });
    expect(await client.sendMessage(token, 42, 'a')).toMatchObject({
      ok: false,
      permanent: false,
      code: '429',
      retryAfterMs: 3_000,
    });
    expect(await client.sendMessage(token, 42, 'b')).toMatchObject({
      ok: false,
      permanent: false,
      code: '500',
    });
    const dropped = await client.sendMessage(token, 42, 'c');
    expect(dropped).toMatchObject({ ok: false, permanent: false });
    expect(JSON.stringify(dropped)).not.toContain(token);

    telegram.block(7);
    expect(await client.sendMessage(token, 7, 'd')).toMatchObject({
      permanent: true,
      code: '403',
      reason: 'The customer has blocked the bot',
    });
    telegram.fail({ kind: 'error', code: 400, description: 'Bad Request: chat not found' });
    expect(await client.sendMessage(token, 8, 'e')).toMatchObject({ permanent: true, code: '400' });
    const refused = await client.sendMessage('999:unknown', 42, 'f');
    expect(refused).toMatchObject({ permanent: true, code: '401' });
  });

  it('posts updates to the webhook with the secret token header', async () => {
    let header: string | string[] | undefined;
    const hub = await LoopbackServer.start((request, response) => {
      header = request.headers['x-telegram-bot-api-secret-token'];
      answer(response, 200, {});
    });
    try {
      await client.setWebhook(token, `${hub.url}/api/channels/telegram/b1`, 'the-secret');
      expect(await telegram.sendUpdate(token, 42, 'hi')).toBe(200);
      expect(verifyTelegramSecretToken('the-secret', header)).toBe(true);
      expect(verifyTelegramSecretToken('another', header)).toBe(false);
      expect(verifyTelegramSecretToken('the-secret', undefined)).toBe(false);
    } finally {
      await hub.close();
    }
  });
});

describe('WebhookSender', () => {
  it('signs as the Standard Webhooks reference does', () => {
    const headers = signStandardWebhook(
      '{"test": 2432232314}',
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
    );
    expect(headers['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    expect(generateWebhookSecret()).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
  });

  it('posts the body signed, and maps the answers', async () => {
    const statuses = [200, 503, 400, 302];
    const bot = await LoopbackServer.start((_request, response) => {
      const status = statuses.shift()!;
      answer(
        response,
        status,
        {},
        status === 503 ? { 'retry-after': '5' } : status === 302 ? { location: '/x' } : {},
      );
    });
    try {
      const secret = generateWebhookSecret();
      const sender = new WebhookSender({ timeoutMs: 2_000, now: () => 1_700_000_000_000 });
      const delivery = {
        url: `${bot.url}/hook`,
        secret,
        webhookId: 'd-1',
        body: '{"type":"message.created"}',
      };
      expect(await sender.send(delivery)).toMatchObject({ ok: true, httpStatus: 200 });
      const request = bot.requests[0]!;
      expect(request.body).toBe(delivery.body);
      expect(request.headers['webhook-id']).toBe('d-1');
      expect(request.headers['webhook-timestamp']).toBe('1700000000');
      const key = Buffer.from(secret.slice(6), 'base64');
      const mac = createHmac('sha256', key).update(`d-1.1700000000.${delivery.body}`).digest('base64');
      expect(request.headers['webhook-signature']).toBe(`v1,${mac}`);

      expect(await sender.send(delivery)).toMatchObject({
        ok: false,
        permanent: false,
        code: '503',
        retryAfterMs: 5_000,
      });
      expect(await sender.send(delivery)).toMatchObject({ ok: false, permanent: true, code: '400' });
      expect(await sender.send(delivery)).toMatchObject({ ok: false, permanent: true, code: '302' });
      expect(bot.requests).toHaveLength(4);
    } finally {
      await bot.close();
    }
  });
});

describe('outbox handlers', () => {
  const delivery = <P>(kind: ClaimedDelivery['kind'], payload: P): ClaimedDelivery<P> => ({
    id: 'd0c0ffee-0000-4000-8000-000000000001',
    tenantId: 't',
    kind,
    botId: 'b',
    messageId: null,
    payload,
    attempt: 1,
    createdAt: new Date(),
    claimToken: 'c',
  });
  const signal = new AbortController().signal;

  it("send through the bot's credentials, looked up at send time", async () => {
    const account = { accountSid: `AC${'3'.repeat(32)}`, authToken: 'token-3' };
    const twilio = await FakeTwilio.start([account]);
    const telegram = await FakeTelegram.start(['9:tok']);
    const bot = await LoopbackServer.start((_request, response) => answer(response, 204, {}));
    try {
      const sendTwilio = twilioHandler(new TwilioClient({ baseUrl: twilio.url }), {
        sender: async (d) => (d.botId === 'b' ? { ...account, from: 'whatsapp:+15550000001' } : null),
        statusCallback: 'https://hub.example.com/api/channels/twilio/status',
      });
      const payload = { to: 'whatsapp:+15550000002', body: 'Hi', mediaUrl: 'https://example.com/a.jpg' };
      expect(await sendTwilio(delivery('twilio', payload), signal)).toMatchObject({ ok: true });
      expect(twilio.messages[0]).toMatchObject({
        from: 'whatsapp:+15550000001',
        to: payload.to,
        mediaUrls: [payload.mediaUrl],
        statusCallback: 'https://hub.example.com/api/channels/twilio/status',
      });
      expect(await sendTwilio({ ...delivery('twilio', payload), botId: 'gone' }, signal)).toMatchObject({
        ok: false,
        permanent: true,
        code: 'not_configured',
      });

      const sendTelegram = telegramHandler(new TelegramClient({ baseUrl: telegram.url }), {
        token: async () => '9:tok',
      });
      await sendTelegram(
        delivery('telegram', { chatId: 5, text: 'Menu', photoUrl: 'https://example.com/m.jpg' }),
        signal,
      );
      expect(telegram.calls.map((c) => [c.method, c.params])).toEqual([
        ['sendPhoto', { chat_id: 5, photo: 'https://example.com/m.jpg', caption: 'Menu' }],
      ]);

      const secret = generateWebhookSecret();
      const sendWebhook = webhookHandler(new WebhookSender(), {
        target: async () => ({ url: bot.url, secret }),
      });
      const event = delivery('webhook', { event: { type: 'message.created', text: 'hello' } });
      expect(await sendWebhook(event, signal)).toMatchObject({ ok: true, httpStatus: 204 });
      expect(bot.requests[0]!.headers['webhook-id']).toBe(event.id);
      expect(JSON.parse(bot.requests[0]!.body)).toEqual({ type: 'message.created', text: 'hello' });
    } finally {
      await Promise.all([twilio.close(), telegram.close(), bot.close()]);
    }
  });
});
