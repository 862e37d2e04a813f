import type { Chart } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signSeed } from '../rowsync/index.ts';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';

let t: TestApp;
const SECRET = 'charts-secret-0123456789abcdef';
let acme: string;
let globex: string;
let acmeOperate: string;
let acmeRead: string;
let globexOperate: string;

async function push(payload: object): Promise<string> {
  const body = JSON.stringify(payload);
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/webhooks/optiqo',
    headers: { 'content-type': 'application/json', 'x-webhook-signature': signSeed(body, SECRET) },
    payload: body,
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().tenantId;
}

const order = (tenant: string, id: string, amount: number, at: string, status = 'open') => ({
  type: 'INSERT',
  table: 'adhoc_work_orders',
  tenant_id: tenant,
  record: { id, amount, status, created_at: at },
});

function createChart(token: string, body: object) {
  return t.app.inject({ method: 'POST', url: '/api/charts', headers: bearer(token), payload: body });
}
function get(token: string, url: string) {
  return t.app.inject({ method: 'GET', url, headers: bearer(token) });
}

beforeAll(async () => {
  t = await createTestApp();
  const source = await t.app.inject({
    method: 'POST',
    url: '/api/admin/sources',
    headers: bearer(t.adminToken),
    payload: { name: 'optiqo', secret: SECRET },
  });
  expect(source.statusCode).toBe(201);
  acme = await push(order('acme', 'o1', 10, '2024-03-01T10:00:00Z'));
  await push(order('acme', 'o2', 20, '2024-03-01T15:00:00Z', 'done'));
  await push(order('acme', 'o3', 5, '2024-03-02T09:00:00Z'));
  globex = await push(order('globex', 'x1', 1000, '2024-03-01T10:00:00Z'));
  acmeOperate = (await t.createKey(acme, ['operate'])).token;
  acmeRead = (await t.createKey(acme, ['read'])).token;
  globexOperate = (await t.createKey(globex, ['read', 'operate'])).token;
});
afterAll(() => t.close());

