import { BOT_SESSION_MAX_STATE_BYTES, type Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneExpired } from '../retention.ts';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';

let t: TestApp;
let one: Tenant;
let ingest: string;
let otherIngest: string;
let botId: string;
let otherBotId: string;

beforeAll(async () => {
  t = await createTestApp();
  one = await t.createTenant('sessions-one');
  const two = await t.createTenant('sessions-two');
  ingest = (await t.createKey(one.id, ['ingest'])).token;
  otherIngest = (await t.createKey(two.id, ['ingest'])).token;
  botId = await registerBot(one, '+966508034010');
  otherBotId = await registerBot(two, '+966502045939');
});
afterAll(() => t.close());

async function registerBot(tenant: Tenant, number: string): Promise<string> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/admin/bots',
    headers: { ...bearer(t.adminToken), 'x-tenant-id': tenant.id },
    payload: { name: 'Bot', restaurantName: 'R', whatsappNumber: number, accountSid: 'AC1', authToken: 'x' },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().id;
}

let keyCounter = 0;
const newKey = () => `whatsapp:+9665${String(40_000_000 + ++keyCounter * 7919).slice(-8)}`;
const url = (customerKey: string, bot = botId) =>
  `/api/bot-sessions/${bot}/${encodeURIComponent(customerKey)}`;

function get(customerKey: string, token = ingest, bot = botId) {
  return t.app.inject({ method: 'GET', url: url(customerKey, bot), headers: bearer(token) });
}

function put(customerKey: string, payload: unknown, headers: Record<string, string> = {}, token = ingest) {
  return t.app.inject({
    method: 'PUT',
    url: url(customerKey),
    headers: { ...bearer(token), ...headers },
    payload: payload as object,
  });
}

function del(customerKey: string, headers: Record<string, string> = {}) {
  return t.app.inject({
    method: 'DELETE',
    url: url(customerKey),
    headers: { ...bearer(ingest), ...headers },
  });
}

const paths = (response: Awaited<ReturnType<typeof get>>): string[] =>
  (response.json().error.details ?? []).map((d: { path: string }) => d.path);

