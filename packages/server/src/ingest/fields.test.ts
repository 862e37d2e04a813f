import type { Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { BOT_NUMBER, newPhone } from '../testing/ingest.ts';

let t: TestApp;
let tenant: Tenant;
let ingestKey: string;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant('ingest-fields');
  ingestKey = (await t.createKey(tenant.id, ['ingest'])).token;
});
afterAll(() => t.close());

function post(payload: unknown) {
  return t.app.inject({
    method: 'POST',
    url: '/functions/v1/sync',
    headers: bearer(ingestKey),
    payload: payload as object,
  });
}

async function one<T>(sql: string, params: unknown[] = []): Promise<T> {
  return (await t.db.query<T>(sql, params)).rows[0]!;
}

function messageData(phone: string, extra: Record<string, unknown> = {}) {
  return {
    customer_identifier: { whatsapp_phone: phone },
    bot: { whatsapp_number: BOT_NUMBER },
    direction: 'IN',
    content: 'hello',
    ...extra,
  };
}

describe('text PostgreSQL cannot store', () => {
  const bad: [string, string][] = [
    ['a NUL', 'a\u0000b'],
    ['a lone high surrogate', 'a\uD800b'],
    ['a lone low surrogate', '\uDC00b'],
  ];

  it.each(bad)('refuses %s in a single event with 400 validation_failed and the path', async (_, text) => {
    const cases: [object, string][] = [
      [{ event: 'message.created', data: messageData(newPhone(), { content: text }) }, 'data.content'],
      [
        { event: 'message.created', data: messageData(newPhone(), { customer_name: text }) },
        'data.customer_name',
      ],
      [
        { event: 'message.created', data: messageData(newPhone(), { metadata: { note: { deep: [text] } } }) },
        'data.metadata.note.deep.0',
      ],
      [
        { event: 'message.created', data: messageData(newPhone(), { media_url: `https://x.test/${text}` }) },
        'data.media_url',
      ],
      [{ event: 'customer.seen', data: { phone: newPhone(), display_name: text } }, 'data.display_name'],
      [
        { event: 'customer.seen', data: { phone: newPhone(), telegram_topic_id: text } },
        'data.telegram_topic_id',
      ],
      [
        {
          event: 'order.created',
          data: {
            customer_identifier: { phone: newPhone() },
            syrve_order_id: 'o-1',
            items: [{ name: text }],
          },
        },
        'data.items.0.name',
      ],
      [{ event: 'order.status', data: { syrve_order_id: text, status: 'cooking' } }, 'data.syrve_order_id'],
      [
        { event: 'escalation.created', data: { customer_identifier: { phone: newPhone() }, reason: text } },
        'data.reason',
      ],
      [
        {
          event: 'escalation.resolved',
          data: { customer_identifier: { phone: newPhone() }, metadata: { [`k${text}`]: 1 } },
        },
        `data.metadata.k${text}`,
      ],
      [
        {
          event: 'conversation.closed',
          data: { customer_identifier: { web_session_id: text }, bot: { id: tenant.id } },
        },
        'data.customer_identifier.web_session_id',
      ],
      [{ event: 'message.created', event_id: text, data: messageData(newPhone()) }, 'event_id'],
    ];
    for (const [event, path] of cases) {
      const response = await post(event);
      expect(response.statusCode, `${path}: ${response.body}`).toBe(400);
      const error = response.json().error;
      expect(error.code, path).toBe('validation_failed');
      expect(
        error.details.map((d: { path: string }) => d.path),
        path,
      ).toContain(path);
    }
  });

  it('rejects such an event in a batch without retryable, and stores the others', async () => {
    const phone = newPhone();
    const response = await post({
      events: [
        { event: 'message.created', data: messageData(phone, { content: 'fine' }) },
        { event: 'message.created', data: messageData(phone, { content: 'a\u0000' }) },
        { event: 'message.created', data: messageData(phone, { metadata: { x: '\uDFFF' } }) },
      ],
    });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ accepted: 1, rejected: 2 });
    for (const index of [1, 2]) {
      const result = body.results[index];
      expect(result.status).toBe('rejected');
      expect(result.error.retryable).toBeUndefined();
      expect(result.error.details.length).toBeGreaterThan(0);
    }
    expect(body.results[1].error.details[0].path).toBe('data.content');
    expect(body.results[2].error.details[0].path).toBe('data.metadata.x');
    const stored = await one<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages m JOIN conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id
       JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id
       WHERE m.tenant_id = $1 AND cu.whatsapp_phone = $2`,
      [tenant.id, phone],
    );
    expect(stored.n).toBe(1);
  });

  it('keeps text with paired surrogates (emoji) and other control characters', async () => {
    const phone = newPhone();
    const content = 'تمام 👍🏽 tab\there\u0001';
    const response = await post({ event: 'message.created', data: messageData(phone, { content }) });
    expect(response.statusCode, response.body).toBe(200);
    const row = await one<{ content: string }>(
      `SELECT m.content FROM messages m JOIN conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id
       JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id
       WHERE m.tenant_id = $1 AND cu.whatsapp_phone = $2`,
      [tenant.id, phone],
    );
    expect(row.content).toBe(content);
  });
});

describe('null in an optional field', () => {
  it('is accepted as absent in every event type, and clears nothing stored', async () => {
    const phone = newPhone();
    const seen = await post({
      event: 'customer.seen',
      data: {
        phone,
        whatsapp_phone: phone,
        display_name: 'Ahmed',
        telegram_topic_id: 7,
        telegram_group_id: '-100200',
        primary_channel: 'whatsapp',
        preferred_language: 'ar',
        trust_level: 'regular',
      },
    });
    expect(seen.statusCode, seen.body).toBe(200);

    // Exactly what the seed's bot sends when it knows less.
    const events = [
      {
        event: 'customer.seen',
        event_id: null,
        occurred_at: null,
        data: {
          phone: null,
          whatsapp_phone: phone,
          display_name: null,
          telegram_chat_id: null,
          telegram_topic_id: null,
          telegram_group_id: null,
          syrve_customer_id: null,
          web_session_id: null,
          primary_channel: null,
          preferred_language: null,
          trust_level: null,
        },
      },
      {
        event: 'message.created',
        data: {
          customer_identifier: { whatsapp_phone: phone, phone: null, telegram_chat_id: null },
          customer_name: null,
          bot: { whatsapp_number: BOT_NUMBER, telegram_bot_id: null, id: null },
          direction: 'IN',
          message_type: null,
          content: null,
          media_url: null,
          wa_sid: null,
          metadata: null,
        },
      },
      {
        event: 'order.created',
        data: {
          customer_identifier: { whatsapp_phone: phone, syrve_customer_id: null },
          syrve_order_id: `null-order-${phone}`,
          external_number: null,
          items: [{ name: 'Kabsa', amount: null, price: null }],
          total: null,
          delivery_address: null,
          payment_method: null,
          restaurant: null,
          channel: null,
        },
      },
      {
        event: 'order.created',
        data: {
          customer_identifier: { whatsapp_phone: phone },
          syrve_order_id: `null-items-${phone}`,
          items: null,
        },
      },
      { event: 'order.status', data: { syrve_order_id: `null-order-${phone}`, status: 'cooking' } },
      {
        event: 'escalation.created',
        data: {
          customer_identifier: { whatsapp_phone: phone, web_session_id: null },
          reason: null,
          metadata: null,
        },
      },
      {
        event: 'escalation.resolved',
        data: { customer_identifier: { whatsapp_phone: phone }, resolution_summary: null, metadata: null },
      },
      {
        event: 'conversation.closed',
        data: {
          conversation_id: null,
          customer_identifier: { whatsapp_phone: phone },
          bot: { whatsapp_number: BOT_NUMBER, web_widget_id: null },
        },
      },
    ];
    for (const event of events) {
      const single = await post(event);
      expect(single.statusCode, `${event.event}: ${single.body}`).toBe(200);
    }
    const batch = await post({ events });
    expect(batch.statusCode, batch.body).toBe(200);
    expect(batch.json().rejected, batch.body).toBe(0);

    const customer = await one<Record<string, unknown>>(
      'SELECT * FROM customers WHERE tenant_id = $1 AND whatsapp_phone = $2',
      [tenant.id, phone],
    );
    expect(customer).toMatchObject({
      phone,
      display_name: 'Ahmed',
      telegram_topic_id: '7',
      telegram_group_id: '-100200',
      primary_channel: 'whatsapp',
      preferred_language: 'ar',
      trust_level: 'regular',
    });
    const message = await one<Record<string, unknown>>(
      `SELECT m.message_type, m.content, m.media_url, m.metadata FROM messages m
       JOIN conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id
       WHERE m.tenant_id = $1 AND c.customer_id = $2 ORDER BY m.created_at LIMIT 1`,
      [tenant.id, customer.id],
    );
    expect(message).toEqual({ message_type: 'text', content: '', media_url: null, metadata: {} });
    const order = await one<Record<string, unknown>>(
      'SELECT items, total, external_number, status FROM orders WHERE tenant_id = $1 AND syrve_order_id = $2',
      [tenant.id, `null-order-${phone}`],
    );
    expect(order).toEqual({
      items: [{ name: 'Kabsa', amount: 1 }],
      total: null,
      external_number: null,
      status: 'cooking',
    });
  });
});
