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
