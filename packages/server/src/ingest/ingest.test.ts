import type { Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { orderCreated, orderStatus } from '../testing/ingest.ts';
import { pruneExpired } from '../retention.ts';

let t: TestApp;
let tenant: Tenant;
let other: Tenant;
let ingestKey: string;
let otherIngestKey: string;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant('sync-a');
  other = await t.createTenant('sync-b');
  ingestKey = (await t.createKey(tenant.id, ['ingest'])).token;
  otherIngestKey = (await t.createKey(other.id, ['ingest'])).token;
});
afterAll(() => t.close());

function post(payload: unknown, token = ingestKey, url = '/functions/v1/sync') {
  return t.app.inject({ method: 'POST', url, headers: bearer(token), payload: payload as object });
}

async function one<T>(sql: string, params: unknown[] = []): Promise<T> {
  const result = await t.db.query<T>(sql, params);
  return result.rows[0]!;
}

let counter = 0;
/** A fresh, valid Saudi mobile number per call, so tests do not share customers. */
function newPhone(): string {
  counter += 1;
  return `+9665${String(10_000_000 + counter * 7919).slice(-8)}`;
}

describe('POST /functions/v1/sync', () => {
  it('creates a customer from customer.seen exactly as the seed sends it', async () => {
    const phone = newPhone();
    const response = await post({
      event: 'customer.seen',
      data: {
        display_name: 'Ahmed Ali',
        phone,
        primary_channel: 'whatsapp',
        whatsapp_phone: `whatsapp:${phone}`,
        telegram_group_id: '-100123',
        syrve_customer_id: 'syrve-1',
        preferred_language: 'ar',
        trust_level: 'regular',
      },
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ status: 'accepted' });
    const customer = await one<Record<string, unknown>>(
      'SELECT * FROM customers WHERE tenant_id = $1 AND whatsapp_phone = $2',
      [tenant.id, phone],
    );
    expect(customer).toMatchObject({
      display_name: 'Ahmed Ali',
      preferred_language: 'ar',
      syrve_customer_id: 'syrve-1',
    });
  });

  it('serves the same API at /api/sync/events', async () => {
    const response = await post(
      { event: 'customer.seen', data: { telegram_chat_id: 424242 } },
      ingestKey,
      '/api/sync/events',
    );
    expect(response.statusCode).toBe(200);
    const customer = await one<{ n: number }>(
      "SELECT count(*)::int AS n FROM customers WHERE tenant_id = $1 AND telegram_chat_id = '424242'",
      [tenant.id],
    );
    expect(customer.n).toBe(1);
  });

  it('resolves a customer by a phone in any spelling and merges without erasing', async () => {
    const phone = newPhone(); // +9665XXXXXXXX
    const local = phone.slice(4); // 5XXXXXXXX
    const spellings = [
      `whatsapp:${phone}`,
      `+966 ${local.slice(0, 2)} ${local.slice(2, 5)} ${local.slice(5)}`,
      `00966${local}`,
    ];
    await post({
      event: 'customer.seen',
      data: { whatsapp_phone: spellings[0], display_name: 'First Name' },
    });
    await post({ event: 'customer.seen', data: { phone: spellings[1], preferred_language: 'en' } });
    await post({ event: 'customer.seen', data: { whatsapp_phone: spellings[2], trust_level: 'vip' } });
    const rows = await t.db.query<Record<string, unknown>>(
      `SELECT c.* FROM customers c JOIN customer_identities i ON i.tenant_id = c.tenant_id AND i.customer_id = c.id
       WHERE c.tenant_id = $1 AND i.kind = 'phone' AND i.value = $2`,
      [tenant.id, phone],
    );
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]).toMatchObject({
      display_name: 'First Name',
      preferred_language: 'en',
      trust_level: 'vip',
      phone,
    });
  });

  it('moves last_seen_at only forward, and lets an older event only fill empty fields', async () => {
    const phone = newPhone();
    await post({
      event: 'customer.seen',
      occurred_at: '2026-01-02T00:00:00Z',
      data: { phone, display_name: 'New' },
    });
    await post({
      event: 'customer.seen',
      occurred_at: '2026-01-01T00:00:00Z',
      data: { phone, display_name: 'Old', preferred_language: 'ar' },
    });
    const customer = await one<{
      display_name: string;
      preferred_language: string;
      last_seen_at: Date;
      first_seen_at: Date;
    }>(
      'SELECT display_name, preferred_language, last_seen_at, first_seen_at FROM customers WHERE tenant_id = $1 AND phone = $2',
      [tenant.id, phone],
    );
    expect(customer.display_name).toBe('New');
    expect(customer.preferred_language).toBe('ar');
    expect(customer.last_seen_at.toISOString()).toBe('2026-01-02T00:00:00.000Z');
    expect(customer.first_seen_at.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('creates one customer when 20 parallel requests name the same new person', async () => {
    const phone = newPhone();
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post({ event: 'customer.seen', data: { whatsapp_phone: phone, display_name: `Name ${i}` } }),
      ),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    const count = await one<{ n: number }>(
      "SELECT count(DISTINCT customer_id)::int AS n FROM customer_identities WHERE tenant_id = $1 AND kind = 'phone' AND value = $2",
      [tenant.id, phone],
    );
    expect(count.n).toBe(1);
    const customers = await one<{ n: number }>(
      'SELECT count(*)::int AS n FROM customers WHERE tenant_id = $1 AND whatsapp_phone = $2',
      [tenant.id, phone],
    );
    expect(customers.n).toBe(1);
  });

  it('applies an event_id once: a retry answers duplicate and changes nothing', async () => {
    const phone = newPhone();
    const event = { event: 'message.created', event_id: `evt-${phone}`, data: message(phone, 'hello') };
    expect((await post(event)).json()).toEqual({ status: 'accepted', event_id: `evt-${phone}` });
    expect((await post(event)).json()).toEqual({ status: 'duplicate', event_id: `evt-${phone}` });
    const messages = await one<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages m JOIN conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id
       JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id WHERE cu.whatsapp_phone = $1`,
      [phone],
    );
    expect(messages.n).toBe(1);
  });

  it('rejects unknown events with the list of known ones, and bad fields with their paths', async () => {
    const unknown = await post({ event: 'order.teleported', data: {} });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.details).toEqual([
      { path: 'event', message: expect.stringContaining('customer.seen, order.created') },
    ]);

    const badPhone = await post({ event: 'customer.seen', data: { whatsapp_phone: 'call me maybe' } });
    expect(badPhone.statusCode).toBe(400);
    expect(badPhone.json().error.details[0].path).toBe('data.whatsapp_phone');

    const noIdentity = await post({ event: 'customer.seen', data: { display_name: 'Nobody' } });
    expect(noIdentity.statusCode).toBe(400);
    expect(noIdentity.json().error.details[0].path).toBe('data');

    const wrongType = await post({
      event: 'order.created',
      data: { customer_identifier: { phone: newPhone() }, syrve_order_id: 'x', total: 'ten' },
    });
    expect(wrongType.json().error.details).toEqual([{ path: 'data.total', message: expect.any(String) }]);

    const badStatus = await post({ event: 'order.status', data: { syrve_order_id: 'x', status: 'eaten' } });
    expect(badStatus.json().error.details[0].path).toBe('data.status');

    const notAnObject = await t.app.inject({
      method: 'POST',
      url: '/functions/v1/sync',
      headers: { ...bearer(ingestKey), 'content-type': 'application/json' },
      payload: '[1,2]',
    });
    expect(notAnObject.statusCode).toBe(400);
  });

  it('answers a batch per item: bad events never sink good ones', async () => {
    const phone = newPhone();
    const response = await post({
      events: [
        { event: 'customer.seen', data: { phone, display_name: 'Batch Person' } },
        { event: 'customer.seen', data: { phone: 'nope' } },
        { event: 'nope.nope', data: {} },
        { event: 'message.created', event_id: `b-${phone}`, data: message(phone, 'from a batch') },
        {
          event: 'message.created',
          event_id: `bad-${phone}`,
          data: { ...message(phone, 'bad bot'), bot: { id: '00000000-0000-4000-8000-000000000000' } },
        },
      ],
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ accepted: 2, duplicate: 0, rejected: 3 });
    expect(body.results.map((r: { status: string }) => r.status)).toEqual([
      'accepted',
      'rejected',
      'rejected',
      'accepted',
      'rejected',
    ]);
    expect(body.results[1].error.details[0].path).toBe('data.phone');
    expect(body.results[4].error.details[0].path).toBe('data.bot.id');
    const stored = await one<{ n: number }>(
      "SELECT count(*)::int AS n FROM messages WHERE tenant_id = $1 AND content = 'bad bot'",
      [tenant.id],
    );
    expect(stored.n).toBe(0);
    // An applied id answers duplicate; a refused event's id stays free for its corrected retry.
    const again = await post({
      events: [
        { event: 'message.created', event_id: `b-${phone}`, data: message(phone, 'dup') },
        { event: 'message.created', event_id: `bad-${phone}`, data: message(phone, 'bad bot, corrected') },
      ],
    });
    expect(again.json().results.map((r: { status: string }) => r.status)).toEqual(['duplicate', 'accepted']);
  });

  it('applies a batch as the same events one by one would be applied', async () => {
    const phone = newPhone();
    const response = await post({
      events: [
        { event: 'customer.seen', data: { whatsapp_phone: phone, display_name: 'Batchy' } },
        { event: 'message.created', data: { ...message(phone, 'one'), wa_sid: `S1-${phone}` } },
        {
          event: 'message.created',
          event_id: `E-${phone}`,
          data: { ...message(phone, 'two'), wa_sid: `S2-${phone}` },
        },
        { event: 'message.created', data: { ...message(phone, 'two again'), wa_sid: `S2-${phone}` } },
        {
          event: 'message.created',
          event_id: `E-${phone}`,
          data: { ...message(phone, 'same id'), wa_sid: `S3-${phone}` },
        },
        {
          event: 'escalation.created',
          data: { customer_identifier: { whatsapp_phone: phone }, reason: 'help' },
        },
        { event: 'conversation.closed', data: { customer_identifier: { whatsapp_phone: phone }, bot: BOT } },
        { event: 'message.created', data: { ...message(phone, 'after closing'), wa_sid: `S4-${phone}` } },
      ],
    });
    expect(response.json().results.map((r: { status: string }) => r.status)).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'duplicate',
      'duplicate',
      'accepted',
      'accepted',
      'accepted',
    ]);
    const customers = await one<{ n: number }>(
      'SELECT count(*)::int AS n FROM customers WHERE tenant_id = $1 AND whatsapp_phone = $2',
      [tenant.id, phone],
    );
    expect(customers.n).toBe(1);
    const conversations = await t.db.query<{
      status: string;
      message_count: number;
      unread_count: number;
      is_bot_active: boolean;
      display_name: string;
    }>(
      `SELECT c.status, c.message_count, c.unread_count, c.is_bot_active, cu.display_name FROM conversations c
       JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id
       WHERE cu.whatsapp_phone = $1 ORDER BY c.created_at, c.status DESC`,
      [phone],
    );
    expect(conversations.rows).toEqual([
      {
        status: 'closed',
        message_count: 2,
        unread_count: 2,
        is_bot_active: false,
        display_name: 'Test Customer',
      },
      {
        status: 'active',
        message_count: 1,
        unread_count: 1,
        is_bot_active: true,
        display_name: 'Test Customer',
      },
    ]);
  });

  it('rejects a batch that is not an array of 1 to 1000', async () => {
    for (const events of [[], 'x', Array.from({ length: 1001 }, () => ({}))]) {
      const response = await post({ events });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.details[0].path).toBe('events');
    }
  });

  it('puts messages in the active conversation, once per wa_sid, counting unread', async () => {
    const phone = newPhone();
    for (const [content, direction, waSid] of [
      ['hi', 'IN', `WA-${phone}-1`],
      ['hello, how can I help?', 'OUT', `WA-${phone}-2`],
      ['a pizza please', 'IN', `WA-${phone}-3`],
      ['a pizza please', 'IN', `WA-${phone}-3`],
    ] as const) {
      expect(
        (
          await post({
            event: 'message.created',
            data: { ...message(phone, content), direction, wa_sid: waSid },
          })
        ).statusCode,
      ).toBe(200);
    }
    const conversations = await t.db.query<{
      id: string;
      unread_count: number;
      message_count: number;
      last_message_preview: string;
    }>(
      `SELECT c.id, c.unread_count, c.message_count, c.last_message_preview FROM conversations c
       JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id WHERE cu.whatsapp_phone = $1`,
      [phone],
    );
    expect(conversations.rows).toHaveLength(1);
    expect(conversations.rows[0]).toMatchObject({
      unread_count: 2,
      message_count: 3,
      last_message_preview: 'a pizza please',
    });
  });

  it('opens a new conversation after one is closed', async () => {
    const phone = newPhone();
    await post({ event: 'message.created', data: message(phone, 'first visit') });
    const closed = await post({
      event: 'conversation.closed',
      data: { customer_identifier: { whatsapp_phone: phone }, bot: BOT },
    });
    expect(closed.statusCode).toBe(200);
    await post({ event: 'message.created', data: message(phone, 'second visit') });
    const statuses = await t.db.query<{ status: string }>(
      `SELECT c.status FROM conversations c JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id
       WHERE cu.whatsapp_phone = $1 ORDER BY c.created_at`,
      [phone],
    );
    expect(statuses.rows.map((r) => r.status)).toEqual(['closed', 'active']);
    const missing = await post({
      event: 'conversation.closed',
      data: { conversation_id: '00000000-0000-4000-8000-000000000000' },
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.details[0].path).toBe('data.conversation_id');

    // A bot named by an id this tenant does not have: refused, and the event id stays free.
    const eventId = `close-${phone}`;
    const unknownBot = await post({
      event: 'conversation.closed',
      event_id: eventId,
      data: {
        customer_identifier: { whatsapp_phone: phone },
        bot: { id: '00000000-0000-4000-8000-000000000001' },
      },
    });
    expect(unknownBot.statusCode).toBe(400);
    expect(unknownBot.json().error.details).toEqual([
      { path: 'data.bot.id', message: 'no such bot in this tenant' },
    ]);
    const retried = await post({
      event: 'conversation.closed',
      event_id: eventId,
      data: { customer_identifier: { whatsapp_phone: phone }, bot: BOT },
    });
    expect(retried.json().status).toBe('accepted');
    const after = await t.db.query<{ status: string }>(
      `SELECT c.status FROM conversations c JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id
       WHERE cu.whatsapp_phone = $1 ORDER BY c.created_at`,
      [phone],
    );
    expect(after.rows.map((r) => r.status)).toEqual(['closed', 'closed']);
  });

  it('keeps one order per syrve_order_id and resolves statuses by event time', async () => {
    const phone = newPhone();
    const orderId = `order-${phone}`;
    const status = (value: string, at: string) =>
      post({ event: 'order.status', occurred_at: at, data: { syrve_order_id: orderId, status: value } });
    // A status that overtakes its order is kept and applies when the order arrives.
    await status('confirmed', '2026-03-01T10:01:00Z');
    const created = {
      event: 'order.created',
      occurred_at: '2026-03-01T10:00:00Z',
      data: {
        customer_identifier: { whatsapp_phone: phone },
        syrve_order_id: orderId,
        external_number: 1042,
        items: [{ name: 'Margherita', amount: 2, price: 35 }],
        total: 70,
        delivery_address: 'King Fahd Rd',
        payment_method: 'cash',
        restaurant: 'Sufrah',
        channel: 'whatsapp',
      },
    };
    expect((await post(created)).statusCode).toBe(200);
    expect((await post(created)).json().status).toBe('duplicate');
    const current = () =>
      one<{ status: string; n: number }>(
        'SELECT status, (SELECT count(*)::int FROM orders WHERE tenant_id = $1 AND syrve_order_id = $2) AS n FROM orders WHERE tenant_id = $1 AND syrve_order_id = $2',
        [tenant.id, orderId],
      );
    expect(await current()).toEqual({ status: 'confirmed', n: 1 });
    await status('delivering', '2026-03-01T10:30:00Z');
    await status('cooking', '2026-03-01T10:10:00Z'); // late and older: history only
    expect((await current()).status).toBe('delivering');
    const history = await one<{ n: number }>(
      'SELECT count(*)::int AS n FROM order_status_history WHERE tenant_id = $1 AND syrve_order_id = $2',
      [tenant.id, orderId],
    );
    expect(history.n).toBe(3);
  });

  it('resolves orders and their statuses by event time within one batch, as one by one', async () => {
    const phone = newPhone();
    const [first, second] = [`batch-a-${phone}`, `batch-b-${phone}`];
    const order = (id: string, at: string, total: number) => orderCreated(phone, id, at, total);
    const status = orderStatus;
    const response = await post({
      events: [
        status(first, 'confirmed', '2026-03-02T10:01:00Z'), // before its order, in the same batch
        order(first, '2026-03-02T10:00:00Z', 10),
        order(first, '2026-03-02T10:00:00Z', 99), // the same order again
        status(first, 'delivering', '2026-03-02T10:30:00Z'),
        status(first, 'cooking', '2026-03-02T10:10:00Z'), // late and older
        order(second, '2026-03-02T11:00:00Z', 20),
        status(second, 'cancelled', '2026-03-02T10:59:00Z'), // older than the order: history only
      ],
    });
    expect(response.json().results.map((r: { status: string }) => r.status)).toEqual([
      'accepted',
      'accepted',
      'duplicate',
      'accepted',
      'accepted',
      'accepted',
      'accepted',
    ]);
    const orders = await t.db.query<{ syrve_order_id: string; status: string; total: number }>(
      'SELECT syrve_order_id, status, total FROM orders WHERE tenant_id = $1 AND syrve_order_id = ANY($2) ORDER BY syrve_order_id',
      [tenant.id, [first, second]],
    );
    expect(orders.rows.map((r) => [r.syrve_order_id, r.status, Number(r.total)])).toEqual([
      [first, 'delivering', 10],
      [second, 'created', 20],
    ]);
    const history = await one<{ n: number }>(
      'SELECT count(*)::int AS n FROM order_status_history WHERE tenant_id = $1 AND syrve_order_id = ANY($2)',
      [tenant.id, [first, second]],
    );
    expect(history.n).toBe(4);
  });

  it('turns the bot off on escalation and back on when it is resolved', async () => {
    const phone = newPhone();
    await post({ event: 'message.created', data: message(phone, 'I want a human') });
    const botActive = () =>
      one<{ is_bot_active: boolean }>(
        `SELECT c.is_bot_active FROM conversations c JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id
       WHERE cu.whatsapp_phone = $1 AND c.status = 'active'`,
        [phone],
      );
    await post({
      event: 'escalation.created',
      data: {
        customer_identifier: { whatsapp_phone: phone },
        reason: 'Customer requested human support',
        metadata: { channel: 'whatsapp' },
      },
    });
    expect((await botActive()).is_bot_active).toBe(false);
    await post({
      event: 'escalation.resolved',
      data: {
        customer_identifier: { whatsapp_phone: phone },
        resolution_summary: 'Resolved by operator',
        metadata: { operator_name: 'Sara' },
      },
    });
    expect((await botActive()).is_bot_active).toBe(true);
    const escalation = await one<{ status: string; resolved_by: string; resolution_summary: string }>(
      `SELECT e.status, e.resolved_by, e.resolution_summary FROM escalations e JOIN customers cu ON cu.tenant_id = e.tenant_id AND cu.id = e.customer_id
       WHERE cu.whatsapp_phone = $1`,
      [phone],
    );
    expect(escalation).toEqual({
      status: 'resolved',
      resolved_by: 'Sara',
      resolution_summary: 'Resolved by operator',
    });
  });

  it("applies a batch's escalations in order per customer, many customers at once", async () => {
    const [x, y] = [newPhone(), newPhone()];
    const who = (phone: string) => ({ customer_identifier: { whatsapp_phone: phone } });
    const response = await post({
      events: [
        { event: 'message.created', data: message(x, 'hi from x') },
        { event: 'message.created', data: message(y, 'hi from y') },
        { event: 'escalation.created', data: { ...who(x), reason: 'first' } },
        { event: 'escalation.created', data: { ...who(y), reason: 'only' } },
        { event: 'escalation.resolved', data: { ...who(x), metadata: { operator_name: 'Sara' } } },
        { event: 'escalation.created', data: { ...who(x), reason: 'second' } },
        { event: 'escalation.created', data: { ...who(y), reason: 'same one again' } },
      ],
    });
    expect(response.json().results.every((r: { status: string }) => r.status === 'accepted')).toBe(true);
    const state = async (phone: string) => {
      const escalations = await t.db.query<{
        status: string;
        reason: string;
        resolved_by: string | null;
        linked: boolean;
      }>(
        `SELECT e.status, e.reason, e.resolved_by, e.conversation_id IS NOT NULL AS linked FROM escalations e
         JOIN customers cu ON cu.tenant_id = e.tenant_id AND cu.id = e.customer_id
         WHERE cu.whatsapp_phone = $1 ORDER BY e.opened_at, e.reason`,
        [phone],
      );
      const conversation = await one<{ is_bot_active: boolean }>(
        `SELECT c.is_bot_active FROM conversations c JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id
         WHERE cu.whatsapp_phone = $1`,
        [phone],
      );
      return { escalations: escalations.rows, botActive: conversation.is_bot_active };
    };
    expect(await state(x)).toEqual({
      escalations: [
        { status: 'resolved', reason: 'first', resolved_by: 'Sara', linked: true },
        { status: 'open', reason: 'second', resolved_by: null, linked: true },
      ],
      botActive: false,
    });
    expect(await state(y)).toEqual({
      escalations: [{ status: 'open', reason: 'only', resolved_by: null, linked: true }],
      botActive: false,
    });
  });

  it('records every change in the feed, in commit order, with REST-shaped payloads', async () => {
    const before = await one<{ seq: number }>('SELECT seq FROM feed_counter');
    const phone = newPhone();
    await post({ event: 'message.created', data: message(phone, 'feed me') });
    const feed = await t.db.query<{ seq: number; type: string; payload: Record<string, unknown> }>(
      'SELECT seq, type, payload::json AS payload FROM events WHERE seq > $1 ORDER BY seq',
      [before.seq],
    );
    expect(feed.rows.map((r) => r.type)).toEqual([
      'customer.updated',
      'message.created',
      'conversation.updated',
    ]);
    expect(feed.rows.map((r) => r.seq)).toEqual([before.seq + 1, before.seq + 2, before.seq + 3]);
    expect(feed.rows[1]!.payload).toMatchObject({
      restaurantId: tenant.id,
      direction: 'IN',
      content: 'feed me',
      messageType: 'text',
    });
    expect(feed.rows[2]!.payload).toMatchObject({
      customerPhone: `whatsapp:${phone}`,
      unreadCount: 1,
      isBotActive: true,
      status: 'active',
    });
    // Exactly the objects the REST API serves for them, times included.
    const readKey = (await t.createKey(tenant.id, ['read'])).token;
    const read = async (url: string) =>
      (await t.app.inject({ method: 'GET', url, headers: bearer(readKey) })).json();
    const conversation = feed.rows[2]!.payload as { id: string };
    expect(await read(`/api/db/conversations/${conversation.id}`)).toMatchObject(conversation);
    const messages = await read(`/api/db/conversations/${conversation.id}/messages`);
    expect(messages.messages ?? messages.data ?? messages).toContainEqual(feed.rows[1]!.payload);
  });

  it('keeps sequence numbers gap-free and unique under parallel writers', async () => {
    const before = await one<{ seq: number }>('SELECT seq FROM feed_counter');
    await Promise.all(
      Array.from({ length: 30 }, () =>
        post({ event: 'message.created', data: message(newPhone(), 'parallel') }),
      ),
    );
    const feed = await t.db.query<{ seq: number }>('SELECT seq FROM events WHERE seq > $1 ORDER BY seq', [
      before.seq,
    ]);
    expect(feed.rows.length).toBe(90);
    expect(feed.rows.map((r) => r.seq)).toEqual(Array.from({ length: 90 }, (_, i) => before.seq + 1 + i));
  });

  it('keeps the feed gap-free, and each tenant in its own order, when tenants write side by side', async () => {
    const before = await one<{ seq: number }>('SELECT seq FROM feed_counter');
    // Each tenant sends its messages one after another; the two tenants at once, through their lanes.
    const send = async (token: string, label: string) => {
      const phone = newPhone();
      for (let i = 0; i < 8; i++) {
        const response = await post(
          { event: 'message.created', data: message(phone, `${label}-${i}`) },
          token,
        );
        expect(response.statusCode).toBe(200);
      }
    };
    await Promise.all([send(ingestKey, 'a'), send(otherIngestKey, 'b'), send(ingestKey, 'c')]);
    const feed = await t.db.query<{ seq: number; tenant_id: string; content: string | null }>(
      `SELECT seq, tenant_id, payload::json->>'content' AS content FROM events WHERE seq > $1 ORDER BY seq`,
      [before.seq],
    );
    expect(feed.rows.map((r) => r.seq)).toEqual(feed.rows.map((_, i) => before.seq + 1 + i));
    const contents = (label: string) =>
      feed.rows.flatMap((r) => (r.content?.startsWith(`${label}-`) ? [r.content] : []));
    for (const label of ['a', 'b', 'c']) {
      expect(contents(label)).toEqual(Array.from({ length: 8 }, (_, i) => `${label}-${i}`));
    }
    expect(new Set(feed.rows.filter((r) => r.content?.startsWith('b-')).map((r) => r.tenant_id))).toEqual(
      new Set([other.id]),
    );
  });

  it("writes only into the key's own tenant, and needs the ingest scope", async () => {
    const phone = newPhone();
    await post({ event: 'customer.seen', data: { phone } }, otherIngestKey);
    const where = await t.db.query<{ tenant_id: string }>(
      'SELECT tenant_id FROM customers WHERE phone = $1',
      [phone],
    );
    expect(where.rows).toEqual([{ tenant_id: other.id }]);
    const crossTenant = await t.app.inject({
      method: 'POST',
      url: '/functions/v1/sync',
      headers: { ...bearer(otherIngestKey), 'x-restaurant-id': tenant.id },
      payload: { event: 'customer.seen', data: { phone } },
    });
    expect(crossTenant.statusCode).toBe(404);
    const readKey = (await t.createKey(tenant.id, ['read', 'admin'])).token;
    expect((await post({ event: 'customer.seen', data: { phone } }, readKey)).statusCode).toBe(403);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/functions/v1/sync',
          payload: { event: 'customer.seen', data: { phone } },
        })
      ).statusCode,
    ).toBe(401);
  });
});

describe('retention', () => {
  it('forgets event ids and feed entries past the window, and only those', async () => {
    const phone = newPhone();
    await post({ event: 'customer.seen', event_id: `old-${phone}`, data: { phone } });
    await post({ event: 'customer.seen', event_id: `new-${phone}`, data: { phone } });
    await t.db.query(
      "UPDATE idempotency_keys SET created_at = now() - interval '8 days' WHERE event_id = $1",
      [`old-${phone}`],
    );
    const oldest = await one<{ seq: number }>('SELECT min(seq)::int AS seq FROM events');
    await t.db.query("UPDATE events SET created_at = now() - interval '8 days' WHERE seq = $1", [oldest.seq]);
    const pruned = await pruneExpired(t.db, 7);
    expect(pruned).toMatchObject({ eventIds: 1, feed: 1, sessions: 0 });
    const ids = await t.db.query<{ event_id: string }>(
      'SELECT event_id FROM idempotency_keys WHERE event_id LIKE $1',
      [`%-${phone}`],
    );
    expect(ids.rows.map((r) => r.event_id)).toEqual([`new-${phone}`]);
    // A forgotten id may be applied again; a remembered one may not.
    expect(
      (await post({ event: 'customer.seen', event_id: `old-${phone}`, data: { phone } })).json().status,
    ).toBe('accepted');
    expect(
      (await post({ event: 'customer.seen', event_id: `new-${phone}`, data: { phone } })).json().status,
    ).toBe('duplicate');
  });
});

const BOT = { whatsapp_number: 'whatsapp:+966508034010' };

function message(phone: string, content: string) {
  return {
    customer_identifier: { whatsapp_phone: `whatsapp:${phone}` },
    customer_name: 'Test Customer',
    bot: BOT,
    direction: 'IN',
    message_type: 'text',
    content,
  };
}
