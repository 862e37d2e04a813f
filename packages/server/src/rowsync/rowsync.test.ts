import type { Source, WebhookResult } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneExpired } from '../retention.ts';
import { bearer, createTestApp, deferred, type TestApp, testSettings } from '../testing/harness.ts';
import { rowChange } from '../testing/rowsync.ts';
import { buildApp } from '../app.ts';
import { secretFingerprint } from './admin.ts';
import { signSeed, signStandard } from './signature.ts';
import { applyChangeBatch, type QueuedChange } from './changes.ts';
import type { PushTarget } from './push-log.ts';

let t: TestApp;
const SECRET = 'optiqo-secret-0123456789abcdef';
const NEXT_SECRET = 'optiqo-rotated-secret-fedcba9876';
let acme: string;
let globex: string;
let acmeRead: string;
let globexRead: string;
let ingestOnly: string;

type Response = Awaited<ReturnType<TestApp['app']['inject']>>;

function send(
  payload: unknown,
  options: { secret?: string; raw?: string; headers?: Record<string, string>; source?: string } = {},
): Promise<Response> {
  const body = options.raw ?? JSON.stringify(payload);
  const headers = options.headers ?? {
    'x-webhook-signature': `sha256=${signSeed(body, options.secret ?? SECRET)}`,
  };
  return t.app.inject({
    method: 'POST',
    url: `/api/webhooks/${options.source ?? 'optiqo'}`,
    headers: { 'content-type': 'application/json', ...headers },
    payload: body,
  });
}

