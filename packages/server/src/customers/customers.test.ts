import type { Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { ingest, message, newPhone } from '../testing/ingest.ts';

let t: TestApp;
let tenant: Tenant;
let other: Tenant;
let ingestKey: string;
let readKey: string;
let otherIngestKey: string;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant('cust-a');
  other = await t.createTenant('cust-b');
  ingestKey = (await t.createKey(tenant.id, ['ingest'])).token;
  readKey = (await t.createKey(tenant.id, ['read'])).token;
  otherIngestKey = (await t.createKey(other.id, ['ingest'])).token;
});
afterAll(() => t.close());

function get(url: string, token = readKey) {
  return t.app.inject({ method: 'GET', url, headers: bearer(token) });
}

async function customerIdOf(phone: string, tenantId = tenant.id): Promise<string> {
  const result = await t.db.query<{ id: string }>(
    'SELECT id FROM customers WHERE tenant_id = $1 AND (whatsapp_phone = $2 OR phone = $2)',
    [tenantId, phone],
  );
  return result.rows[0]!.id;
}

const seen = (phone: string, name: string) => ({
  event: 'customer.seen',
  data: { whatsapp_phone: phone, display_name: name },
});

describe('GET /api/customers', () => {
  it('lists newest first with the customer fields, and searches names and phones', async () => {
    const [p1, p2] = [newPhone(), newPhone()];
    await ingest(t, ingestKey, [seen(p1, 'Noura Al-Harbi')]);
    await ingest(t, ingestKey, [seen(p2, 'Khalid 50% Off')]);
    const list = (await get('/api/customers')).json();
    expect(list.data[0]).toMatchObject({
      id: await customerIdOf(p2),
      restaurantId: tenant.id,
      displayName: 'Khalid 50% Off',
      phone: null,
      whatsappPhone: `whatsapp:${p2}`,
    });
    expect(Object.keys(list.data[0])).toEqual(
      expect.arrayContaining(['firstSeenAt', 'lastSeenAt', 'createdAt', 'updatedAt', 'syrveCustomerId']),
    );
    const names = async (q: string) =>
      (await get(`/api/customers?q=${encodeURIComponent(q)}`))
        .json()
        .data.map((c: { displayName: string }) => c.displayName);
    expect(await names('noura')).toEqual(['Noura Al-Harbi']);
    expect(await names(p1.slice(-7))).toEqual(['Noura Al-Harbi']);
    expect(await names(`+966 ${p1.slice(4, 6)} ${p1.slice(6)}`)).toEqual(['Noura Al-Harbi']);
    expect(await names('50%')).toEqual(['Khalid 50% Off']);
    expect(await names('nobody at all')).toEqual([]);
  });

  it('pages by cursor with no duplicates and no gaps while customers arrive', async () => {
    await ingest(
      t,
      ingestKey,
      Array.from({ length: 7 }, (_, i) => seen(newPhone(), `Pager ${i}`)),
    );
    const all = (await get('/api/customers?limit=200')).json().data.map((c: { id: string }) => c.id);
    const ids: string[] = [];
    let cursor: string | null = null;
    let arrivals = 0;
    do {
      const response = await get(`/api/customers?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(response.statusCode).toBe(200);
      ids.push(...response.json().data.map((c: { id: string }) => c.id));
      cursor = response.json().nextCursor;
      // A new customer, and activity of one already listed: neither disturbs the pages.
      await ingest(t, ingestKey, [
        seen(newPhone(), `Arrival ${arrivals++}`),
        message(newPhone(), 'hi', new Date().toISOString()),
      ]);
    } while (cursor);
    expect(ids).toEqual(all);
  });

  it('answers 400 with field paths for bad parameters', async () => {
    for (const [query, path] of [
      ['limit=0', 'query.limit'],
      ['cursor=zzz', 'query.cursor'],
      [`q=${'x'.repeat(201)}`, 'query.q'],
    ] as const) {
      const response = await get(`/api/customers?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().error.details[0].path).toBe(path);
    }
  });
});

