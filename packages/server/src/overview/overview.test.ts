import type { Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { ingest, message, newPhone, orderCreated, orderStatus } from '../testing/ingest.ts';
import { todayIn } from './routes.ts';

let t: TestApp;
let tenant: Tenant;
let readKey: string;
let ingestKey: string;

const order = orderCreated;
const status = orderStatus;

function get(url: string, token = readKey) {
  return t.app.inject({ method: 'GET', url, headers: bearer(token) });
}

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant('overview-a');
  const other = await t.createTenant('overview-b');
  readKey = (await t.createKey(tenant.id, ['read'])).token;
  ingestKey = (await t.createKey(tenant.id, ['ingest'])).token;
  const otherIngest = (await t.createKey(other.id, ['ingest'])).token;
  const [a, b] = [newPhone(), newPhone()];
  await ingest(t, ingestKey, [
    // 2026-03-01 22:30 UTC is already 2 March in Riyadh (UTC+3).
    message(a, 'late evening', '2026-03-01T22:30:00Z'),
    message(a, 'noon', '2026-03-02T12:00:00Z'),
    message(b, 'مرحبا', '2026-03-03T08:00:00Z'),
    order(a, 'ov-1', '2026-03-02T10:00:00Z', 40),
    order(a, 'ov-2', '2026-03-02T11:00:00Z', 60.5),
    order(b, 'ov-3', '2026-03-03T09:00:00Z', 100),
    status('ov-2', 'delivered', '2026-03-02T12:00:00Z'),
    status('ov-3', 'cancelled', '2026-03-03T10:00:00Z'),
    { event: 'escalation.created', data: { customer_identifier: { whatsapp_phone: b }, reason: 'late' } },
  ]);
  // The other tenant's rows never count here.
  await ingest(t, otherIngest, [
    message(newPhone(), 'elsewhere', '2026-03-02T12:00:00Z'),
    order(newPhone(), 'ov-x', '2026-03-02T12:00:00Z', 999),
  ]);
});
afterAll(() => t.close());

describe('GET /api/overview', () => {
  it('counts per local day, zero-filled, with orders by status and revenue without cancelled orders', async () => {
    const response = await get('/api/overview?from=2026-03-01&to=2026-03-04&tz=Asia/Riyadh');
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body.range).toMatchObject({ from: '2026-03-01', to: '2026-03-04', tz: 'Asia/Riyadh' });
    const days = body.days.map((d: { date: string; messages: number; orders: number; revenue: number }) => [
      d.date,
      d.messages,
      d.orders,
      d.revenue,
    ]);
    expect(days).toEqual([
      ['2026-03-01', 0, 0, 0],
      ['2026-03-02', 2, 2, 100.5],
      ['2026-03-03', 1, 1, 0],
      ['2026-03-04', 0, 0, 0],
    ]);
    expect(body.days[1].ordersByStatus).toMatchObject({ created: 1, delivered: 1, cancelled: 0 });
    expect(body.days[2].ordersByStatus).toMatchObject({ cancelled: 1, created: 0 });
    expect(body.ordersByStatus).toEqual({
      created: 1,
      confirmed: 0,
      cooking: 0,
      delivering: 0,
      delivered: 1,
      cancelled: 1,
    });
  });

  it('counts the same rows into other days in another time zone', async () => {
    const body = (await get('/api/overview?from=2026-03-01&to=2026-03-03&tz=UTC')).json();
    expect(body.days.map((d: { messages: number }) => d.messages)).toEqual([1, 1, 1]);
  });

  it('answers the cards from today and the counters', async () => {
    const phone = newPhone();
    const now = new Date().toISOString();
    await ingest(t, ingestKey, [message(phone, 'today', now), order(phone, 'ov-today', now, 25)]);
    const body = (await get('/api/overview?tz=UTC')).json();
    const today = todayIn('UTC');
    expect(body.range.today).toBe(today);
    expect(body.range.to).toBe(today);
    expect(body.days).toHaveLength(14);
    // Conversations are opened when their first message arrives: all three are today's.
    expect(body.cards).toEqual({
      conversationsToday: 3,
      activeConversations: 3,
      unreadMessages: 4,
      openEscalations: 1,
      ordersToday: 1,
      revenueToday: 25,
    });
    expect(body.days.at(-1)).toMatchObject({ date: today, conversations: 3, messages: 1, orders: 1 });
  });

  it('refuses a bad range or time zone with the field, and wrong credentials', async () => {
    const cases: [string, string][] = [
      ['tz=Mars/Olympus', 'query.tz'],
      ['from=2026-03-05&to=2026-03-01', 'query.to'],
      ['from=2024-01-01&to=2026-01-01', 'query.from'],
      ['from=2026-02-30', 'query.from'],
      ['from=yesterday', 'query.from'],
    ];
    for (const [query, path] of cases) {
      const response = await get(`/api/overview?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
    expect((await t.app.inject({ method: 'GET', url: '/api/overview' })).statusCode).toBe(401);
    expect((await get('/api/overview', ingestKey)).statusCode).toBe(403);
  });
});
