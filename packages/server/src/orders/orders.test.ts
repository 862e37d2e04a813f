import type { Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { ingest, message, newPhone } from '../testing/ingest.ts';

let t: TestApp;
let tenant: Tenant;
let other: Tenant;
let ingestKey: string;
let readKey: string;
let operateKey: string;
let otherIngestKey: string;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant('orders-a');
  other = await t.createTenant('orders-b');
  ingestKey = (await t.createKey(tenant.id, ['ingest'])).token;
  readKey = (await t.createKey(tenant.id, ['read'])).token;
  operateKey = (await t.createKey(tenant.id, ['operate'])).token;
  otherIngestKey = (await t.createKey(other.id, ['ingest'])).token;
});
afterAll(() => t.close());

function get(url: string, token = readKey) {
  return t.app.inject({ method: 'GET', url, headers: bearer(token) });
}

function resolve(id: string, token = operateKey, payload?: object) {
  return t.app.inject({
    method: 'POST',
    url: `/api/escalations/${id}/resolve`,
    headers: bearer(token),
    ...(payload ? { payload } : {}),
  });
}

function orderCreated(phone: string, syrveId: string, at: string, total = 50) {
  return {
    event: 'order.created',
    occurred_at: at,
    data: {
      customer_identifier: { whatsapp_phone: phone },
      syrve_order_id: syrveId,
      external_number: `#${syrveId}`,
      items: [{ name: 'Shawarma', amount: 2, price: 25 }],
      total,
    },
  };
}

function orderStatus(syrveId: string, status: string, at: string) {
  return { event: 'order.status', occurred_at: at, data: { syrve_order_id: syrveId, status } };
}

async function idOf(table: 'orders' | 'escalations', where: string, params: unknown[]): Promise<string> {
  const result = await t.db.query<{ id: string }>(`SELECT id FROM ${table} WHERE ${where}`, params);
  return result.rows[0]!.id;
}

/** Follows `nextCursor` to the end; `between` runs after each page. */
async function allPages(url: string, between: (page: number) => Promise<void> = async () => {}) {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const separator = url.includes('?') ? '&' : '?';
    const response = await get(cursor ? `${url}${separator}cursor=${cursor}` : url);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    ids.push(...body.data.map((row: { id: string }) => row.id));
    cursor = body.nextCursor;
    if (!cursor) return ids;
    await between(page);
  }
  throw new Error('the list never ended');
}

