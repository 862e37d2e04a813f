/*
 * Malformed bodies against ingest (single and batch), row sync (signed, so they reach parsing)
 * and the admin routes: whatever a client sends, the answer is never a 5xx, every 4xx has the
 * one error shape (a 400 with the field paths in `details`), no invalid batch item is ever
 * `retryable`, and a refused push writes nothing but its log line. Deterministic: the bodies
 * come from a seeded PRNG, so a failure reproduces exactly. Requests run concurrently through
 * app.inject, and each part has a time limit: this runs on every CI build.
 */
import type { Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { mutate, prng, serialise } from './fuzz-bodies.ts';
import { describeSent, expectNo5xx, inPool, rowCounts, type Sent } from './fuzz-harness.ts';
import {
  edgeRowSyncBodies,
  HOSTILE_COLUMNS,
  ROWSYNC_SECRET,
  refusedRowSyncBodies,
  signedHeaders,
  validRowSync,
} from './fuzz-rowsync-bodies.ts';
import { hostilePaths, realtimeQuery, syncedQuery, validChart } from './fuzz-read.ts';
import { adminTargets, type Target } from './fuzz-targets.ts';

const SEED = 0x5eedc0de;

let t: TestApp;
let tenant: Tenant;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant('fuzz');
  const source = await t.app.inject({
    method: 'POST',
    url: '/api/admin/sources',
    headers: bearer(t.adminToken),
    payload: { name: 'fuzz', secret: ROWSYNC_SECRET },
  });
  expect(source.statusCode, source.body).toBe(201);
});
afterAll(() => t.close());

async function push(body: string | Buffer, n: number): Promise<Sent> {
  const url = '/api/webhooks/fuzz';
  const response = await t.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...signedHeaders(body, n) },
    payload: body,
  });
  return { method: 'POST', url, payload: body, response };
}

describe('fuzzing the bodies of ingest and the admin routes', () => {
  it('never answers 5xx, and every 4xx has the error shape with details', async () => {
    const targets: Target[] = await adminTargets(t, tenant, 'fuzz');
    const rng = prng(SEED);
    const started = Date.now();
    const REQUESTS = 50 * targets.length;
    const requests = Array.from({ length: REQUESTS }, (_, n) => {
      const target = targets[n % targets.length]!;
      return { target, payload: serialise(mutate(rng, target.valid(n))) };
    });
    const sent: Sent[] = [];
    await inPool(requests, async ({ target, payload }) => {
      const url = target.url();
      const response = await t.app.inject({
        method: target.method,
        url,
        headers: { ...target.headers(), 'content-type': 'application/json' },
        payload,
      });
      sent.push({ method: target.method, url, payload, response });
    });
    const statuses = expectNo5xx(sent);
    for (const one of sent) {
      if (one.url !== '/api/sync/events' || one.response.statusCode >= 300) continue;
      for (const result of one.response.json().results ?? []) {
        if (result.status !== 'rejected') continue;
        expect(result.error.retryable, describeSent(one)).toBeUndefined();
        expect(result.error.details.length, describeSent(one)).toBeGreaterThan(0);
      }
    }
    expect(Date.now() - started).toBeLessThan(45_000);
    // The bodies must exercise both sides: most refused, some accepted.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(REQUESTS / 3);
    expect([...statuses.keys()].some((status) => status < 300)).toBe(true);
  });
});

