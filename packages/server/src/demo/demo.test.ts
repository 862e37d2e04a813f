import type { Chart, ChartData, Conversation, Escalation, Order, SyncedTable } from '@syncdeck/core';
import { silentLogger } from '@syncdeck/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listApiKeys } from '../keys/index.ts';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import type { LiveTiming } from './live.ts';
import { DEMO_KEY_NAME, type RunningDemo, startDemo } from './simulator.ts';

// The live demo at a thousandth of real time: an hour-long order takes under four seconds. No
// escalation is taken by the demo's own operator within the test: they wait for a person.
const FAST: Partial<LiveTiming> = {
  scale: 0.001,
  tickMs: 20,
  pollMs: 100,
  patienceMs: [600_000, 600_000],
};

let t: TestApp;
let url: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
});
const running: RunningDemo[] = [];
afterAll(async () => {
  for (const demo of running) await demo.stop();
  await t.close();
});

const start = (): Promise<RunningDemo> =>
  startDemo({
    db: t.db,
    url,
    logger: silentLogger,
    config: t.config,
    timing: FAST,
    workOrderEveryMs: 300,
    historyVolume: 0.4,
  }).then((demo) => {
    running.push(demo);
    return demo;
  });

async function get<T>(slug: string, path: string): Promise<T> {
  const response = await fetch(url + path, { headers: bearer(tokens[slug]!) });
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
}

async function all<T>(slug: string, path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page: { data: T[]; nextCursor: string | null } = await get(
      slug,
      `${path}${path.includes('?') ? '&' : '?'}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    items.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

async function until(what: string, check: () => Promise<boolean>, withinMs = 20_000) {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const unfinished = (orders: Order[]) =>
  orders.filter((o) => o.status !== 'delivered' && o.status !== 'cancelled');

describe('the demo', () => {
  it('loads two weeks once, keeps escalations for a person, finishes orders across a restart, and syncs rows', async () => {
    const first = await start();
    const report = await first.ready;
    expect(Object.keys(report.history).sort()).toEqual(['ocean', 'sufrah']);
    for (const tenant of first.tenants) {
      tokens[tenant.slug] = (await t.createKey(tenant.id, ['read', 'operate'])).token;
      expect(tenant.currency).toBe(tenant.slug === 'sufrah' ? 'SAR' : 'AED');
      expect(report.history[tenant.slug]!.rejected).toBe(0);
    }

    // The staff read the history; only what is new is unread.
    const older = await get<Conversation[]>(
      'sufrah',
      '/api/db/conversations?status=closed&limit=200&offset=30',
    );
    expect(older.length).toBeGreaterThan(10);
    expect(older.filter((c) => c.unreadCount > 0)).toEqual([]);

    // Two weeks of orders, in the restaurants' lunch and dinner hours, almost all finished.
    const orders = await all<Order>('sufrah', '/api/orders');
    const days = new Set(orders.map((o) => o.createdAt.slice(0, 10)));
    expect(days.size).toBeGreaterThanOrEqual(10);
    const hours = orders.map((o) => (new Date(o.createdAt).getUTCHours() + 3) % 24);
    expect(hours.filter((h) => h >= 12 && h < 15).length).toBeGreaterThan(
      hours.filter((h) => h >= 3 && h < 10).length,
    );
    const resolved = await all<Escalation>('sufrah', '/api/escalations?status=resolved');
    expect(resolved.length).toBeGreaterThan(3);
    expect(resolved.every((e) => e.resolvedBy)).toBe(true);

    // Customers left waiting for a person are still waiting a scaled hour and more later.
    const waiting = await all<Escalation>('sufrah', '/api/escalations?status=open');
    expect(waiting.length).toBeGreaterThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const stillOpen = new Set(
      (await all<Escalation>('sufrah', '/api/escalations?status=open')).map((e) => e.id),
    );
    for (const escalation of waiting) expect(stillOpen.has(escalation.id)).toBe(true);

    // The operations platform's rows and charts, for each restaurant.
    for (const slug of ['sufrah', 'ocean']) {
      const tables = await get<{ data: SyncedTable[] }>(slug, '/api/synced');
      expect(tables.data.map((table) => table.table).sort()).toEqual([
        'daily_sales',
        'deliveries',
        'work_orders',
      ]);
      const deliveries = await get<{ data: unknown[] }>(slug, '/api/synced/deliveries?limit=5');
      expect(deliveries.data.length).toBe(5);
      const charts = await get<{ data: Chart[] }>(slug, '/api/charts');
      expect(charts.data.length).toBeGreaterThanOrEqual(2);
      const data = await get<ChartData>(slug, `/api/charts/${charts.data[0]!.id}/data`);
      expect(data.rows.length).toBeGreaterThan(0);
    }

    // Stopped mid-flight, orders are left half way; a restart adds no history and finishes them.
    await until(
      'a live order is under way',
      async () => unfinished(await all('ocean', '/api/orders')).length > 0,
    );
    await first.stop();
    const left = unfinished(await all<Order>('ocean', '/api/orders'));
    const dayAgo = `/api/orders?to=${new Date(Date.now() - 86_400_000).toISOString()}`;
    const past = (await all<Order>('ocean', dayAgo)).length;
    const second = await start();
    expect((await second.ready).history).toEqual({ sufrah: null, ocean: null });
    expect((await all<Order>('ocean', dayAgo)).length).toBe(past);
    await until('the orders left by the first run are finished', async () => {
      const now = await all<Order>('ocean', '/api/orders');
      return left.every((o) => !unfinished(now).some((u) => u.id === o.id));
    });
    await second.stop();

    const keys = await listApiKeys(t.db, first.tenants[0]!.id, { limit: 100 });
    const demoKeys = keys.data.filter((key) => key.name === DEMO_KEY_NAME);
    expect(demoKeys).toHaveLength(2);
    expect(demoKeys.filter((key) => key.revokedAt === null)).toHaveLength(1);
  }, 120_000);
});
