import { createServer } from 'node:net';
import type { Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { FakeTelegram } from '../testing/providers/index.ts';

const TOKEN = '7001234567:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const UNKNOWN_TOKEN = '7009999999:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';

let t: TestApp;
let telegram: FakeTelegram;
let publicUrl: string;
let tenant: Tenant;
let admin: string;
let read: string;
let botId: string;

/** A port free right now, so PUBLIC_URL can name where the app will listen. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  telegram = await FakeTelegram.start([TOKEN]);
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  t = await createTestApp({ PUBLIC_URL: publicUrl, TELEGRAM_API_BASE_URL: telegram.url });
  // Listening for real, so the stand-in posts its updates to the webhook it was given.
  await t.app.listen({ port, host: '127.0.0.1' });
  tenant = await t.createTenant('inbound-telegram');
  admin = (await t.createKey(tenant.id, ['admin'])).token;
  read = (await t.createKey(tenant.id, ['read'])).token;
});
afterAll(async () => {
  await t.close();
  await telegram.close();
});

const register = (payload: object) =>
  t.app.inject({ method: 'POST', url: '/api/admin/bots/telegram', headers: bearer(admin), payload });

async function telegramBotCount(): Promise<number> {
  const result = await t.db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM bots WHERE tenant_id = $1 AND channel = 'telegram'",
    [tenant.id],
  );
  return result.rows[0]!.n;
}

function postUpdate(update: object, secret: string | null = telegram.webhooks.get(TOKEN)!.secretToken) {
  return t.app.inject({
    method: 'POST',
    url: `/api/channels/telegram/${botId}`,
    headers: secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret },
    payload: update,
  });
}

const message = (
  updateId: number,
  extra: object,
  chat: object = { id: 4242, type: 'private', first_name: 'Sara' },
) => ({
  update_id: updateId,
  message: {
    message_id: updateId,
    from: { id: 4242, is_bot: false, first_name: 'Sara' },
    chat,
    date: 1_765_000_000,
    ...extra,
  },
});

async function messagesOf(chatId: string) {
  const result = await t.db.query<{
    content: string;
    message_type: string;
    metadata: Record<string, unknown>;
  }>(
    `SELECT m.content, m.message_type, m.metadata FROM messages m
     JOIN conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id
     JOIN customers u ON u.tenant_id = c.tenant_id AND u.id = c.customer_id
     WHERE m.tenant_id = $1 AND u.telegram_chat_id = $2 ORDER BY m.created_at`,
    [tenant.id, chatId],
  );
  return result.rows;
}

describe('registering a Telegram bot', () => {
  it('refuses a token Telegram refuses, with its description, and stores nothing', async () => {
    const response = await register({ name: 'Nope', token: UNKNOWN_TOKEN });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.details).toEqual([
      { path: 'token', message: 'Telegram: Telegram refused the bot token' },
    ]);
    telegram.fail({ kind: 'server-error' });
    const unreachable = await register({ name: 'Later', token: TOKEN });
    expect(unreachable.statusCode).toBe(400);
    expect(unreachable.json().error.message).toMatch(/could not be reached/);
    expect(await telegramBotCount()).toBe(0);
  });

  it('refuses what is not a token by its path', async () => {
    const response = await register({ name: 'Bad', token: 'not-a-token' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.details.map((d: { path: string }) => d.path)).toEqual(['token']);
  });

  it('sets the webhook exactly as Telegram documents it, then stores the bot without showing the token', async () => {
    const response = await register({ name: 'Sufrah Telegram', token: TOKEN, restaurantName: 'Sufrah' });
    expect(response.statusCode).toBe(201);
    const bot = response.json();
    botId = bot.id;
    expect(bot).toMatchObject({
      channel: 'telegram',
      address: '7001234567',
      hasTelegramToken: true,
      hasAuthToken: false,
    });
    expect(response.body).not.toContain('AAHdqTcv');

    const call = telegram.requests.at(-1)!;
    expect(call.method).toBe('POST');
    expect(call.path).toBe(`/bot${TOKEN}/setWebhook`);
    expect(call.headers['content-type']).toMatch(/^application\/json/);
    const params = JSON.parse(call.body);
    expect(params).toEqual({
      url: `${publicUrl}/api/channels/telegram/${bot.id}`,
      secret_token: expect.any(String),
    });
    expect(params.secret_token).toMatch(/^[A-Za-z0-9_-]{32,256}$/);

    const stored = await t.db.query<{ telegram_token_encrypted: string; telegram_secret_encrypted: string }>(
      'SELECT telegram_token_encrypted, telegram_secret_encrypted FROM bots WHERE id = $1',
      [bot.id],
    );
    expect(stored.rows[0]!.telegram_token_encrypted).not.toContain(TOKEN);
    expect(stored.rows[0]!.telegram_secret_encrypted).not.toContain(params.secret_token);
    expect((await register({ name: 'Again', token: TOKEN })).statusCode).toBe(409);
    const listed = await t.app.inject({ url: `/api/admin/bots/${bot.id}`, headers: bearer(admin) });
    expect(listed.json()).toMatchObject({ hasTelegramToken: true, hasAuthToken: false });
  });
  it('claims a bot ingest met first under that Telegram id, keeping its id and history', async () => {
    const token = '7005550000:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
    telegram.addBot(token);
    const ingestKey = (await t.createKey(tenant.id, ['ingest'])).token;
    const pushed = await t.app.inject({
      method: 'POST',
      url: '/functions/v1/sync',
      headers: bearer(ingestKey),
      payload: {
        event: 'message.created',
        data: {
          customer_identifier: { telegram_chat_id: '8181' },
          bot: { telegram_bot_id: '7005550000' },
          direction: 'IN',
          content: 'before registration',
        },
      },
    });
    expect(pushed.statusCode).toBe(200);
    const met = await t.db.query<{ id: string }>(
      "SELECT id FROM bots WHERE tenant_id = $1 AND channel = 'telegram' AND address = '7005550000'",
      [tenant.id],
    );
    const response = await register({ name: 'Claimed', token });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ id: met.rows[0]!.id, name: 'Claimed' });
    expect(response.json().registeredAt).not.toBeNull();
    expect(JSON.parse(telegram.requests.at(-1)!.body).url).toBe(
      `${publicUrl}/api/channels/telegram/${met.rows[0]!.id}`,
    );
  });
});

describe('POST /api/channels/telegram/:id', () => {
  it("stores a text message Telegram posts, in the customer's conversation and on the feed", async () => {
    expect(await telegram.sendUpdate(TOKEN, 4242, 'Is the shawarma spicy?', 'Sara')).toBe(200);
    expect(await messagesOf('4242')).toEqual([
      expect.objectContaining({ content: 'Is the shawarma spicy?', message_type: 'text' }),
    ]);
    const list = await t.app.inject({ url: `/api/db/conversations?botId=${botId}`, headers: bearer(read) });
    expect(list.json()).toEqual([expect.objectContaining({ botId, customerName: 'Sara' })]);
    const feed = await t.db.query<{ type: string }>(
      "SELECT type FROM events WHERE tenant_id = $1 AND payload::jsonb->>'content' = 'Is the shawarma spicy?'",
      [tenant.id],
    );
    expect(feed.rows).toHaveLength(1);
  });

  it('stores a redelivered update_id once', async () => {
    const update = message(9001, { text: 'Once only' }, { id: 5151, type: 'private', first_name: 'Omar' });
    expect((await postUpdate(update)).json()).toEqual({ status: 'accepted' });
    expect((await postUpdate(update)).json()).toEqual({ status: 'duplicate' });
    expect(await messagesOf('5151')).toHaveLength(1);
  });

  it('stores a photo as an image with its file reference', async () => {
    const photo = [
      { file_id: 'small', file_unique_id: 's1', width: 90, height: 90, file_size: 900 },
      { file_id: 'large', file_unique_id: 'l1', width: 1280, height: 960, file_size: 90_000 },
    ];
    const response = await postUpdate(
      message(9002, { photo, caption: 'My order' }, { id: 6161, type: 'private' }),
    );
    expect(response.statusCode).toBe(200);
    const [stored] = await messagesOf('6161');
    expect(stored).toMatchObject({ content: 'My order', message_type: 'image' });
    expect(stored!.metadata).toMatchObject({ telegram_file_id: 'large' });
  });

  it('answers 200 to updates it ignores and stores nothing', async () => {
    const before = await t.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM messages WHERE tenant_id = $1',
      [tenant.id],
    );
    const callback = {
      update_id: 9003,
      callback_query: { id: '1', from: { id: 4242, is_bot: false, first_name: 'Sara' }, data: 'x' },
    };
    const group = message(9004, { text: 'hello all' }, { id: -100, type: 'group', title: 'Staff' });
    for (const update of [callback, group]) {
      const response = await postUpdate(update);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: 'ignored' });
    }
    const after = await t.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM messages WHERE tenant_id = $1',
      [tenant.id],
    );
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it('refuses (403) a wrong or missing secret token and an unknown bot', async () => {
    const update = message(9005, { text: 'forged' }, { id: 7171, type: 'private' });
    expect((await postUpdate(update, 'wrong-secret')).statusCode).toBe(403);
    expect((await postUpdate(update, null)).statusCode).toBe(403);
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/api/channels/telegram/00000000-0000-4000-8000-000000000000',
      headers: { 'x-telegram-bot-api-secret-token': telegram.webhooks.get(TOKEN)!.secretToken! },
      payload: update,
    });
    expect(unknown.statusCode).toBe(403);
    expect(await messagesOf('7171')).toHaveLength(0);
  });

  it('answers a malformed update from Telegram 400 with the field path', async () => {
    const response = await postUpdate({
      update_id: 9006,
      message: { message_id: 1, date: 1, chat: { type: 'private' } },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.details.map((d: { path: string }) => d.path)).toContain('message.chat.id');
  });

  it('replaces the token: a new secret is set, and the old one no longer opens the webhook', async () => {
    const old = telegram.webhooks.get(TOKEN)!.secretToken!;
    const response = await t.app.inject({
      method: 'PUT',
      url: `/api/admin/bots/${botId}/telegram`,
      headers: bearer(admin),
      payload: { token: TOKEN },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id: botId, hasTelegramToken: true });
    const fresh = telegram.webhooks.get(TOKEN)!.secretToken!;
    expect(fresh).not.toBe(old);
    expect((await postUpdate(message(9007, { text: 'old' }), old)).statusCode).toBe(403);
    expect((await postUpdate(message(9008, { text: 'new' }), fresh)).statusCode).toBe(200);
    const other = await t.app.inject({
      method: 'PUT',
      url: `/api/admin/bots/${botId}/telegram`,
      headers: bearer(admin),
      payload: { token: UNKNOWN_TOKEN },
    });
    expect(other.statusCode).toBe(400);
  });
});