async function ok(payload: unknown, options?: Parameters<typeof send>[1]): Promise<WebhookResult> {
  const response = await send(payload, options);
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

function synced(token: string, table: string, query = '') {
  return t.app.inject({ method: 'GET', url: `/api/synced/${table}${query}`, headers: bearer(token) });
}

async function rows(token: string, table: string, query = ''): Promise<Record<string, unknown>[]> {
  const response = await synced(token, table, query.startsWith('?') ? query : `?limit=200${query}`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json().data;
}

async function ids(token: string, table: string): Promise<string[]> {
  return (await rows(token, table)).map((row) => row.id as string).sort();
}

function admin(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) {
  return t.app.inject({ method, url, headers: bearer(t.adminToken), ...(payload ? { payload } : {}) });
}

async function logs(query = ''): Promise<{ result: string; error: string | null; type: string | null }[]> {
  const response = await admin('GET', `/api/webhook-logs?limit=200${query}`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json().data;
}

const change = (
  type: string,
  record: Record<string, unknown>,
  tenant = 'acme',
  table = 'adhoc_work_orders',
) => rowChange(type, table, tenant, record);

beforeAll(async () => {
  t = await createTestApp();
  const created = await admin('POST', '/api/admin/sources', { name: 'optiqo', secret: SECRET });
  expect(created.statusCode, created.body).toBe(201);
  acme = (await ok(change('INSERT', { id: 'seed-1', title: 'first' }))).tenantId!;
  globex = (await ok(change('INSERT', { id: 'g-1', title: 'other', secret_cost: 9 }, 'globex'))).tenantId!;
  acmeRead = (await t.createKey(acme, ['read'])).token;
  globexRead = (await t.createKey(globex, ['read'])).token;
  ingestOnly = (await t.createKey(acme, ['ingest'])).token;
});
afterAll(() => t.close());

describe('sources', () => {
  it('is created with the default mapping, and never shows a secret', async () => {
    const response = await admin('GET', '/api/admin/sources/optiqo');
    expect(response.statusCode).toBe(200);
    const source = response.json() as Source;
    expect(source.schema).toBe('optiqo');
    expect(source.tables).toEqual(
      expect.arrayContaining([
        { sourceTable: 'adhoc_work_orders', targetTable: 'work_orders' },
        { sourceTable: 'attendance_events', targetTable: 'attendance_events' },
        { sourceTable: 'zone_categories', targetTable: 'zones' },
      ]),
    );
    expect(source.secrets).toHaveLength(1);
    expect(response.body).not.toContain(SECRET);
    const stored = await t.db.query<{ sealed: string }>('SELECT sealed FROM sync_source_secrets');
    expect(stored.rows[0]!.sealed).not.toContain(SECRET);
  });

  it('refuses bad names, duplicates and non-admins', async () => {
    const bad = await admin('POST', '/api/admin/sources', { name: 'Robert"); DROP', secret: SECRET });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0].path).toBe('name');
    const reserved = await admin('POST', '/api/admin/sources', {
      name: 'other',
      schema: 'public',
      secret: SECRET,
    });
    expect(reserved.statusCode).toBe(400);
    const duplicate = await admin('POST', '/api/admin/sources', { name: 'optiqo', secret: SECRET });
    expect(duplicate.statusCode).toBe(409);
    const tenantKey = (await t.createKey(acme, ['admin'])).token;
    const forbidden = await t.app.inject({
      method: 'POST',
      url: '/api/admin/sources',
      headers: bearer(tenantKey),
      payload: { name: 'sneaky', secret: SECRET },
    });
    expect(forbidden.statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/api/admin/sources' })).statusCode).toBe(401);
    const listed = await t.app.inject({
      method: 'GET',
      url: '/api/admin/sources',
      headers: bearer(tenantKey),
    });
    expect(listed.statusCode).toBe(403);
  });

  it('maps more tables; a target table belongs to one source', async () => {
    const mapped = await admin('PUT', '/api/admin/sources/optiqo/tables/sites', { targetTable: 'sites' });
    expect(mapped.statusCode, mapped.body).toBe(200);
    await ok(change('INSERT', { id: 's1', name: 'HQ' }, 'acme', 'sites'));
    expect(await ids(acmeRead, 'sites')).toEqual(['s1']);
    const taken = await admin('POST', '/api/admin/sources', {
      name: 'second',
      secret: SECRET,
      tables: [{ sourceTable: 'branches', targetTable: 'sites' }],
    });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.details[0].path).toBe('targetTable');
    // The defaults another source holds are left out, not refused.
    const other = await admin('POST', '/api/admin/sources', { name: 'second', secret: SECRET, tables: [] });
    expect(other.statusCode, other.body).toBe(201);
    expect(other.json().tables).toEqual([]);
  });

  it('refuses a table with no mapping, and logs it', async () => {
    const response = await send(change('INSERT', { id: 'x' }, 'acme', 'mystery_table'));
    expect(response.statusCode).toBe(422);
    expect((await logs('&result=rejected'))[0]!.error).toContain('mystery_table');
  });
});

describe('signatures', () => {
  const payload = change('INSERT', { id: 'sig-1', title: 'signed' });

  it('accepts the seed header with or without the sha256= prefix', async () => {
    const body = JSON.stringify(payload);
    expect(
      (await send(payload, { raw: body, headers: { 'x-webhook-signature': signSeed(body, SECRET) } }))
        .statusCode,
    ).toBe(200);
    expect((await send(payload)).statusCode).toBe(200);
  });

  it('refuses a wrong secret, a tampered body, re-serialised JSON and a missing header, storing nothing', async () => {
    const before = await t.db.query('SELECT count(*)::int AS n FROM optiqo.work_orders');
    const body = JSON.stringify(change('INSERT', { id: 'sig-bad', amount: 1 }));
    const wrong = await send(null, { raw: body, secret: 'not-the-secret-at-all-000' });
    expect(wrong.statusCode).toBe(401);
    const tampered = await send(null, {
      raw: body.replace('"amount":1', '"amount":9'),
      headers: { 'x-webhook-signature': signSeed(body, SECRET) },
    });
    expect(tampered.statusCode).toBe(401);
    // The same JSON with other whitespace is other bytes: the signature covers bytes, not meaning.
    const reserialised = await send(null, {
      raw: JSON.stringify(JSON.parse(body), null, 2),
      headers: { 'x-webhook-signature': signSeed(body, SECRET) },
    });
    expect(reserialised.statusCode).toBe(401);
    const missing = await send(null, { raw: body, headers: {} });
    expect(missing.statusCode).toBe(401);
    const garbage = await send(null, { raw: body, headers: { 'x-webhook-signature': 'sha256=xyz' } });
    expect(garbage.statusCode).toBe(401);
    const after = await t.db.query('SELECT count(*)::int AS n FROM optiqo.work_orders');
    expect(after.rows).toEqual(before.rows);
    const refused = (await logs('&result=rejected')).filter((l) => l.error?.includes('signature'));
    expect(refused.length).toBeGreaterThanOrEqual(5);
  });

  it('takes any content type: the bytes are what is signed', async () => {
    const body = JSON.stringify(change('INSERT', { id: 'sig-charset' }));
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/webhooks/optiqo',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'x-webhook-signature': signSeed(body, SECRET),
      },
      payload: body,
    });
    expect(response.statusCode, response.body).toBe(200);
    const plain = await t.app.inject({
      method: 'POST',
      url: '/api/webhooks/optiqo',
      headers: { 'content-type': 'text/plain', 'x-webhook-signature': signSeed(body, SECRET) },
      payload: body,
    });
    expect(plain.statusCode, plain.body).toBe(200);
  });

  it('refuses a body that is not JSON only after the signature, and an unknown source', async () => {
    const response = await send(null, { raw: '{nope' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('invalid_json');
    expect((await send(payload, { source: 'nobody' })).statusCode).toBe(404);
  });

  it('refuses a body that is not UTF-8, whatever the batch, and stores nothing of it', async () => {
    const records = [{ id: 'latin1-1', title: 'caf\u00e9' }];
    for (const payload of [
      change('INSERT', records[0]!),
      {
        type: 'FULL_SYNC',
        table: 'adhoc_work_orders',
        tenant_id: 'acme',
        sync_id: 'latin1',
        offset: 0,
        records,
        total: 1,
      },
    ]) {
      // The é in Latin-1: one byte that UTF-8 never has alone.
      const body = Buffer.from(JSON.stringify(payload), 'latin1');
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/webhooks/optiqo',
        headers: {
          'content-type': 'application/json',
          'x-webhook-signature': `sha256=${signSeed(body, SECRET)}`,
        },
        payload: body,
      });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().error).toMatchObject({
        code: 'invalid_json',
        message: expect.stringMatching(/UTF-8/),
      });
    }
    expect((await rows(acmeRead, 'work_orders')).find((r) => r.id === 'latin1-1')).toBeUndefined();
  });

  it('accepts Standard Webhooks headers; a stale timestamp is refused; a replayed id is applied once', async () => {
    const first = change('INSERT', { id: 'std-1', title: 'v1', updated_at: '2024-01-01T00:00:00Z' });
    const body = JSON.stringify(first);
    const headers = signStandard(body, SECRET, 'msg_std_1');
    const applied = await send(null, { raw: body, headers });
    expect(applied.statusCode).toBe(200);
    expect(applied.json().result).toBe('applied');
    // Replayed, even after the row changed: acknowledged, not applied again.
    await ok(change('UPDATE', { id: 'std-1', title: 'v2', updated_at: '2024-01-01T00:00:00Z' }));
    const replay = await send(null, { raw: body, headers });
    expect(replay.statusCode).toBe(200);
    expect(replay.json().result).toBe('duplicate');
    expect((await rows(acmeRead, 'work_orders')).find((r) => r.id === 'std-1')!.title).toBe('v2');

    const old = signStandard(body, SECRET, 'msg_std_2', Math.floor(Date.now() / 1000) - 301);
    expect((await send(null, { raw: body, headers: old })).statusCode).toBe(401);
    const future = signStandard(body, SECRET, 'msg_std_3', Math.floor(Date.now() / 1000) + 301);
    expect((await send(null, { raw: body, headers: future })).statusCode).toBe(401);
    const otherId = { ...headers, 'webhook-id': 'msg_std_4' };
    expect((await send(null, { raw: body, headers: otherId })).statusCode).toBe(401);
  });

  // PGlite is one process's database: a second server cannot share it.
  it.runIf(testSettings.db === 'postgres')(
    'refuses a secret removed through another server on the very next request',
    async () => {
      // Another server process on the same database, with its own loaded sources.
      const otherDb = await t.openDb();
      const other = await buildApp({ config: t.config, db: otherDb });
      await other.ready();
      try {
        const added = await admin('POST', '/api/admin/sources/optiqo/secrets', { secret: NEXT_SECRET });
        expect(added.statusCode, added.body).toBe(200);
        // Both servers have the source loaded with both secrets.
        expect((await send(change('INSERT', { id: 'xp-1' }), { secret: NEXT_SECRET })).statusCode).toBe(200);
        const removed = await other.inject({
          method: 'DELETE',
          url: `/api/admin/sources/optiqo/secrets/${secretFingerprint(NEXT_SECRET)}`,
          headers: bearer(t.adminToken),
        });
        expect(removed.statusCode, removed.body).toBe(200);
        const logged = async () =>
          (
            await t.db.query<{ all: number; refused: number }>(
              'SELECT count(*)::int AS all, (count(*) FILTER (WHERE status = 401))::int AS refused FROM webhook_logs',
            )
          ).rows[0]!;
        const before = await logged();
        expect((await send(change('INSERT', { id: 'xp-2' }), { secret: NEXT_SECRET })).statusCode).toBe(401);
        // Refused whole: not stored, and logged once, as refused.
        expect(await logged()).toEqual({ all: before.all + 1, refused: before.refused + 1 });
        expect((await send(change('INSERT', { id: 'xp-3' }))).statusCode).toBe(200);
        const ids = (await rows(acmeRead, 'work_orders')).map((r) => r.id);
        expect(ids).toContain('xp-3');
        expect(ids).not.toContain('xp-2');
      } finally {
        await other.close();
        await otherDb.close();
      }
    },
  );

  it('rotates: both secrets work while two are active, the removed one stops', async () => {
    const added = await admin('POST', '/api/admin/sources/optiqo/secrets', { secret: NEXT_SECRET });
    expect(added.statusCode, added.body).toBe(200);
    const source = added.json() as Source;
    expect(source.secrets).toHaveLength(2);
    expect((await send(change('INSERT', { id: 'rot-old' }))).statusCode).toBe(200);
    expect((await send(change('INSERT', { id: 'rot-new' }), { secret: NEXT_SECRET })).statusCode).toBe(200);
    const third = await admin('POST', '/api/admin/sources/optiqo/secrets', {
      secret: 'a-third-secret-0000000',
    });
    expect(third.statusCode).toBe(409);
    const oldFingerprint = source.secrets.find((s) => s.fingerprint !== added.json().secrets[1].fingerprint)!;
    const removed = await admin(
      'DELETE',
      `/api/admin/sources/optiqo/secrets/${source.secrets[0]!.fingerprint}`,
    );
    expect(removed.statusCode, removed.body).toBe(200);
    expect(removed.json().secrets).toHaveLength(1);
    expect(oldFingerprint).toBeDefined();
    const remaining = removed.json().secrets[0].fingerprint;
    const usable = remaining === source.secrets[1]!.fingerprint ? NEXT_SECRET : SECRET;
    const unusable = usable === SECRET ? NEXT_SECRET : SECRET;
    expect((await send(change('INSERT', { id: 'rot-2' }), { secret: usable })).statusCode).toBe(200);
    expect((await send(change('INSERT', { id: 'rot-3' }), { secret: unusable })).statusCode).toBe(401);
    const last = await admin('DELETE', `/api/admin/sources/optiqo/secrets/${remaining}`);
    expect(last.statusCode).toBe(409);
    // Back to the original secret for the rest of the file.
    if (usable !== SECRET) {
      await admin('POST', '/api/admin/sources/optiqo/secrets', { secret: SECRET });
      await admin('DELETE', `/api/admin/sources/optiqo/secrets/${remaining}`);
    }
    expect((await send(change('INSERT', { id: 'rot-4' }))).statusCode).toBe(200);
  });
});

