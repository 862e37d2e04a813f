import { createHmac, timingSafeEqual } from 'node:crypto';
import { createRowSyncSender, SyncdeckError, signBody } from '@syncdeck/sdk';
import { createTestApp } from '@syncdeck/server/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeServer, type RecordedRequest, startFakeServer } from './testing/fake-server.ts';

const SECRET = 'whsec_shared_secret';
let server: FakeServer;

/** What the receiving webhook does: the HMAC of the raw body, compared in constant time. */
function signatureValid(request: RecordedRequest, secret = SECRET): boolean {
  const given = String(request.headers['x-webhook-signature'] ?? '');
  const expected = createHmac('sha256', secret).update(request.body).digest('hex');
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

beforeEach(async () => {
  server = await startFakeServer();
  server.handle((request) =>
    signatureValid(request)
      ? { status: 200, body: { ok: true } }
      : { status: 401, body: { error: { message: 'bad signature' } } },
  );
});
afterEach(() => server.close());

describe('row sync sender', () => {
  it('signs the raw body of a single change and posts it to /api/webhooks/:source', async () => {
    const rows = createRowSyncSender({ url: server.url, secret: SECRET, source: 'optiqo' });
    const answer = await rows.insert('adhoc_work_orders', 'tenant-1', { id: 'wo-1', title: 'Fix the door' });
    expect(answer).toEqual({ status: 200, body: { ok: true } });
    const [request] = server.requests;
    expect(request!.url).toBe('/api/webhooks/optiqo');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(signatureValid(request!)).toBe(true);
    expect(request!.headers['x-webhook-signature']).toBe(signBody(request!.body, SECRET));
    expect(JSON.parse(request!.body)).toEqual({
      type: 'INSERT',
      table: 'adhoc_work_orders',
      tenant_id: 'tenant-1',
      record: { id: 'wo-1', title: 'Fix the door' },
      old_record: null,
    });

    await rows.update(
      'adhoc_work_orders',
      'tenant-1',
      { id: 'wo-1', title: 'Fixed' },
      { id: 'wo-1', title: 'Fix' },
    );
    await rows.delete('adhoc_work_orders', 'tenant-1', { id: 'wo-1' });
    expect(server.requests.slice(1).map((r) => JSON.parse(r.body))).toEqual([
      {
        type: 'UPDATE',
        table: 'adhoc_work_orders',
        tenant_id: 'tenant-1',
        record: { id: 'wo-1', title: 'Fixed' },
        old_record: { id: 'wo-1', title: 'Fix' },
      },
      {
        type: 'DELETE',
        table: 'adhoc_work_orders',
        tenant_id: 'tenant-1',
        record: null,
        old_record: { id: 'wo-1' },
      },
    ]);
    expect(server.requests.every((r) => signatureValid(r))).toBe(true);
  });

  it('a wrong secret is refused by the receiver and thrown as rejected, not retried', async () => {
    const rows = createRowSyncSender({ url: server.url, secret: 'wrong', source: 'optiqo' });
    const error = await rows.insert('sites', 't', { id: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyncdeckError);
    expect(error).toMatchObject({ code: 'rejected', status: 401 });
    expect(server.requests).toHaveLength(1);
  });

  it('sends a full sync in batches with one sync_id, offsets, the total and is_last', async () => {
    const rows = createRowSyncSender({ url: server.url, secret: SECRET, source: 'optiqo' });
    const all = Array.from({ length: 7 }, (_, i) => ({ id: i, name: `zone ${i}` }));
    const result = await rows.fullSync('zone_categories', 'tenant-1', all, { batchSize: 3 });
    // The batches before the last may arrive in any order; the last arrives last.
    const bodies = server.requests
      .map((r) => JSON.parse(r.body))
      .sort((a, b) => Number(a.is_last) - Number(b.is_last) || a.offset - b.offset);
    expect(JSON.parse(server.requests.at(-1)!.body).is_last).toBe(true);
    expect(result).toEqual({ syncId: bodies[0].sync_id, batches: 3, total: 7 });
    expect(
      bodies.map(({ type, table, tenant_id, offset, total, is_last, records }) => ({
        type,
        table,
        tenant_id,
        offset,
        total,
        is_last,
        ids: records.map((r: { id: number }) => r.id),
      })),
    ).toEqual([
      {
        type: 'FULL_SYNC',
        table: 'zone_categories',
        tenant_id: 'tenant-1',
        offset: 0,
        total: 7,
        is_last: false,
        ids: [0, 1, 2],
      },
      {
        type: 'FULL_SYNC',
        table: 'zone_categories',
        tenant_id: 'tenant-1',
        offset: 3,
        total: 7,
        is_last: false,
        ids: [3, 4, 5],
      },
      {
        type: 'FULL_SYNC',
        table: 'zone_categories',
        tenant_id: 'tenant-1',
        offset: 6,
        total: 7,
        is_last: true,
        ids: [6],
      },
    ]);
    expect(new Set(bodies.map((b) => b.sync_id)).size).toBe(1);
    expect(server.requests.every((r) => signatureValid(r))).toBe(true);
  });

  it('keeps up to `concurrency` batches in flight, and sends the last once all others are answered', async () => {
    let inFlight = 0;
    let most = 0;
    let answered = 0;
    let answeredBeforeLast = -1;
    server.handle(async (request) => {
      if (JSON.parse(request.body).is_last) answeredBeforeLast = answered;
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 30));
      inFlight -= 1;
      answered += 1;
      return { status: 200, body: { ok: true } };
    });
    const rows = createRowSyncSender({ url: server.url, secret: SECRET, source: 'optiqo' });
    const all = Array.from({ length: 10 }, (_, i) => ({ id: i }));
    const result = await rows.fullSync('sites', 't', all, { batchSize: 1, concurrency: 3 });
    expect(result.batches).toBe(10);
    expect(most).toBe(3);
    expect(answeredBeforeLast).toBe(9);
    const offsets = server.requests.map((r) => JSON.parse(r.body).offset as number);
    expect([...offsets].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(offsets.at(-1)).toBe(9);
  });

  it('stops a full sync at a refused batch: no later batch starts, and the last is never sent', async () => {
    // The refusal comes at once, the other answers after a while: which batches were sent is certain.
    server.handle(async (request) => {
      if (JSON.parse(request.body).offset === 2)
        return { status: 422, body: { error: { message: 'unmapped' } } };
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { status: 200, body: { ok: true } };
    });
    const rows = createRowSyncSender({ url: server.url, secret: SECRET, source: 'optiqo' });
    const all = Array.from({ length: 10 }, (_, i) => ({ id: i }));
    const error = await rows
      .fullSync('sites', 't', all, { batchSize: 1, concurrency: 2 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'rejected', status: 422 });
    const offsets = server.requests.map((r) => JSON.parse(r.body).offset as number);
    expect(offsets.sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
  });

  it('a full sync of no rows sends one empty last batch', async () => {
    const rows = createRowSyncSender({ url: `${server.url}/api/webhooks/optiqo`, secret: SECRET });
    await rows.fullSync('sites', 'tenant-1', [], { syncId: 'run-1' });
    expect(server.requests.map((r) => [r.url, JSON.parse(r.body)])).toEqual([
      [
        '/api/webhooks/optiqo',
        {
          type: 'FULL_SYNC',
          table: 'sites',
          tenant_id: 'tenant-1',
          sync_id: 'run-1',
          offset: 0,
          records: [],
          total: 0,
          is_last: true,
        },
      ],
    ]);
  });

  it('retries a 503 and a 429 (after Retry-After), sending the same signed bytes', async () => {
    let calls = 0;
    server.handle((request) => {
      calls++;
      if (calls === 1) return { status: 503, body: {} };
      if (calls === 2) return { status: 429, headers: { 'retry-after': '1' }, body: {} };
      return signatureValid(request) ? { status: 202, body: {} } : { status: 401, body: {} };
    });
    const rows = createRowSyncSender({ url: server.url, secret: SECRET, source: 'optiqo' });
    expect((await rows.insert('sites', 't', { id: 1 })).status).toBe(202);
    expect(server.requests).toHaveLength(3);
    expect(new Set(server.requests.map((r) => r.body)).size).toBe(1);
    expect(server.requests[2]!.at - server.requests[1]!.at).toBeGreaterThanOrEqual(950);
  });

  it('refuses a configuration without a secret or with a bad URL', () => {
    expect(() => createRowSyncSender({ url: server.url, secret: '' })).toThrow(SyncdeckError);
    expect(() => createRowSyncSender({ url: 'ftp://x', secret: SECRET })).toThrow(/not an http/);
  });
});

describe('row sync sender against the server', () => {
  it('a whsec_ secret: what the sender signs, the server verifies', async () => {
    const t = await createTestApp();
    try {
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const url = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
      // As `syncdeck source create optiqo --secret whsec_…` stores it.
      const secret = `whsec_${Buffer.from('a Standard Webhooks style key 0123').toString('base64')}`;
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/admin/sources',
        headers: { authorization: `Bearer ${t.adminToken}` },
        payload: { name: 'optiqo', secret },
      });
      expect(created.statusCode, created.body).toBe(201);
      const rows = createRowSyncSender({ url, source: 'optiqo', secret, maxAttempts: 1 });
      const answer = await rows.insert('adhoc_work_orders', 'acme', { id: 'wo-1', title: 'signed' });
      expect(answer).toMatchObject({ status: 200, body: { result: 'applied' } });
      await rows.fullSync('zone_categories', 'acme', [{ id: 'z1' }, { id: 'z2' }], { batchSize: 1 });
      const stored = await t.db.query<{ id: string }>(
        'SELECT id FROM optiqo.work_orders UNION ALL SELECT id FROM optiqo.zones ORDER BY id',
      );
      expect(stored.rows.map((r) => r.id)).toEqual(['wo-1', 'z1', 'z2']);
    } finally {
      await t.close();
    }
  });
});
