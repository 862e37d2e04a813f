import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twilioSignature } from '../channels/index.ts';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { ingest, message, newPhone } from '../testing/ingest.ts';
import { FakeTwilio } from '../testing/providers/index.ts';

const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'replies-test-auth-token';
const BOT = 'whatsapp:+966508034011';
const PUBLIC_URL = 'https://hub.example.com';
const STATUS_URL = `${PUBLIC_URL}/api/channels/twilio/status`;

let t: TestApp;
let twilio: FakeTwilio;
let tenantId: string;
let operate: string;
let reader: string;
let ingestKey: string;
let otherOperate: string;

beforeAll(async () => {
  twilio = await FakeTwilio.start([{ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN }]);
  t = await createTestApp({ TWILIO_API_BASE_URL: twilio.url, PUBLIC_URL });
  const tenant = await t.createTenant('replies');
  tenantId = tenant.id;
  operate = (await t.createKey(tenantId, ['operate'])).token;
  reader = (await t.createKey(tenantId, ['read'])).token;
  ingestKey = (await t.createKey(tenantId, ['ingest'])).token;
  otherOperate = (await t.createKey((await t.createTenant('other')).id, ['operate'])).token;
  const bot = await t.app.inject({
    method: 'POST',
    url: '/api/admin/bots',
    headers: { ...bearer(t.adminToken), 'x-tenant-id': tenantId },
    payload: {
      name: 'Bot',
      restaurantName: 'Replies',
      whatsappNumber: BOT,
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
    },
  });
  expect(bot.statusCode, bot.body).toBe(201);
});

afterAll(async () => {
  await t?.close();
  await twilio?.close();
});

/** A new customer's conversation with the bot, begun by an inbound message. */
async function conversation(): Promise<{ id: string; phone: string }> {
  const phone = newPhone();
  await ingest(t, ingestKey, [message(phone, 'Hello?', new Date().toISOString(), { bot: BOT })]);
  const list = await t.app.inject({
    method: 'GET',
    url: `/api/db/conversations?q=${encodeURIComponent(phone)}`,
    headers: bearer(reader),
  });
  return { id: list.json()[0].id, phone };
}

const send = (id: string, payload: object, token = operate) =>
  t.app.inject({ method: 'POST', url: `/api/conversations/${id}/messages`, headers: bearer(token), payload });

interface Stored {
  delivery_status: string | null;
  delivery_error_code: string | null;
  delivery_error: string | null;
  provider_message_id: string | null;
}
const stored = async (id: string) =>
  (
    await t.db.query<Stored>(
      'SELECT delivery_status, delivery_error_code, delivery_error, provider_message_id FROM messages WHERE id = $1',
      [id],
    )
  ).rows[0]!;