describe('fuzzing row sync with signed bodies', () => {
  it('answers mutated changes and full syncs without a 5xx, and reads every table back', async () => {
    const rng = prng(SEED ^ 0x0f0f);
    const started = Date.now();
    const REQUESTS = 300;
    const bodies = Array.from({ length: REQUESTS }, (_, n) => serialise(mutate(rng, validRowSync(rng, n))));
    const sent: Sent[] = [];
    await inPool(bodies, async (body, n) => {
      sent.push(await push(body, n));
    });
    const statuses = expectNo5xx(sent);
    expect(statuses.get(200) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(REQUESTS / 10);
    expect(statuses.get(400) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(REQUESTS / 4);
    // What was stored reads back, whatever its columns: the tables of the tenants the valid
    // bodies name (mutated tenant ids make more, alike), sorted by each column.
    const reads: Sent[] = [];
    const tenants = new Set(sent.map((one) => one.response.json().tenantId).filter(Boolean));
    for (const tenantId of [...tenants].slice(0, 3)) {
      const key = (await t.createKey(tenantId, ['read'])).token;
      const tables = await t.app.inject({ method: 'GET', url: '/api/synced', headers: bearer(key) });
      expect(tables.statusCode, tables.body).toBe(200);
      const urls: string[] = [];
      for (const table of tables.json().data as { table: string; columns: { name: string }[] }[]) {
        urls.push(`/api/synced/${table.table}?limit=200`);
        for (const { name } of table.columns) urls.push(`/api/synced/${table.table}?limit=2&sort=-${name}`);
      }
      await inPool(urls, async (url) => {
        const response = await t.app.inject({ method: 'GET', url, headers: bearer(key) });
        reads.push({ method: 'GET', url, payload: '', response });
      });
    }
    expectNo5xx(reads);
    expect(reads.length).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('refuses hostile bodies with 4xx, writing nothing but their log lines', async () => {
    const cases = refusedRowSyncBodies();
    const before = await rowCounts(t.db, ['webhook_logs']);
    const logsBefore = await t.db.query<{ n: string }>('SELECT count(*) AS n FROM webhook_logs');
    const sent: Sent[] = [];
    const names = new Map<Sent, string>();
    await inPool(cases, async ({ name, body }, n) => {
      const one = await push(body, n);
      names.set(one, name);
      sent.push(one);
    });
    expectNo5xx(sent);
    for (const one of sent)
      expect(one.response.statusCode, `${names.get(one)}: ${describeSent(one)}`).toBeGreaterThanOrEqual(400);
    expect(await rowCounts(t.db, ['webhook_logs'])).toEqual(before);
    // Every attempt is logged, refused or not.
    const logsAfter = await t.db.query<{ n: string }>('SELECT count(*) AS n FROM webhook_logs');
    expect(Number(logsAfter.rows[0]!.n) - Number(logsBefore.rows[0]!.n)).toBe(cases.length);
  });

  it('stores column names that collide with SQL, and records nested deep, or refuses them, never 5xx', async () => {
    const bodies = edgeRowSyncBodies('fuzz-columns');
    const sent: Sent[] = [];
    // In order: the columns of one table are added one push after another.
    for (const [n, body] of bodies.entries()) sent.push(await push(body, n));
    expectNo5xx(sent);
    const tenantId = sent.map((one) => one.response.json().tenantId).find(Boolean);
    expect(tenantId).toBeTruthy();
    const key = (await t.createKey(tenantId, ['read'])).token;
    const reads: Sent[] = [];
    const plain = HOSTILE_COLUMNS.filter((name) => /^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name));
    const urls = ['work_orders', 'zones'].flatMap((table) => [
      `/api/synced/${table}?limit=200`,
      ...plain.flatMap((name) => [
        `/api/synced/${table}?sort=${name}`,
        `/api/synced/${table}?sort=-${name}&filter=${name}:notnull`,
        `/api/synced/${table}?filter=${name}:eq:1`,
      ]),
    ]);
    await inPool(urls, async (url) => {
      const response = await t.app.inject({ method: 'GET', url, headers: bearer(key) });
      reads.push({ method: 'GET', url, payload: '', response });
    });
    expectNo5xx(reads);
    // Each column that could be a view column is one, and holds what was pushed.
    const all = await t.app.inject({
      method: 'GET',
      url: '/api/synced/work_orders?limit=200',
      headers: bearer(key),
    });
    expect(all.statusCode, all.body).toBe(200);
    const columns = (all.json().columns as { name: string }[]).map((c) => c.name);
    expect(columns).toEqual(expect.arrayContaining(plain));
    for (const [i, name] of HOSTILE_COLUMNS.entries()) {
      if (!plain.includes(name)) continue;
      const row = (all.json().data as Record<string, unknown>[]).find((r) => r.id === `col-${i}`);
      expect(row?.[name], name).toEqual(i % 2 ? `value ${i}` : i);
    }
  });
});

describe('fuzzing the read side: charts, synced queries, realtime and path parameters', () => {
  it('answers hostile chart bodies, queries and path parameters without a 5xx', async () => {
    const rng = prng(SEED ^ 0x7e57);
    const started = Date.now();
    const rows = [
      { id: 'r1', amount: 5, title: 'a', at: '2026-01-01T00:00:00Z', v: 1, select: 'x' },
      { id: 'r2', amount: 7, title: 'b', at: '2026-01-02T00:00:00Z', v: 2, select: 'y' },
    ];
    let tenantId = '';
    for (const [n, record] of rows.entries()) {
      const body = JSON.stringify({
        type: 'INSERT',
        table: 'adhoc_work_orders',
        tenant_id: 'fuzz-read',
        record,
      });
      const pushed = await push(body, n);
      expect(pushed.response.statusCode, pushed.response.body).toBe(200);
      tenantId = pushed.response.json().tenantId;
    }
    const key = bearer((await t.createKey(tenantId, ['read', 'operate'])).token);
    const admin = { ...bearer(t.adminToken), 'x-tenant-id': tenant.slug };
    const requests: {
      method: 'GET' | 'POST' | 'DELETE';
      url: string;
      headers: Record<string, string>;
      payload?: string;
    }[] = [];
    for (let n = 0; n < 100; n++)
      requests.push({
        method: 'POST',
        url: '/api/charts',
        headers: key,
        payload: serialise(mutate(rng, validChart(n))),
      });
    const columns = ['id', 'amount', 'title', 'at', 'v', 'select'];
    for (let n = 0; n < 150; n++)
      requests.push({
        method: 'GET',
        url: `/api/synced/work_orders?${syncedQuery(rng, columns)}`,
        headers: key,
      });
    for (let n = 0; n < 50; n++)
      requests.push({
        method: 'GET',
        url: `/api/realtime?${realtimeQuery(rng, 'fuzz')}`,
        headers: n % 2 ? key : admin,
      });
    const paths = hostilePaths({ bot: '00000000-0000-4000-8000-000000000000', tenant: tenant.slug });
    for (const url of paths)
      for (const method of ['GET', 'DELETE'] as const) requests.push({ method, url, headers: admin });
    const sent: Sent[] = [];
    await inPool(requests, async ({ method, url, headers, payload }) => {
      const response = await t.app.inject({
        method,
        url,
        headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(payload === undefined ? {} : { payload }),
      });
      sent.push({ method, url, payload: payload ?? '', response });
    });
    expectNo5xx(
      sent.filter((one) => paths.includes(one.url)),
      { shape: false },
    );
    const statuses = expectNo5xx(sent.filter((one) => !paths.includes(one.url)));
    // Both sides exercised: synced queries read and refused, the socket refused before upgrading.
    const synced = sent.filter((one) => one.url.startsWith('/api/synced/work_orders?'));
    for (const status of [200, 400])
      expect(
        synced.some((one) => one.response.statusCode === status),
        `synced ${status}`,
      ).toBe(true);
    expect(sent.some((one) => one.url.startsWith('/api/realtime') && one.response.statusCode === 426)).toBe(
      true,
    );
    // The charts made read their data back.
    const made = sent.filter((one) => one.url === '/api/charts' && one.response.statusCode === 201);
    expect(made.length, JSON.stringify([...statuses])).toBeGreaterThan(0);
    const data: Sent[] = [];
    await inPool(made, async (one) => {
      const url = `/api/charts/${one.response.json().id}/data`;
      data.push({
        method: 'GET',
        url,
        payload: '',
        response: await t.app.inject({ method: 'GET', url, headers: key }),
      });
    });
    expectNo5xx(data);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