describe('bot sessions', () => {
  it('stores, reads back and replaces a state, with its version as the ETag', async () => {
    const key = newKey();
    expect((await get(key)).statusCode).toBe(404);
    const created = await put(key, { state: { step: 'menu', cart: [] } });
    expect(created.statusCode, created.body).toBe(201);
    const first = created.json();
    expect(first).toMatchObject({
      botId,
      customerKey: key,
      state: { step: 'menu', cart: [] },
      expiresAt: null,
    });
    expect(created.headers.etag).toBe(`"${first.version}"`);

    const read = await get(key);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(first);
    expect(read.headers.etag).toBe(`"${first.version}"`);

    const replaced = await put(key, { state: { step: 'cart', cart: [{ item: 'shawarma', qty: 2 }] } });
    expect(replaced.statusCode).toBe(200);
    const second = replaced.json();
    expect(second.version).toBeGreaterThan(first.version);
    expect(second.createdAt).toBe(first.createdAt);
    expect((await get(key)).json().state).toEqual({ step: 'cart', cart: [{ item: 'shawarma', qty: 2 }] });
  });

  it('reads a key written into the path unencoded, as the README shows it, as the same key', async () => {
    const key = newKey();
    const raw = await t.app.inject({
      method: 'PUT',
      url: `/api/bot-sessions/${botId}/${key}`,
      headers: bearer(ingest),
      payload: { state: 'raw' },
    });
    expect(raw.statusCode, raw.body).toBe(201);
    expect(raw.json().customerKey).toBe(key);
    expect((await get(key)).json().state).toBe('raw');
  });

  it('keeps any JSON value, and customer keys with any characters, exactly', async () => {
    for (const [key, state] of [
      ['telegram/chat:42 ü', [1, 'two', { three: null }]],
      [newKey(), null],
      [newKey(), 'just a string'],
    ] as const) {
      expect((await put(key, { state })).statusCode).toBe(201);
      const read = await get(key);
      expect(read.json()).toMatchObject({ customerKey: key, state });
    }
  });

  it('lets exactly one of several writers holding the same version win; the others get 409', async () => {
    const key = newKey();
    const start = (await put(key, { state: { cart: [] } })).json();
    const writers = ['falafel', 'hummus', 'shawarma', 'fattoush', 'kunafa', 'tea'];
    const answers = await Promise.all(
      writers.map((item) => put(key, { state: { cart: [item] } }, { 'if-match': `"${start.version}"` })),
    );
    const winners = answers.filter((answer) => answer.statusCode === 200);
    const losers = answers.filter((answer) => answer.statusCode === 409);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(writers.length - 1);
    const winner = winners[0]!;
    for (const loser of losers) {
      expect(loser.json().error.code).toBe('version_conflict');
      expect(loser.headers.etag).toBe(winner.headers.etag);
    }
    expect((await get(key)).json().state).toEqual(winner.json().state);

    // A loser reads again and retries on the new version: now it wins.
    const retry = await put(
      key,
      { state: { cart: ['falafel', 'hummus'] } },
      { 'if-match': winner.headers.etag as string },
    );
    expect(retry.statusCode).toBe(200);
    // A stale version changes nothing.
    const stale = await put(key, { state: { cart: [] } }, { 'if-match': `"${start.version}"` });
    expect(stale.statusCode).toBe(409);
    expect((await get(key)).json().state).toEqual({ cart: ['falafel', 'hummus'] });
  });

  it('creates only with If-None-Match: *, and writes over nothing with If-Match', async () => {
    const key = newKey();
    expect((await put(key, { state: 1 }, { 'if-match': '"1"' })).statusCode).toBe(409);
    expect((await put(key, { state: 1 }, { 'if-match': '*' })).statusCode).toBe(409);
    expect((await get(key)).statusCode).toBe(404);
    const created = await put(key, { state: 1 }, { 'if-none-match': '*' });
    expect(created.statusCode).toBe(201);
    const again = await put(key, { state: 2 }, { 'if-none-match': '*' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('session_exists');
    expect((await put(key, { state: 3 }, { 'if-match': '*' })).statusCode).toBe(200);
    // Weak and bare ETags and lists are understood.
    const version = (await get(key)).json().version;
    expect((await put(key, { state: 4 }, { 'if-match': `"0", W/"${version}"` })).statusCode).toBe(200);
  });

  it('deletes, under If-Match when given', async () => {
    const key = newKey();
    const { version } = (await put(key, { state: { cart: [] } })).json();
    const stale = await del(key, { 'if-match': `"${version - 1}"` });
    expect(stale.statusCode).toBe(409);
    expect((await get(key)).statusCode).toBe(200);
    expect((await del(key, { 'if-match': `"${version}"` })).statusCode).toBe(204);
    expect((await get(key)).statusCode).toBe(404);
    expect((await del(key)).statusCode).toBe(404);
    // A session made again never reuses an old version, so an old If-Match cannot match it.
    const remade = (await put(key, { state: {} })).json();
    expect(remade.version).toBeGreaterThan(version);
    expect((await del(key, { 'if-match': `"${version}"` })).statusCode).toBe(409);
    expect((await del(key)).statusCode).toBe(204);
  });

  it('expires after ttlSeconds: reads as 404, may be created afresh, and is pruned', async () => {
    const key = newKey();
    const created = (await put(key, { state: { cart: ['x'] }, ttlSeconds: 1 })).json();
    const expiresIn = Date.parse(created.expiresAt) - Date.parse(created.updatedAt);
    expect(expiresIn).toBe(1000);
    expect((await get(key)).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await get(key)).statusCode).toBe(404);
    expect((await put(key, { state: 1 }, { 'if-match': `"${created.version}"` })).statusCode).toBe(409);
    expect((await del(key)).statusCode).toBe(404);

    const fresh = await put(key, { state: { cart: [] } }, { 'if-none-match': '*' });
    expect(fresh.statusCode).toBe(201);
    expect(fresh.json().expiresAt).toBeNull();
    expect(Date.parse(fresh.json().createdAt)).toBeGreaterThan(Date.parse(created.createdAt));

    // The hourly prune removes expired sessions and only those.
    const doomed = newKey();
    await put(doomed, { state: 1, ttlSeconds: 3600 });
    await t.db.query(
      "UPDATE bot_sessions SET expires_at = now() - interval '1 second' WHERE customer_key = $1",
      [doomed],
    );
    const pruned = await pruneExpired(t.db, 7);
    expect(pruned.sessions).toBeGreaterThanOrEqual(1);
    const left = await t.db.query<{ customer_key: string }>(
      'SELECT customer_key FROM bot_sessions WHERE customer_key = ANY($1)',
      [[key, doomed]],
    );
    expect(left.rows.map((row) => row.customer_key)).toEqual([key]);
  });

  it('bounds the state: 64 KiB of JSON is kept, one byte more is 413', async () => {
    const overhead = JSON.stringify({ s: '' }).length;
    const fits = { s: 'x'.repeat(BOT_SESSION_MAX_STATE_BYTES - overhead) };
    expect((await put(newKey(), { state: fits })).statusCode).toBe(201);
    const key = newKey();
    const tooBig = await put(key, { state: { s: 'x'.repeat(BOT_SESSION_MAX_STATE_BYTES - overhead + 1) } });
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json().error.code).toBe('state_too_large');
    // Multi-byte characters count in bytes.
    const arabic = await put(key, { state: { s: 'ش'.repeat(BOT_SESSION_MAX_STATE_BYTES / 2) } });
    expect(arabic.statusCode).toBe(413);
    const huge = await put(key, { state: { s: 'x'.repeat(4 * BOT_SESSION_MAX_STATE_BYTES) } });
    expect(huge.statusCode).toBe(413);
    expect((await get(key)).statusCode).toBe(404);
  });

  it('refuses what is not a session write, naming the field, storing nothing', async () => {
    const key = newKey();
    const cases: [unknown, string][] = [
      [{}, 'state'],
      [{ state: {}, ttlSeconds: 0 }, 'ttlSeconds'],
      [{ state: {}, ttlSeconds: 1.5 }, 'ttlSeconds'],
      [{ state: {}, extra: true }, 'extra'],
      [{ state: { cart: { note: 'a\u0000b' } } }, 'state.cart.note'],
      [{ state: { 'k\u0000': 1 } }, 'state.k\u0000'],
      [{ state: { s: '\ud800' } }, 'state.s'],
    ];
    for (const [payload, path] of cases) {
      const response = await put(key, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(paths(response)).toEqual([path]);
    }
    let deep: unknown = 'bottom';
    for (let i = 0; i < 1000; i++) deep = [deep];
    expect((await put(key, { state: deep })).statusCode).toBe(400);
    const badIfMatch = await put(key, { state: 1 }, { 'if-match': 'version 3' });
    expect(paths(badIfMatch)).toEqual(['headers.if-match']);
    const both = await put(key, { state: 1 }, { 'if-match': '"1"', 'if-none-match': '*' });
    expect(both.statusCode).toBe(400);
    expect((await get(key)).statusCode).toBe(404);
  });

  it('answers 401 without a key, 403 without the ingest scope, 404 for another tenant’s bot', async () => {
    const key = newKey();
    await put(key, { state: { secret: 'cart' } });
    expect((await t.app.inject({ method: 'GET', url: url(key) })).statusCode).toBe(401);
    for (const scopes of [['read'], ['admin']] as const) {
      const token = (await t.createKey(one.id, [...scopes])).token;
      expect((await get(key, token)).statusCode).toBe(403);
      expect((await put(key, { state: 1 }, {}, token)).statusCode).toBe(403);
    }
    // The other tenant's bot looks exactly like a missing one, from either side.
    const theirs = await get(key, ingest, otherBotId);
    const missing = await get(key, ingest, '00000000-0000-4000-8000-000000000000');
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json().error.message).toBe(missing.json().error.message);
    expect((await get(key, otherIngest)).statusCode).toBe(404);
    expect(
      (
        await t.app.inject({
          method: 'PUT',
          url: url(key),
          headers: bearer(otherIngest),
          payload: { state: 'hijack' },
        })
      ).statusCode,
    ).toBe(404);
    expect((await get(key)).json().state).toEqual({ secret: 'cart' });
    expect((await get(key, ingest, 'not-a-uuid')).statusCode).toBe(400);
  });

  it('goes with its bot when the bot is deleted', async () => {
    const bot = await registerBot(one, '+966501119999');
    const key = newKey();
    const response = await t.app.inject({
      method: 'PUT',
      url: url(key, bot),
      headers: bearer(ingest),
      payload: { state: 1 },
    });
    expect(response.statusCode).toBe(201);
    const deleted = await t.app.inject({
      method: 'DELETE',
      url: `/api/admin/bots/${bot}`,
      headers: { ...bearer(t.adminToken), 'x-tenant-id': one.id },
    });
    expect(deleted.json().deleted).toBe(true);
    const left = await t.db.query('SELECT 1 FROM bot_sessions WHERE bot_id = $1', [bot]);
    expect(left.rowCount).toBe(0);
  });
});