describe('row changes', () => {
  it('inserts, updates and deletes by id within the tenant', async () => {
    await ok(change('INSERT', { id: 'crud-1', title: 'new', amount: 5, updated_at: '2024-05-01T10:00:00Z' }));
    let row = (await rows(acmeRead, 'work_orders')).find((r) => r.id === 'crud-1')!;
    expect(row).toMatchObject({ title: 'new', amount: 5 });
    await ok(
      change('UPDATE', { id: 'crud-1', title: 'changed', amount: 7, updated_at: '2024-05-01T11:00:00Z' }),
    );
    row = (await rows(acmeRead, 'work_orders')).find((r) => r.id === 'crud-1')!;
    expect(row).toMatchObject({ title: 'changed', amount: 7 });
    // The same id in another tenant is another row.
    await ok(change('INSERT', { id: 'crud-1', title: 'globex own' }, 'globex'));
    const deleted = await ok({
      type: 'DELETE',
      table: 'adhoc_work_orders',
      tenant_id: 'acme',
      record: null,
      old_record: { id: 'crud-1' },
    });
    expect(deleted.result).toBe('applied');
    expect((await rows(acmeRead, 'work_orders')).some((r) => r.id === 'crud-1')).toBe(false);
    expect((await rows(globexRead, 'work_orders')).find((r) => r.id === 'crud-1')!.title).toBe('globex own');
    const again = await ok({
      type: 'DELETE',
      table: 'adhoc_work_orders',
      tenant_id: 'acme',
      old_record: { id: 'crud-1' },
    });
    expect(again.result).toBe('ignored');
  });

  it('ignores an update older than the stored row, and logs it', async () => {
    await ok(change('UPDATE', { id: 'late-1', status: 'done', updated_at: '2024-06-02T00:00:00Z' }));
    const late = await ok(
      change('UPDATE', { id: 'late-1', status: 'open', updated_at: '2024-06-01T00:00:00Z' }),
    );
    expect(late.result).toBe('ignored');
    expect((await rows(acmeRead, 'work_orders')).find((r) => r.id === 'late-1')!.status).toBe('done');
    const log = (await logs('&result=ignored'))[0]!;
    expect(log.error).toContain('older');
  });

  it('refuses a record without an id or with a bad timestamp, with the field path', async () => {
    const noId = await send(change('INSERT', { title: 'x' }));
    expect(noId.statusCode).toBe(400);
    expect(noId.json().error.details[0].path).toBe('record.id');
    const badTime = await send(change('INSERT', { id: 'x', updated_at: '2024-02-30T00:00:00Z' }));
    expect(badTime.statusCode).toBe(400);
    expect(badTime.json().error.details[0].path).toBe('record.updated_at');
    const badType = await send({ type: 'MERGE', table: 'adhoc_work_orders', tenant_id: 'acme' });
    expect(badType.statusCode).toBe(400);
  });
});