describe('orders', () => {
  const phone = newPhone();

  beforeAll(async () => {
    const events: object[] = [];
    for (let i = 0; i < 7; i++) {
      events.push(orderCreated(phone, `ord-${i}`, `2026-03-0${i + 1}T12:00:00.000Z`, 10 * (i + 1)));
    }
    // ord-0 goes on; a late, older "confirmed" is recorded but does not win.
    events.push(orderStatus('ord-0', 'cooking', '2026-03-01T12:20:00.000Z'));
    events.push(orderStatus('ord-0', 'confirmed', '2026-03-01T12:10:00.000Z'));
    events.push(orderStatus('ord-1', 'cancelled', '2026-03-02T12:05:00.000Z'));
    await ingest(t, ingestKey, events);
  });

  it('serves one order with its status history, oldest first', async () => {
    const id = await idOf('orders', 'tenant_id = $1 AND syrve_order_id = $2', [tenant.id, 'ord-0']);
    const response = await get(`/api/orders/${id}`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      id,
      restaurantId: tenant.id,
      syrveOrderId: 'ord-0',
      externalNumber: '#ord-0',
      items: [{ name: 'Shawarma', amount: 2, price: 25 }],
      total: 10,
      status: 'cooking',
      statusAt: '2026-03-01T12:20:00.000Z',
      createdAt: '2026-03-01T12:00:00.000Z',
      statusHistory: [
        { status: 'confirmed', occurredAt: '2026-03-01T12:10:00.000Z' },
        { status: 'cooking', occurredAt: '2026-03-01T12:20:00.000Z' },
      ],
    });
  });

  it('lists newest first and filters by status and time', async () => {
    const all = (await get('/api/orders?limit=200')).json();
    expect(all.data.map((o: { syrveOrderId: string }) => o.syrveOrderId)).toEqual([
      'ord-6',
      'ord-5',
      'ord-4',
      'ord-3',
      'ord-2',
      'ord-1',
      'ord-0',
    ]);
    expect(all.nextCursor).toBeNull();
    expect(all.data.find((o: { syrveOrderId: string }) => o.syrveOrderId === 'ord-1').statusHistory).toEqual([
      { status: 'cancelled', occurredAt: '2026-03-02T12:05:00.000Z' },
    ]);
    const cancelled = (await get('/api/orders?status=cancelled')).json();
    expect(cancelled.data.map((o: { syrveOrderId: string }) => o.syrveOrderId)).toEqual(['ord-1']);
    const window = (await get('/api/orders?from=2026-03-03T12:00:00Z&to=2026-03-05T12:00:00%2B00:00')).json();
    expect(window.data.map((o: { syrveOrderId: string }) => o.syrveOrderId)).toEqual(['ord-3', 'ord-2']);
    const created = (await get('/api/orders?status=created&from=2026-03-06T00:00:00Z')).json();
    expect(created.data.map((o: { syrveOrderId: string }) => o.syrveOrderId)).toEqual(['ord-6', 'ord-5']);
  });

  it('pages by cursor with no duplicates and no gaps while orders arrive', async () => {
    const before = (await get('/api/orders?limit=200')).json().data.map((o: { id: string }) => o.id);
    let added = 0;
    const seen = await allPages('/api/orders?limit=2', async () => {
      added += 1;
      await ingest(t, ingestKey, [orderCreated(phone, `new-${added}`, `2026-04-0${added}T00:00:00.000Z`)]);
    });
    expect(added).toBeGreaterThan(2);
    expect(seen).toEqual(before);
  });

  it('answers 400 with field paths for bad parameters', async () => {
    const cases: [string, string][] = [
      ['status=lost', 'query.status'],
      ['from=yesterday', 'query.from'],
      ['to=2026-13-01T00:00:00Z', 'query.to'],
      ['from=2026-03-05T00:00:00Z&to=2026-03-01T00:00:00Z', 'query.to'],
      ['limit=201', 'query.limit'],
      ['cursor=%%%', 'query.cursor'],
      ['customerId=42', 'query.customerId'],
    ];
    for (const [query, path] of cases) {
      const response = await get(`/api/orders?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(
        response.json().error.details.map((d: { path: string }) => d.path),
        query,
      ).toContain(path);
    }
    expect((await get('/api/orders/ord-0')).json().error.details[0].path).toBe('params.id');
  });

  it("carries each order's customer name (else phone) in the list and the single order", async () => {
    const customer = { customerName: null, customerPhone: `whatsapp:${phone}` };
    const id = await idOf('orders', 'tenant_id = $1 AND syrve_order_id = $2', [tenant.id, 'ord-0']);
    expect((await get(`/api/orders/${id}`)).json()).toMatchObject(customer);
    await ingest(t, ingestKey, [
      { event: 'customer.seen', data: { whatsapp_phone: phone, display_name: 'Layla' } },
    ]);
    const named = { customerName: 'Layla', customerPhone: `whatsapp:${phone}` };
    const list = (await get('/api/orders?limit=3')).json();
    expect(list.data).toHaveLength(3);
    for (const order of list.data) expect(order).toMatchObject(named);
    expect((await get(`/api/orders/${id}`)).json()).toMatchObject(named);
    // The next page follows on from the first, name and all.
    const next = (await get(`/api/orders?limit=3&cursor=${encodeURIComponent(list.nextCursor)}`)).json();
    expect(next.data[0]).toMatchObject(named);
    expect(next.data[0].createdAt < list.data[2].createdAt).toBe(true);
  });
});

describe('escalations', () => {
  let phone: string;
  let conversationId: string;

  beforeAll(async () => {
    phone = newPhone();
    await ingest(t, ingestKey, [
      message(phone, 'I want a human', '2026-05-01T00:00:00.000Z'),
      {
        event: 'escalation.created',
        occurred_at: '2026-05-01T00:00:01.000Z',
        data: { customer_identifier: { whatsapp_phone: phone }, reason: 'asked for a human' },
      },
    ]);
    const conversation = await t.db.query<{ id: string; is_bot_active: boolean }>(
      `SELECT c.id, c.is_bot_active FROM conversations c JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id
       WHERE c.tenant_id = $1 AND cu.whatsapp_phone = $2`,
      [tenant.id, phone],
    );
    conversationId = conversation.rows[0]!.id;
    expect(conversation.rows[0]!.is_bot_active).toBe(false);
  });

  it('lists and filters by status, newest first, paging by cursor', async () => {
    const others: object[] = [];
    for (let i = 0; i < 5; i++) {
      const p = newPhone();
      others.push({
        event: 'escalation.created',
        occurred_at: `2026-04-0${i + 1}T00:00:00.000Z`,
        data: { customer_identifier: { whatsapp_phone: p }, reason: `reason ${i}` },
      });
      if (i % 2 === 0) {
        others.push({
          event: 'escalation.resolved',
          occurred_at: `2026-04-0${i + 1}T01:00:00.000Z`,
          data: { customer_identifier: { whatsapp_phone: p }, resolution_summary: 'done' },
        });
      }
    }
    await ingest(t, ingestKey, others);
    const all = (await get('/api/escalations?limit=200')).json().data;
    expect(all.map((e: { reason: string }) => e.reason)).toEqual([
      'asked for a human',
      'reason 4',
      'reason 3',
      'reason 2',
      'reason 1',
      'reason 0',
    ]);
    const open = (await get('/api/escalations?status=open')).json().data;
    expect(open.map((e: { reason: string }) => e.reason)).toEqual([
      'asked for a human',
      'reason 3',
      'reason 1',
    ]);
    const resolved = (await get('/api/escalations?status=resolved')).json().data;
    expect(resolved.every((e: { status: string }) => e.status === 'resolved')).toBe(true);
    expect(resolved).toHaveLength(3);
    expect(await allPages('/api/escalations?limit=2')).toEqual(all.map((e: { id: string }) => e.id));
    expect((await get('/api/escalations?status=closed')).statusCode).toBe(400);
  });

  it("carries each escalation's customer name (else phone) in the list and the single one", async () => {
    const [latest] = (await get('/api/escalations?limit=1')).json().data;
    expect(latest).toMatchObject({
      reason: 'asked for a human',
      customerName: null,
      customerPhone: `whatsapp:${phone}`,
    });
    await ingest(t, ingestKey, [
      { event: 'customer.seen', data: { whatsapp_phone: phone, display_name: 'Omar' } },
    ]);
    expect((await get('/api/escalations?limit=1')).json().data[0]).toMatchObject({
      id: latest.id,
      customerName: 'Omar',
    });
    expect((await get(`/api/escalations/${latest.id}`)).json()).toMatchObject({ customerName: 'Omar' });
  });

  it('resolves as an operator: records who, gives the conversation back to the bot, appends both to the feed', async () => {
    const id = await idOf('escalations', "tenant_id = $1 AND reason = 'asked for a human'", [tenant.id]);
    const seqBefore = (
      await t.db.query<{ seq: number }>('SELECT COALESCE(max(seq), 0)::bigint AS seq FROM events')
    ).rows[0]!.seq;
    const response = await resolve(id, operateKey, { resolutionSummary: 'Refunded the order' });
    expect(response.statusCode, response.body).toBe(200);
    const keyName = (
      await t.db.query<{ name: string; id: string }>(
        'SELECT id, name FROM api_keys WHERE tenant_id = $1 AND $2 = ANY(scopes)',
        [tenant.id, 'operate'],
      )
    ).rows[0]!;
    expect(response.json()).toMatchObject({
      id,
      status: 'resolved',
      resolutionSummary: 'Refunded the order',
      resolvedBy: keyName.name,
      metadata: { operator_kind: 'apiKey', operator_id: keyName.id },
    });
    expect(Date.parse(response.json().resolvedAt)).not.toBeNaN();

    const conversation = (await get(`/api/db/conversations/${conversationId}`)).json();
    expect(conversation.isBotActive).toBe(true);

    const feed = await t.db.query<{ type: string; entity_id: string; payload: unknown }>(
      'SELECT type, entity_id, payload::json AS payload FROM events WHERE seq > $1 ORDER BY seq',
      [seqBefore],
    );
    expect(feed.rows).toEqual([
      { type: 'escalation.resolved', entity_id: id, payload: response.json() },
      { type: 'conversation.updated', entity_id: conversationId, payload: conversation },
    ]);

    // Twice is a conflict, and changes nothing.
    const again = await resolve(id);
    expect(again.statusCode).toBe(409);
    const seqAfter = (await t.db.query<{ seq: number }>('SELECT max(seq)::bigint AS seq FROM events'))
      .rows[0]!.seq;
    expect(seqAfter).toBe(seqBefore + 2);
    expect((await get(`/api/escalations/${id}`)).json()).toMatchObject(response.json());
  });

  it('records a logged-in operator by email, and takes no body at all', async () => {
    const p = newPhone();
    await ingest(t, ingestKey, [
      message(p, 'help', '2026-05-02T00:00:00.000Z'),
      { event: 'escalation.created', data: { customer_identifier: { whatsapp_phone: p } } },
    ]);
    const id = await idOf(
      'escalations',
      "tenant_id = $1 AND status = 'open' AND customer_id = (SELECT id FROM customers WHERE tenant_id = $1 AND whatsapp_phone = $2)",
      [tenant.id, p],
    );
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: t.adminEmail, password: t.adminPassword },
    });
    expect(login.statusCode).toBe(200);
    const cookie = login.cookies.find((c) => c.name === 'syncdeck_session')!;
    const response = await t.app.inject({
      method: 'POST',
      url: `/api/escalations/${id}/resolve`,
      headers: { 'x-tenant-id': tenant.slug },
      cookies: { syncdeck_session: cookie.value },
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      status: 'resolved',
      resolutionSummary: null,
      resolvedBy: t.adminEmail,
      metadata: { operator_kind: 'user' },
    });
  });

  it('answers 400 for a bad body, 403 without the operate scope, 401 without a credential', async () => {
    const id = await idOf('escalations', "tenant_id = $1 AND status = 'open'", [tenant.id]);
    const bad = await resolve(id, operateKey, { resolutionSummary: '', note: 'x' });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .error.details.map((d: { path: string }) => d.path)
        .sort(),
    ).toEqual(['note', 'resolutionSummary']);
    expect((await resolve(id, readKey)).statusCode).toBe(403);
    expect((await resolve(id, ingestKey)).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'POST', url: `/api/escalations/${id}/resolve` })).statusCode).toBe(
      401,
    );
    expect((await get(`/api/escalations/${id}`)).json().status).toBe('open');
  });
});

describe('tenancy and credentials', () => {
  it("answers 404 for another tenant's order and escalation on every :id route", async () => {
    const p = newPhone();
    await ingest(t, otherIngestKey, [
      orderCreated(p, 'other-order', '2026-01-01T00:00:00.000Z'),
      { event: 'escalation.created', data: { customer_identifier: { whatsapp_phone: p } } },
    ]);
    const orderId = await idOf('orders', 'tenant_id = $1', [other.id]);
    const escalationId = await idOf('escalations', 'tenant_id = $1', [other.id]);
    expect((await get(`/api/orders/${orderId}`)).statusCode).toBe(404);
    expect((await get(`/api/escalations/${escalationId}`)).statusCode).toBe(404);
    expect((await resolve(escalationId)).statusCode).toBe(404);
    const still = await t.db.query<{ status: string }>('SELECT status FROM escalations WHERE id = $1', [
      escalationId,
    ]);
    expect(still.rows[0]!.status).toBe('open');
    const lists = [
      (await get('/api/orders?limit=200')).json().data,
      (await get('/api/escalations?limit=200')).json().data,
    ];
    for (const list of lists) {
      expect(list.every((row: { restaurantId: string }) => row.restaurantId === tenant.id)).toBe(true);
    }
  });

  it('answers 403 to an ingest key and 401 without a credential on the read routes', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    for (const url of ['/api/orders', `/api/orders/${id}`, '/api/escalations', `/api/escalations/${id}`]) {
      expect((await get(url, ingestKey)).statusCode, url).toBe(403);
      expect((await t.app.inject({ method: 'GET', url })).statusCode, url).toBe(401);
    }
  });
});