describe('GET /api/customers/:id', () => {
  it('answers the 360 profile: identities, channels, conversations, orders, escalations, timeline', async () => {
    const phone = newPhone();
    await ingest(t, ingestKey, [
      {
        event: 'customer.seen',
        occurred_at: '2026-01-01T09:00:00.000Z',
        data: {
          whatsapp_phone: phone,
          telegram_chat_id: 777001,
          syrve_customer_id: 'syrve-77',
          display_name: 'Sara',
        },
      },
      message(phone, 'I want to order', '2026-01-01T10:00:00.000Z'),
      {
        event: 'order.created',
        occurred_at: '2026-01-01T10:05:00.000Z',
        data: {
          customer_identifier: { whatsapp_phone: phone },
          syrve_order_id: 'sara-1',
          external_number: 'A-1',
          total: 80,
        },
      },
      {
        event: 'order.status',
        occurred_at: '2026-01-01T10:10:00.000Z',
        data: { syrve_order_id: 'sara-1', status: 'confirmed' },
      },
      {
        event: 'escalation.created',
        occurred_at: '2026-01-01T10:20:00.000Z',
        data: { customer_identifier: { syrve_customer_id: 'syrve-77' }, reason: 'late' },
      },
      {
        event: 'escalation.resolved',
        occurred_at: '2026-01-01T10:30:00.000Z',
        data: { customer_identifier: { telegram_chat_id: '777001' }, resolution_summary: 'voucher' },
      },
      {
        event: 'conversation.closed',
        occurred_at: '2026-01-01T11:00:00.000Z',
        data: { customer_identifier: { whatsapp_phone: phone }, bot: { whatsapp_number: '+966508034010' } },
      },
    ]);
    const id = await customerIdOf(phone);
    const response = await get(`/api/customers/${id}`);
    expect(response.statusCode, response.body).toBe(200);
    const profile = response.json();
    expect(profile).toMatchObject({
      id,
      restaurantId: tenant.id,
      displayName: 'Sara',
      syrveCustomerId: 'syrve-77',
    });
    expect(profile.identities).toEqual([
      { kind: 'phone', value: phone },
      { kind: 'syrve', value: 'syrve-77' },
      { kind: 'telegram', value: '777001' },
    ]);
    expect(profile.channels).toEqual(['whatsapp']);
    expect(profile.conversations).toHaveLength(1);
    const conversation = profile.conversations[0];
    expect(conversation).toMatchObject({ customerId: id, status: 'closed', isBotActive: true });
    expect(profile.orders).toEqual([
      expect.objectContaining({
        syrveOrderId: 'sara-1',
        status: 'confirmed',
        statusHistory: [{ status: 'confirmed', occurredAt: '2026-01-01T10:10:00.000Z' }],
      }),
    ]);
    expect(profile.escalations).toEqual([
      expect.objectContaining({ status: 'resolved', reason: 'late', resolutionSummary: 'voucher' }),
    ]);
    const order = profile.orders[0];
    const escalation = profile.escalations[0];
    const timeline = profile.timeline.map(
      (e: { type: string; at: string; entityId: string; detail: string | null }) => [
        e.type,
        e.at,
        e.entityId,
        e.detail,
      ],
    );
    expect(timeline).toEqual([
      // The conversation row is stamped when it is stored, after every event time here.
      ['conversation.started', conversation.createdAt, conversation.id, null],
      ['conversation.closed', '2026-01-01T11:00:00.000Z', conversation.id, null],
      ['escalation.resolved', '2026-01-01T10:30:00.000Z', escalation.id, 'voucher'],
      ['escalation.opened', '2026-01-01T10:20:00.000Z', escalation.id, 'late'],
      ['order.status', '2026-01-01T10:10:00.000Z', order.id, 'confirmed'],
      ['order.created', '2026-01-01T10:05:00.000Z', order.id, 'A-1'],
      ['customer.first_seen', '2026-01-01T09:00:00.000Z', id, null],
    ]);
    expect(profile.totals).toEqual({ orders: 1, spent: 80, openEscalations: 0 });
  });

  it('totals all their orders, cancelled ones left out of what they spent, and their open escalations', async () => {
    const phone = newPhone();
    const order = (n: number, total: number) => ({
      event: 'order.created',
      occurred_at: `2026-02-01T10:${String(n).padStart(2, '0')}:00.000Z`,
      data: { customer_identifier: { whatsapp_phone: phone }, syrve_order_id: `tot-${phone}-${n}`, total },
    });
    await ingest(t, ingestKey, [
      order(1, 12.5),
      order(2, 30.25),
      order(3, 100),
      { event: 'order.status', data: { syrve_order_id: `tot-${phone}-3`, status: 'cancelled' } },
      {
        event: 'escalation.created',
        data: { customer_identifier: { whatsapp_phone: phone }, reason: 'where is it' },
      },
    ]);
    const profile = (await get(`/api/customers/${await customerIdOf(phone)}`)).json();
    expect(profile.totals).toEqual({ orders: 3, spent: 42.75, openEscalations: 1 });
  });

  it("answers 404 for another tenant's customer, 400 for a malformed id, 403 and 401", async () => {
    const phone = newPhone();
    await ingest(t, otherIngestKey, [seen(phone, 'Elsewhere')]);
    const id = await customerIdOf(phone, other.id);
    expect((await get(`/api/customers/${id}`)).statusCode).toBe(404);
    expect((await get('/api/customers?q=Elsewhere')).json().data).toEqual([]);
    expect((await get('/api/customers/42')).json().error.details[0].path).toBe('params.id');
    for (const url of ['/api/customers', `/api/customers/${id}`]) {
      expect((await get(url, ingestKey)).statusCode, url).toBe(403);
      expect((await t.app.inject({ method: 'GET', url })).statusCode, url).toBe(401);
    }
  });
});