describe('group commit', () => {
  it('answers concurrent webhooks from shared commits, each with its own outcome', async () => {
    const body = JSON.stringify(change('INSERT', { id: 'gc-dup' }));
    const headers = signStandard(body, SECRET, 'msg_gc_dup');
    const results = await Promise.all([
      send(null, { raw: body, headers }),
      send(null, { raw: body, headers }),
      ...Array.from({ length: 20 }, (_, i) => send(change('INSERT', { id: `gc-${i}`, n: i }))),
    ]);
    expect(results.map((r) => r.statusCode).every((code) => code === 200)).toBe(true);
    expect(
      results
        .slice(0, 2)
        .map((r) => r.json().result)
        .sort(),
    ).toEqual(['applied', 'duplicate']);
    expect(results.slice(2).every((r) => r.json().result === 'applied')).toBe(true);
    const stored = (await rows(acmeRead, 'work_orders')).filter((r) => String(r.id).startsWith('gc-'));
    expect(stored).toHaveLength(21);
  });

  it('keeps the order of changes to one row that share a batch', async () => {
    const target: PushTarget = {
      sourceId: (await t.db.query<{ id: string }>("SELECT id FROM sync_sources WHERE name = 'optiqo'"))
        .rows[0]!.id,
      sourceName: 'optiqo',
      schema: 'optiqo',
      tenantId: acme,
      externalTenantId: 'acme',
      table: 'work_orders',
    };
    const base = { target, type: 'UPDATE', updatedAt: null, deliveryKey: null, startedAt: performance.now() };
    const changes: QueuedChange[] = [
      { ...base, kind: 'upsert', id: 'ord-1', data: { id: 'ord-1', title: 'one' } },
      { ...base, kind: 'delete', id: 'ord-1', data: null },
      { ...base, kind: 'upsert', id: 'ord-2', data: { id: 'ord-2', title: 'two' } },
      { ...base, kind: 'upsert', id: 'ord-1', data: { id: 'ord-1', title: 'three' } },
      { ...base, kind: 'delete', id: 'ord-missing', data: null },
    ];
    expect(await applyChangeBatch(t.db, changes)).toEqual([
      'applied',
      'applied',
      'applied',
      'applied',
      'ignored',
    ]);
    const stored = (await rows(acmeRead, 'work_orders')).filter((r) => String(r.id).startsWith('ord-'));
    expect(stored.map((r) => `${r.id}:${r.title}`).sort()).toEqual(['ord-1:three', 'ord-2:two']);
  });
});