/** Waits (polling the database, not sleeping a fixed time) until the message's status is `status`. */
async function statusBecomes(id: string, status: string): Promise<Stored> {
  const until = Date.now() + 5_000;
  for (;;) {
    const row = await stored(id);
    if (row.delivery_status === status || Date.now() > until) return row;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function callback(params: Record<string, string>, signature?: string) {
  return t.app.inject({
    method: 'POST',
    url: '/api/channels/twilio/status',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature ?? twilioSignature(AUTH_TOKEN, STATUS_URL, params),
    },
    payload: new URLSearchParams(params).toString(),
  });
}

const statusParams = (sid: string, status: string, extra: Record<string, string> = {}) => ({
  AccountSid: ACCOUNT_SID,
  MessageSid: sid,
  MessageStatus: status,
  ...extra,
});

describe('replies', () => {
  it('sends a reply through Twilio as Twilio documents it, 202 then sent', async () => {
    const c = await conversation();
    const response = await send(c.id, { content: 'On its way!' });
    expect(response.statusCode, response.body).toBe(202);
    const reply = response.json();
    expect(reply).toMatchObject({
      conversationId: c.id,
      direction: 'OUT',
      content: 'On its way!',
      authorType: 'agent',
      deliveryStatus: 'queued',
    });
    const row = await statusBecomes(reply.id, 'sent');
    expect(row.delivery_status).toBe('sent');
    const sent = twilio.messages.find((m) => m.sid === row.provider_message_id)!;
    expect(sent).toMatchObject({
      accountSid: ACCOUNT_SID,
      from: BOT,
      to: `whatsapp:${c.phone}`,
      body: 'On its way!',
      statusCallback: STATUS_URL,
    });
    const request = twilio.requests.find((r) => r.body.includes('On+its+way'))!;
    expect(request.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    expect(request.headers.authorization).toBe(
      `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`,
    );
    const form = new URLSearchParams(request.body);
    expect(Object.fromEntries(form)).toMatchObject({
      From: BOT,
      To: `whatsapp:${c.phone}`,
      Body: 'On its way!',
      StatusCallback: STATUS_URL,
    });

    const after = await t.app.inject({
      method: 'GET',
      url: `/api/db/conversations/${c.id}`,
      headers: bearer(reader),
    });
    expect(after.json()).toMatchObject({
      isBotActive: false,
      messageCount: 2,
      lastMessagePreview: 'On its way!',
    });
    const feed = await t.db.query<{ type: string }>(
      `SELECT type FROM events WHERE tenant_id = $1 AND entity_id IN ($2, $3) ORDER BY seq`,
      [tenantId, reply.id, c.id],
    );
    const types = feed.rows.map((r) => r.type);
    expect(types).toContain('message.created');
    expect(types).toContain('conversation.updated');
    expect(types).toContain('message.updated');
  });

  it('merges status callbacks in any order, and checks their signature', async () => {
    const c = await conversation();
    const reply = (await send(c.id, { content: 'Any order' })).json();
    const sid = (await statusBecomes(reply.id, 'sent')).provider_message_id!;
    for (const status of ['read', 'sent', 'delivered', 'failed']) {
      const response = await callback(
        statusParams(sid, status, status === 'failed' ? { ErrorCode: '30008' } : {}),
      );
      expect(response.statusCode, response.body).toBe(204);
      expect(response.body).toBe('');
    }
    expect(await stored(reply.id)).toMatchObject({ delivery_status: 'read', delivery_error_code: null });

    const forged = await callback(statusParams(sid, 'undelivered'), twilioSignature('wrong', STATUS_URL, {}));
    expect(forged.statusCode).toBe(403);
    const unknown = await callback(statusParams('SM00000000000000000000000000000000', 'read'));
    expect(unknown.statusCode).toBe(200);
    expect(unknown.body).toBe('');
    expect((await stored(reply.id)).delivery_status).toBe('read');
    const json = await t.app.inject({
      method: 'POST',
      url: '/api/channels/twilio/status',
      payload: { MessageSid: sid },
    });
    expect(json.statusCode).toBeGreaterThanOrEqual(400);
    expect(json.statusCode).toBeLessThan(500);
  });

  it("fails a message Twilio refuses for good (21211), with Twilio's code and reason", async () => {
    const c = await conversation();
    twilio.fail({ kind: 'error', status: 400, code: 21211 });
    const reply = (await send(c.id, { content: 'To a bad number' })).json();
    const row = await statusBecomes(reply.id, 'failed');
    expect(row).toMatchObject({ delivery_status: 'failed', delivery_error_code: '21211' });
    expect(row.delivery_error).toBeTruthy();
  });

  it('stores and sends a reply once for a repeated clientId', async () => {
    const c = await conversation();
    const first = await send(c.id, { content: 'Once', clientId: 'abc-1' });
    expect(first.statusCode).toBe(202);
    const again = await send(c.id, { content: 'Once', clientId: 'abc-1' });
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(first.json().id);
    const deliveries = await t.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM outbox_deliveries WHERE message_id = $1',
      [first.json().id],
    );
    expect(deliveries.rows[0]!.n).toBe(1);
    const messages = await t.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1',
      [c.id],
    );
    expect(messages.rows[0]!.n).toBe(2);
  });

  it("answers another tenant's conversation 404, a read key 403, a bad body 400 with its field", async () => {
    const c = await conversation();
    expect((await send(c.id, { content: 'x' }, otherOperate)).statusCode).toBe(404);
    expect((await send(c.id, { content: 'x' }, reader)).statusCode).toBe(403);
    const bad = await send(c.id, { content: 42 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0].path).toBe('content');
    expect((await send(c.id, { content: '  ' })).statusCode).toBe(400);
    const count = await t.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1',
      [c.id],
    );
    expect(count.rows[0]!.n).toBe(1);
  });

  it("names the person who replied from a session as the message's author", async () => {
    const c = await conversation();
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: t.adminEmail, password: t.adminPassword },
    });
    const cookie = login.cookies.find((k) => k.name === 'syncdeck_session')!;
    const response = await t.app.inject({
      method: 'POST',
      url: `/api/conversations/${c.id}/messages`,
      headers: { cookie: `syncdeck_session=${cookie.value}`, 'x-tenant-id': tenantId },
      payload: { content: 'Hello, this is a person' },
    });
    expect(response.statusCode, response.body).toBe(202);
    expect(response.json()).toMatchObject({ authorType: 'agent', authorName: t.adminEmail });
    const row = await t.db.query<{ author_user_id: string | null }>(
      'SELECT author_user_id FROM messages WHERE id = $1',
      [response.json().id],
    );
    expect(row.rows[0]!.author_user_id).toBeTruthy();
  });

  it('hands the conversation back to the bot', async () => {
    const c = await conversation();
    await send(c.id, { content: 'A person here' });
    const url = `/api/conversations/${c.id}/handback`;
    expect((await t.app.inject({ method: 'POST', url, headers: bearer(reader) })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'POST', url, headers: bearer(otherOperate) })).statusCode).toBe(404);
    const back = await t.app.inject({ method: 'POST', url, headers: bearer(operate) });
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json().isBotActive).toBe(true);
  });
});