describe('charts', () => {
  let daily: Chart;

  it('creates a chart from a declarative spec, linked to its table', async () => {
    const response = await createChart(acmeOperate, {
      name: 'Revenue per day',
      spec: {
        table: 'work_orders',
        metric: { fn: 'sum', column: 'amount' },
        groupBy: { column: 'created_at', bucket: 'day' },
      },
    });
    expect(response.statusCode, response.body).toBe(201);
    daily = response.json();
    expect(daily.cacheStatus).toBe('stale');
    const deps = await t.db.query('SELECT table_name FROM chart_table_dependencies WHERE chart_id = $1', [
      daily.id,
    ]);
    expect(deps.rows).toEqual([{ table_name: 'work_orders' }]);
  });

  it('computes from the tenant’s rows only, then serves the cache while fresh', async () => {
    const first = await get(acmeRead, `/api/charts/${daily.id}/data`);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().cacheStatus).toBe('stale');
    expect(first.json().rows).toEqual([
      { key: '2024-03-01T00:00:00+00:00', value: 30 },
      { key: '2024-03-02T00:00:00+00:00', value: 5 },
    ]);
    expect((await get(acmeRead, `/api/charts/${daily.id}`)).json().cacheStatus).toBe('fresh');
    const second = await get(acmeRead, `/api/charts/${daily.id}/data`);
    expect(second.json().cacheStatus).toBe('fresh');
    expect(second.json().rows).toEqual(first.json().rows);
  });

  it('goes stale when its table is pushed, in the same transaction, and fresh again after recompute', async () => {
    await push(order('globex', 'x2', 1, '2024-03-01T10:00:00Z'));
    // Another tenant's push leaves this tenant's chart alone.
    expect((await get(acmeRead, `/api/charts/${daily.id}`)).json().cacheStatus).toBe('fresh');
    await push(order('acme', 'o4', 7, '2024-03-02T12:00:00Z'));
    expect((await get(acmeRead, `/api/charts/${daily.id}`)).json().cacheStatus).toBe('stale');
    const log = await t.db.query<{ table_name: string; event_type: string }>(
      'SELECT table_name, event_type FROM tenant_data_push_log WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1',
      [acme],
    );
    expect(log.rows[0]).toEqual({ table_name: 'work_orders', event_type: 'INSERT' });
    const recomputed = await get(acmeRead, `/api/charts/${daily.id}/data`);
    expect(recomputed.json().cacheStatus).toBe('stale');
    expect(recomputed.json().rows[1]).toEqual({ key: '2024-03-02T00:00:00+00:00', value: 12 });
    expect((await get(acmeRead, `/api/charts/${daily.id}`)).json().cacheStatus).toBe('fresh');
    // An update older than the stored row changes nothing, so the cache stays fresh.
    await push({
      ...order('acme', 'o4', 7, '2024-03-02T12:00:00Z'),
      type: 'UPDATE',
      record: { id: 'o4', amount: 1, updated_at: '2020-01-01T00:00:00Z' },
    });
    await push({
      ...order('acme', 'o4', 7, '2024-03-02T12:00:00Z'),
      type: 'UPDATE',
      record: { id: 'o4', amount: 7, created_at: '2024-03-02T12:00:00Z', updated_at: '2024-03-05T00:00:00Z' },
    });
    expect((await get(acmeRead, `/api/charts/${daily.id}`)).json().cacheStatus).toBe('stale');
    await push({
      ...order('acme', 'o4', 7, '2024-03-02T12:00:00Z'),
      type: 'UPDATE',
      record: { id: 'o4', amount: 1, updated_at: '2020-01-01T00:00:00Z' },
    });
    await get(acmeRead, `/api/charts/${daily.id}/data`);
    await push({
      ...order('acme', 'o4', 7, '2024-03-02T12:00:00Z'),
      type: 'UPDATE',
      record: { id: 'o4', amount: 1, updated_at: '2020-01-01T00:00:00Z' },
    });
    expect((await get(acmeRead, `/api/charts/${daily.id}`)).json().cacheStatus).toBe('fresh');
  });

  it('counts with filters and groups by a column', async () => {
    const response = await createChart(acmeOperate, {
      name: 'Open by status',
      spec: {
        table: 'work_orders',
        metric: { fn: 'count' },
        groupBy: { column: 'status' },
        filters: [{ column: 'amount', op: 'gte', value: 6 }],
      },
    });
    expect(response.statusCode, response.body).toBe(201);
    const data = await get(acmeRead, `/api/charts/${response.json().id}/data`);
    expect(data.json().rows).toEqual([
      { key: 'done', value: 1 },
      { key: 'open', value: 1 },
      // o4's last update carried no status: rows without a value come last, as their own group.
      { key: null, value: 1 },
    ]);
  });

  it('refuses specs that are not declarative or do not fit the table, with the field path', async () => {
    const cases: [object, string][] = [
      [{ table: 'work_orders', metric: { fn: 'sum' } }, 'spec.metric.column'],
      [{ table: 'work_orders', metric: { fn: 'sum', column: 'status' } }, 'spec.metric.column'],
      [
        { table: 'work_orders', metric: { fn: 'count' }, groupBy: { column: 'status', bucket: 'day' } },
        'spec.groupBy.bucket',
      ],
      [{ table: 'work_orders', metric: { fn: 'count' }, sql: 'SELECT 1' }, 'spec.sql'],
      [
        {
          table: 'work_orders',
          metric: { fn: 'count' },
          filters: [{ column: 'x"; --', op: 'eq', value: 1 }],
        },
        'spec.filters.0.column',
      ],
      [{ table: 'zones', metric: { fn: 'count' } }, 'spec.table'],
      [{ table: 'work_orders', metric: { fn: 'median', column: 'amount' } }, 'spec.metric.fn'],
    ];
    for (const [spec, path] of cases) {
      const response = await createChart(acmeOperate, { name: 'bad', spec });
      expect(response.statusCode, JSON.stringify(spec)).toBe(400);
      expect(response.json().error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
  });

  it('refuses a name or spec text PostgreSQL cannot store with 400 naming the field, storing nothing', async () => {
    const before = (await get(acmeRead, '/api/charts?limit=200')).json().data.length;
    const spec = (filters: object[] = []) => ({ table: 'work_orders', metric: { fn: 'count' }, filters });
    const cases: [object, string][] = [];
    for (const bad of ['a\u0000b', 'a\uD800', '\uDC00b']) {
      cases.push(
        [{ name: bad, spec: spec() }, 'name'],
        [{ name: 'ok', spec: spec([{ column: 'status', op: 'eq', value: bad }]) }, 'spec.filters.0.value'],
        [
          { name: 'ok', spec: spec([{ column: 'status', op: 'contains', value: bad }]) },
          'spec.filters.0.value',
        ],
        [{ name: 'ok', spec: spec([{ column: 'amount', op: 'gt', value: bad }]) }, 'spec.filters.0.value'],
      );
    }
    for (const [body, path] of cases) {
      const response = await createChart(acmeOperate, body);
      expect(response.statusCode, `${JSON.stringify(body)}: ${response.body}`).toBe(400);
      expect(response.json().error.details.map((d: { path: string }) => d.path)).toEqual([path]);
    }
    expect((await get(acmeRead, '/api/charts?limit=200')).json().data).toHaveLength(before);
  });

  it('keeps charts to their tenant: another tenant’s chart is 404, and scopes are enforced', async () => {
    expect((await get(globexOperate, `/api/charts/${daily.id}`)).statusCode).toBe(404);
    expect((await get(globexOperate, `/api/charts/${daily.id}/data`)).statusCode).toBe(404);
    const list = await get(globexOperate, '/api/charts');
    expect(list.json().data).toEqual([]);
    const own = await get(acmeRead, '/api/charts?limit=1');
    expect(own.json().data).toHaveLength(1);
    const next = await get(acmeRead, `/api/charts?limit=1&cursor=${own.json().nextCursor}`);
    expect(next.json().data).toHaveLength(1);
    expect(next.json().data[0].id).not.toBe(own.json().data[0].id);
    expect(
      (await createChart(acmeRead, { name: 'x', spec: { table: 'work_orders', metric: { fn: 'count' } } }))
        .statusCode,
    ).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/api/charts' })).statusCode).toBe(401);
    expect((await get(acmeRead, '/api/charts/not-a-uuid')).statusCode).toBe(400);
  });
});