describe('full sync', () => {
  const batch = (syncId: string, offset: number, records: Record<string, unknown>[], extra: object) => ({
    type: 'FULL_SYNC',
    table: 'zone_categories',
    tenant_id: 'acme',
    sync_id: syncId,
    offset,
    records,
    ...extra,
  });
  const zones = (from: number, to: number, label = 'v') =>
    Array.from({ length: to - from }, (_, i) => ({ id: `z${from + i}`, label: `${label}${from + i}` }));

  it('over three batches replaces the rows at the last one and removes the rows it did not carry', async () => {
    await ok(batch('run-0', 0, zones(0, 6, 'old'), { total: 6 }));
    expect(await ids(acmeRead, 'zones')).toEqual(['z0', 'z1', 'z2', 'z3', 'z4', 'z5']);
    const first = await ok(batch('run-1', 0, zones(2, 4), { total: 6 }));
    expect(first.result).toBe('staged');
    await ok(batch('run-1', 2, zones(4, 6), { total: 6 }));
    // Until the last batch, readers see the old rows, unchanged.
    expect((await rows(acmeRead, 'zones')).map((r) => r.label).sort()).toEqual([
      'old0',
      'old1',
      'old2',
      'old3',
      'old4',
      'old5',
    ]);
    const last = await ok(batch('run-1', 4, zones(6, 8), { total: 6 }));
    expect(last.fullSync).toMatchObject({ complete: true, received: 6, removed: 2 });
    expect(await ids(acmeRead, 'zones')).toEqual(['z2', 'z3', 'z4', 'z5', 'z6', 'z7']);
    expect((await rows(acmeRead, 'zones')).find((r) => r.id === 'z4')!.label).toBe('v4');
    // A retried last batch after completion changes nothing.
    expect((await ok(batch('run-1', 4, zones(6, 8), { total: 6 }))).result).toBe('duplicate');
  });

  it('tells the feed each committed push, once per tenant and table, and nothing for a staged batch', async () => {
    const feedAfter = async (seq: number) =>
      (
        await t.db.query<{ seq: number; tenant_id: string; type: string; payload: Record<string, unknown> }>(
          "SELECT seq, tenant_id, type, payload::json AS payload FROM events WHERE seq > $1 AND type = 'table.synced' ORDER BY seq",
          [seq],
        )
      ).rows;
    const start = (await t.db.query<{ seq: number }>('SELECT seq FROM feed_counter')).rows[0]!.seq;
    await ok(change('INSERT', { id: 'feed-1', title: 'told', updated_at: '2024-07-01T00:00:00Z' }));
    let told = await feedAfter(start);
    expect(told).toHaveLength(1);
    expect(told[0]!.tenant_id).toBe(acme);
    expect(told[0]!.payload).toMatchObject({
      restaurantId: acme,
      table: 'work_orders',
      type: 'INSERT',
      rows: 1,
    });
    expect(Date.parse(String(told[0]!.payload.syncedAt))).toBeGreaterThan(Date.now() - 60_000);

    const staged = (await t.db.query<{ seq: number }>('SELECT seq FROM feed_counter')).rows[0]!.seq;
    await ok(batch('feed-run', 0, zones(0, 2), { total: 4 }));
    expect(await feedAfter(staged)).toEqual([]);
    await ok(batch('feed-run', 2, zones(2, 4), { total: 4 }));
    told = await feedAfter(staged);
    expect(told.map((e) => [e.tenant_id, e.payload.table, e.payload.type])).toEqual([
      [acme, 'zones', 'FULL_SYNC'],
    ]);
    // The same table keeps one id in the feed, whichever push told it.
    const again = (await t.db.query<{ seq: number }>('SELECT seq FROM feed_counter')).rows[0]!.seq;
    await ok(batch('feed-run-2', 0, zones(0, 1), { total: 1 }));
    expect((await feedAfter(again))[0]!.payload.id).toBe(told[0]!.payload.id);
  });

  it('ends on is_last when no total is given', async () => {
    await ok(batch('run-2', 0, zones(0, 2, 'w'), { is_last: false }));
    await ok(batch('run-2', 2, zones(2, 3, 'w'), { is_last: true }));
    expect(await ids(acmeRead, 'zones')).toEqual(['z0', 'z1', 'z2']);
  });

  it('interrupted after two of three batches leaves the old data intact', async () => {
    const before = await rows(acmeRead, 'zones');
    await ok(batch('run-3', 0, zones(10, 12, 'x'), { total: 6 }));
    await ok(batch('run-3', 2, zones(12, 14, 'x'), { total: 6 }));
    // The sender dies here. A later run starts afresh.
    expect(await rows(acmeRead, 'zones')).toEqual(before);
    const open = await t.db.query("SELECT completed_at FROM full_sync_runs WHERE sync_id = 'run-3'");
    expect(open.rows).toEqual([{ completed_at: null }]);
  });

  it('does not finish on is_last while rows of the total are missing', async () => {
    const before = await ids(acmeRead, 'zones');
    const early = await ok(batch('run-4', 4, zones(24, 26), { total: 6, is_last: true }));
    expect(early.result).toBe('staged');
    expect(early.fullSync!.complete).toBe(false);
    expect(await ids(acmeRead, 'zones')).toEqual(before);
    await ok(batch('run-4', 0, zones(20, 22), { total: 6 }));
    const done = await ok(batch('run-4', 2, zones(22, 24), { total: 6 }));
    expect(done.fullSync!.complete).toBe(true);
    expect(await ids(acmeRead, 'zones')).toEqual(['z20', 'z21', 'z22', 'z23', 'z24', 'z25']);
  });

  it('counts row positions, not deliveries: a retried batch counts once, a key sent twice keeps its later row', async () => {
    await ok(batch('run-6', 0, zones(40, 42, 'first'), { total: 4 }));
    const retried = await ok(batch('run-6', 0, zones(40, 42, 'retry'), { total: 4 }));
    expect(retried.fullSync).toMatchObject({ received: 2, complete: false });
    const last = await ok(
      batch('run-6', 2, [{ id: 'z41', label: 'moved' }, ...zones(43, 44, 'last')], { total: 4 }),
    );
    expect(last.fullSync).toMatchObject({ received: 4, complete: true });
    const stored = await rows(acmeRead, 'zones');
    expect(stored.map((r) => `${r.id}:${r.label}`).sort()).toEqual([
      'z40:retry40',
      'z41:moved',
      'z43:last43',
    ]);
    const staged = await t.db.query(
      "SELECT count(*)::int AS n FROM full_sync_batches WHERE sync_id = 'run-6'",
    );
    expect(staged.rows).toEqual([{ n: 0 }]);
  });

  it('keys its rows as single changes do: a number and its digits are one row, a key repeated in a batch keeps its last record', async () => {
    await ok(
      batch(
        'run-7',
        0,
        [
          { id: 7, label: 'first' },
          { id: 7, label: 'second' },
          { id: '8', label: 'text' },
        ],
        { total: 4 },
      ),
    );
    await ok(batch('run-7', 3, [{ id: 8, label: 'number' }], { total: 4 }));
    const stored = await rows(acmeRead, 'zones');
    expect(stored.map((r) => `${r.id}:${r.label}`).sort()).toEqual(['7:second', '8:number']);
    await ok(change('UPDATE', { id: '7', label: 'changed' }, 'acme', 'zone_categories'));
    const changed = await rows(acmeRead, 'zones');
    expect(changed.map((r) => `${r.id}:${r.label}`).sort()).toEqual(['7:changed', '8:number']);
  });

  it("keeps a row written live during the run, and a newer row's value over the run's older one", async () => {
    await ok(
      batch('run-5', 0, [{ id: 'a', label: 'snap', updated_at: '2024-01-01T00:00:00Z' }], { total: 2 }),
    );
    await ok(change('INSERT', { id: 'live', label: 'live' }, 'acme', 'zone_categories'));
    await ok(
      change(
        'UPDATE',
        { id: 'b', label: 'newer', updated_at: '2024-02-01T00:00:00Z' },
        'acme',
        'zone_categories',
      ),
    );
    await ok(
      batch('run-5', 1, [{ id: 'b', label: 'snap', updated_at: '2024-01-01T00:00:00Z' }], { total: 2 }),
    );
    const after = await rows(acmeRead, 'zones');
    expect(after.map((r) => `${r.id}:${r.label}`).sort()).toEqual(['a:snap', 'b:newer', 'live:live']);
  });

  // PGlite runs one transaction at a time: a single change cannot insert while the last batch writes.
  it.runIf(testSettings.db === 'postgres')(
    'writes its rows over a row that a single change inserts while the last batch is being written',
    async () => {
      const dated = (id: string, label: string, day: string) => ({
        id,
        label,
        updated_at: `2024-03-${day}T00:00:00Z`,
      });
      await ok(batch('race', 0, [dated('r1', 'run', '02')], { total: 2 }));
      const otherDb = await t.openDb();
      try {
        const held = deferred();
        const inserted = deferred();
        const single = otherDb.transaction(async (tx) => {
          await tx.query(
            'INSERT INTO optiqo.zones (tenant_id, id, data, updated_at) VALUES ($1, $2, $3, $4)',
            [acme, 'r2', JSON.stringify(dated('r2', 'live', '01')), '2024-03-01T00:00:00Z'],
          );
          inserted.resolve();
          await held.promise;
        });
        await inserted.promise;
        const last = send(batch('race', 1, [dated('r2', 'run', '02')], { total: 2 }));
        // The last batch's insert waits for the uncommitted r2, whose COMMIT then makes it conflict.
        const deadline = Date.now() + 10_000;
        while (Date.now() < deadline) {
          const waiting = await t.db.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
          );
          if (waiting.rows[0]!.n > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        held.resolve();
        await single;
        const answer = await last;
        expect(answer.statusCode, answer.body).toBe(200);
        expect(answer.json().fullSync).toMatchObject({ complete: true });
        const stored = await rows(acmeRead, 'zones');
        expect(stored.map((r) => `${r.id}:${r.label}`).sort()).toEqual(['r1:run', 'r2:run']);
      } finally {
        await otherDb.close();
      }
    },
  );

  it("without total or is_last behaves as the seed: offset 0 clears the tenant's table", async () => {
    await ok(batch('legacy', 0, zones(30, 32, 'l'), {}));
    expect(await ids(acmeRead, 'zones')).toEqual(['z30', 'z31']);
    await ok(batch('legacy', 2, zones(32, 33, 'l'), {}));
    expect(await ids(acmeRead, 'zones')).toEqual(['z30', 'z31', 'z32']);
    expect((await rows(globexRead, 'work_orders')).length).toBeGreaterThan(0);
  });
});

describe('tenants of a source', () => {
  it('creates a tenant for an unknown tenant id on its first push, once', async () => {
    const [a, b] = await Promise.all([
      ok(change('INSERT', { id: 'n1' }, 'Initech 42')),
      ok(change('INSERT', { id: 'n2' }, 'Initech 42')),
    ]);
    expect(a.tenantId).toBe(b.tenantId);
    const tenant = await t.db.query<{ slug: string }>('SELECT slug FROM tenants WHERE id = $1', [a.tenantId]);
    expect(tenant.rows[0]!.slug).toBe('optiqo-initech-42');
    const acmeSlug = await t.db.query<{ slug: string }>('SELECT slug FROM tenants WHERE id = $1', [acme]);
    expect(acmeSlug.rows[0]!.slug).toBe('optiqo-acme');
  });
});

describe('per-tenant views', () => {
  async function viewColumns(tenantId: string, table: string) {
    const result = await t.db.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns
       WHERE table_schema = 'tenants' AND table_name = $1 ORDER BY ordinal_position`,
      [`${tenantId}_${table}`],
    );
    return Object.fromEntries(result.rows.map((r) => [r.column_name, r.data_type]));
  }
  async function viewOid(tenantId: string, table: string): Promise<number> {
    const result = await t.db.query<{ oid: number }>(
      "SELECT c.oid::int AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'tenants' AND c.relname = $1",
      [`${tenantId}_${table}`],
    );
    return result.rows[0]!.oid;
  }

  it('shows a tenant only its own rows and the columns pushed for it', async () => {
    const acmeRows = await synced(acmeRead, 'work_orders', '?limit=200');
    const names = acmeRows.json().columns.map((c: { name: string }) => c.name);
    expect(names).not.toContain('secret_cost');
    expect(acmeRows.body).not.toContain('secret_cost');
    expect(acmeRows.json().data.some((r: { id: string }) => r.id === 'g-1')).toBe(false);
    const probe = await synced(acmeRead, 'work_orders', '?filter=secret_cost:gt:0');
    expect(probe.statusCode).toBe(400);
    const globexRows = await rows(globexRead, 'work_orders');
    expect(globexRows.find((r) => r.id === 'g-1')).toMatchObject({ secret_cost: 9 });
    expect(globexRows.some((r) => r.id === 'seed-1')).toBe(false);
    expect(await viewColumns(acme, 'work_orders')).not.toHaveProperty('secret_cost');
    expect(await viewColumns(globex, 'work_orders')).toHaveProperty('secret_cost', 'numeric');
  });

  it('regenerates the view when a column appears, and only then', async () => {
    const before = await viewOid(acme, 'work_orders');
    await ok(change('UPDATE', { id: 'seed-1', title: 'same columns' }));
    expect(await viewOid(acme, 'work_orders')).toBe(before);
    await ok(
      change('UPDATE', {
        id: 'seed-1',
        title: 'more',
        priority: 3,
        due_at: '2024-07-01T09:00:00Z',
        flagged: true,
        meta: { a: 1 },
      }),
    );
    expect(await viewOid(acme, 'work_orders')).not.toBe(before);
    expect(await viewColumns(acme, 'work_orders')).toMatchObject({
      id: 'text',
      title: 'text',
      priority: 'numeric',
      due_at: 'timestamp with time zone',
      flagged: 'boolean',
      meta: 'jsonb',
    });
    expect(await viewColumns(globex, 'work_orders')).not.toHaveProperty('priority');
    const row = (await rows(acmeRead, 'work_orders')).find((r) => r.id === 'seed-1')!;
    expect(row).toMatchObject({ priority: 3, flagged: true, meta: { a: 1 } });
    // A column that later carries another type widens to text rather than failing reads.
    await ok(change('UPDATE', { id: 'seed-2', priority: 'urgent' }));
    expect(await viewColumns(acme, 'work_orders')).toHaveProperty('priority', 'text');
    expect((await rows(acmeRead, 'work_orders')).find((r) => r.id === 'seed-2')!.priority).toBe('urgent');
  });

  it('filters, sorts and pages with a cursor', async () => {
    for (let i = 0; i < 7; i++)
      await ok(
        change(
          'INSERT',
          { id: `p${i}`, amount: i % 3 === 0 ? null : i * 10, kind: i % 2 ? 'odd' : 'even' },
          'acme',
          'attendance_events',
        ),
      );
    const all = await rows(acmeRead, 'attendance_events', '&sort=-amount');
    expect(all.map((r) => r.id)).toEqual(['p5', 'p4', 'p2', 'p1', 'p6', 'p3', 'p0']);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=2&sort=-amount${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await synced(acmeRead, 'attendance_events', query);
      expect(page.statusCode, page.body).toBe(200);
      seen.push(...page.json().data.map((r: { id: string }) => r.id));
      cursor = page.json().nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((r) => r.id));
    const filtered = await rows(
      acmeRead,
      'attendance_events',
      '&filter=amount:gte:20&filter=kind:eq:odd&sort=amount',
    );
    expect(filtered.map((r) => r.id)).toEqual(['p5']);
    const nulls = await rows(acmeRead, 'attendance_events', '&filter=amount:isnull');
    expect(nulls.map((r) => r.id).sort()).toEqual(['p0', 'p3', 'p6']);
    const contains = await rows(acmeRead, 'attendance_events', '&filter=kind:contains:DD');
    expect(contains).toHaveLength(3);
  });

  it('refuses names that are not columns and values of the wrong type, never reaching SQL', async () => {
    for (const query of [
      '?sort=amount%22%3B%20DROP%20TABLE%20tenants%3B--',
      '?filter=amount%22%20OR%201%3D1--:eq:1',
      '?filter=nope:eq:1',
      '?filter=amount:gt:abc',
      '?filter=amount:like:1',
      '?cursor=garbage',
    ]) {
      const response = await synced(acmeRead, 'attendance_events', query);
      expect(response.statusCode, query).toBe(400);
    }
    expect((await synced(acmeRead, 'Work_Orders"')).statusCode).toBe(400);
  });

  it('answers 404 for a table nothing was pushed to for this tenant, 401 and 403 without the right credential', async () => {
    expect((await synced(globexRead, 'sites')).statusCode).toBe(404);
    expect((await synced(acmeRead, 'no_such_table')).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/api/synced/work_orders' })).statusCode).toBe(401);
    expect((await synced(ingestOnly, 'work_orders')).statusCode).toBe(403);
    const asAdmin = await t.app.inject({
      method: 'GET',
      url: '/api/synced/work_orders',
      headers: { ...bearer(t.adminToken), 'x-tenant-id': globex },
    });
    expect(asAdmin.statusCode).toBe(200);
    expect(asAdmin.json().data.every((r: { id: string }) => r.id !== 'seed-1')).toBe(true);
    // A tenant's credential naming another tenant gets 404, as if it did not exist.
    const crossed = await t.app.inject({
      method: 'GET',
      url: '/api/synced/work_orders',
      headers: { ...bearer(acmeRead), 'x-tenant-id': globex },
    });
    expect(crossed.statusCode).toBe(404);
  });

  it("lists a tenant's own tables with the columns pushed for it, never another tenant's", async () => {
    const list = (token: string, headers: Record<string, string> = {}) =>
      t.app.inject({ method: 'GET', url: '/api/synced', headers: { ...bearer(token), ...headers } });
    type Listed = { table: string; columns: { name: string; type: string }[]; lastPushAt: string | null };
    const own = await list(acmeRead);
    expect(own.statusCode, own.body).toBe(200);
    const acmeTables = own.json().data as Listed[];
    expect(acmeTables.map((x) => x.table)).toEqual(['attendance_events', 'sites', 'work_orders', 'zones']);
    const workOrders = acmeTables.find((x) => x.table === 'work_orders')!;
    // The same columns, in the same order, as reading the table answers.
    expect(workOrders.columns).toEqual((await synced(acmeRead, 'work_orders')).json().columns);
    expect(workOrders.columns).toContainEqual({ name: 'priority', type: 'text' });
    expect(own.body).not.toContain('secret_cost');
    expect(Date.parse(workOrders.lastPushAt!)).toBeGreaterThan(Date.now() - 5 * 60_000);

    const globexTables = (await list(globexRead)).json().data as Listed[];
    expect(globexTables.map((x) => x.table)).toEqual(['work_orders']);
    expect(globexTables[0]!.columns).toContainEqual({ name: 'secret_cost', type: 'numeric' });
    expect(globexTables[0]!.columns.map((c) => c.name)).not.toContain('priority');

    const asAdmin = await list(t.adminToken, { 'x-tenant-id': globex });
    expect(asAdmin.json().data).toEqual(globexTables);
    expect((await list(t.adminToken)).statusCode).toBe(400);
    expect((await list(acmeRead, { 'x-tenant-id': globex })).statusCode).toBe(404);
    expect((await list(ingestOnly)).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/api/synced' })).statusCode).toBe(401);

    const fresh = await admin('POST', '/api/admin/tenants', { slug: 'no-pushes', name: 'No pushes' });
    expect(fresh.statusCode, fresh.body).toBe(201);
    const freshRead = (await t.createKey(fresh.json().id, ['read'])).token;
    const none = await list(freshRead);
    expect(none.statusCode).toBe(200);
    expect(none.json().data).toEqual([]);
  });
});

describe('webhook logs', () => {
  it('shows a tenant only its own attempts; a platform admin all of them, filtered and paged', async () => {
    const own = await t.app.inject({
      method: 'GET',
      url: '/api/webhook-logs?limit=200',
      headers: bearer(acmeRead),
    });
    expect(own.statusCode).toBe(200);
    const entries = own.json().data as { tenantId: string | null }[];
    expect(entries.length).toBeGreaterThan(5);
    expect(entries.every((e) => e.tenantId === acme)).toBe(true);
    const other = await t.app.inject({
      method: 'GET',
      url: `/api/webhook-logs?tenant=${globex}`,
      headers: bearer(acmeRead),
    });
    expect(other.statusCode).toBe(404);
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/webhook-logs', headers: bearer(ingestOnly) }))
        .statusCode,
    ).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/api/webhook-logs' })).statusCode).toBe(401);

    const all = await logs();
    expect(all.some((e) => e.result === 'rejected')).toBe(true);
    const globexOnly = await admin('GET', `/api/webhook-logs?tenant=${globex}&limit=200`);
    expect(globexOnly.json().data.every((e: { tenantId: string }) => e.tenantId === globex)).toBe(true);
    const fullSyncs = await admin('GET', '/api/webhook-logs?table=zones&result=staged&limit=200');
    expect(fullSyncs.json().data.length).toBeGreaterThan(0);
    expect(fullSyncs.json().data.every((e: { type: string }) => e.type === 'FULL_SYNC')).toBe(true);

    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await admin('GET', `/api/webhook-logs?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      for (const entry of page.json().data as { id: string }[]) seen.add(entry.id);
      cursor = page.json().nextCursor;
      pages++;
    } while (cursor && pages < 100);
    const count = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_logs');
    expect(seen.size).toBe(count.rows[0]!.n);
  });

  it('shows one attempt to whoever may list it, and 404 to another tenant', async () => {
    const entry = (token: string, id: string) =>
      t.app.inject({ method: 'GET', url: `/api/webhook-logs/${id}`, headers: bearer(token) });
    const [acmeEntry] = (await admin('GET', `/api/webhook-logs?tenant=${acme}&limit=1`)).json().data;
    const [globexEntry] = (await admin('GET', `/api/webhook-logs?tenant=${globex}&limit=1`)).json().data;
    const [refused] = (await admin('GET', '/api/webhook-logs?result=rejected&limit=1')).json().data;

    const own = await entry(acmeRead, acmeEntry.id);
    expect(own.statusCode, own.body).toBe(200);
    expect(own.json()).toEqual(acmeEntry);
    expect((await entry(acmeRead, globexEntry.id)).statusCode).toBe(404);
    expect((await entry(globexRead, acmeEntry.id)).statusCode).toBe(404);
    expect((await entry(acmeRead, refused.id)).statusCode).toBe(404);
    expect((await entry(t.adminToken, refused.id)).json()).toEqual(refused);
    expect((await entry(ingestOnly, acmeEntry.id)).statusCode).toBe(403);
    expect((await entry(acmeRead, 'not-a-uuid')).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'GET', url: `/api/webhook-logs/${acmeEntry.id}` })).statusCode).toBe(
      401,
    );
  });

  it('forgets logs, push logs and delivered ids past the retention window, and drops abandoned runs', async () => {
    await t.db.query(
      "UPDATE webhook_logs SET created_at = now() - interval '8 days' WHERE result = 'rejected'",
    );
    await t.db.query("UPDATE tenant_data_push_log SET created_at = now() - interval '8 days'");
    await t.db.query(
      "UPDATE full_sync_runs SET updated_at = now() - interval '8 days' WHERE sync_id = 'run-3'",
    );
    const staging = "SELECT count(*)::int AS n FROM full_sync_batches WHERE sync_id = 'run-3'";
    expect((await t.db.query<{ n: number }>(staging)).rows[0]!.n).toBe(2);
    const pruned = await pruneExpired(t.db, 7);
    expect(pruned.rowSync.webhookLogs).toBeGreaterThan(0);
    expect(pruned.rowSync.abandonedRuns).toBe(1);
    expect((await t.db.query<{ n: number }>(staging)).rows[0]!.n).toBe(0);
    expect((await logs('&result=rejected')).length).toBe(0);
    const pushes = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tenant_data_push_log');
    expect(pushes.rows[0]!.n).toBe(0);
    // Rows themselves are data, not logs: untouched.
    expect((await rows(acmeRead, 'zones')).length).toBeGreaterThan(0);
  });
});
