// The SDK against the real Syncdeck server: in this process (createTestApp on a port) and spawned.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRowSyncSender, createSessionStore, createSyncClient, SyncdeckError } from '@syncdeck/sdk';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  adminKeyOf,
  createTestApp,
  createTestDatabase,
  type ServerProcess,
  startServerProcess,
  type TestApp,
  type TestDatabase,
} from '@syncdeck/server/testing';
import { closedPort } from './testing/fake-server.ts';

const botScript = fileURLToPath(new URL('./testing/bot.ts', import.meta.url));

describe('against the server in this process', () => {
  let t: TestApp;
  let url: string;
  let ingest: string;
  let read: string;
  let admin: string;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    const tenant = await t.createTenant('sufrah');
    ingest = (await t.createKey(tenant.id, ['ingest'])).token;
    read = (await t.createKey(tenant.id, ['read'])).token;
    admin = (await t.createKey(tenant.id, ['admin'])).token;
  });
  afterAll(() => t.close());

  const api = async (pathname: string, token = read) => {
    const response = await fetch(url + pathname, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    return response.json();
  };

  it("integration (the seed's): a customer the bot saw appears in Syncdeck", async () => {
    const sync = createSyncClient({ url, apiKey: ingest, logger: {} });
    const outcome = await sync.customerSeen({
      display_name: 'سارة',
      whatsapp_phone: '+966 50 123 4567',
      primary_channel: 'whatsapp',
      preferred_language: 'ar',
    });
    expect(outcome).toMatchObject({ status: 'delivered', duplicate: false });
    const customers = (await api('/api/customers?q=501234567')) as { data: Record<string, unknown>[] };
    expect(customers.data).toHaveLength(1);
    expect(customers.data[0]).toMatchObject({ displayName: 'سارة', preferredLanguage: 'ar' });

    // The same event_id again is acknowledged as a duplicate and applied once.
    const again = await sync.customerSeen(
      { display_name: 'Sara', whatsapp_phone: '+966501234567' },
      { eventId: (outcome as { eventId: string }).eventId },
    );
    expect(again).toMatchObject({ status: 'delivered', duplicate: true });
    expect(((await api('/api/customers?q=501234567')) as { data: unknown[] }).data[0]).toMatchObject({
      displayName: 'سارة',
    });
    await sync.close();
  });

  it('a batch with an invalid event: the server rejects that one, the SDK reports it and delivers the rest', async () => {
    const sync = createSyncClient({ url, apiKey: ingest, logger: {} });
    const outcomes = await Promise.all([
      sync.orderCreated({ customer_identifier: { telegram_chat_id: 77 }, syrve_order_id: 'B-1', total: 10 }),
      // biome-ignore lint/suspicious/noExplicitAny: what an untyped bot might send
      sync.orderStatus({ syrve_order_id: 'B-1', status: 'teleported' as any }),
      sync.orderStatus({ syrve_order_id: 'B-1', status: 'cooking' }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['delivered', 'rejected', 'delivered']);
    expect(outcomes[1]).toMatchObject({ error: { code: 'invalid_event' } });
    const orders = (await api('/api/orders')) as { data: { status: string }[] };
    expect(orders.data.map((o) => o.status)).toEqual(['cooking']);
    await sync.close();
  });

  it('a wrong key is refused (401) and reported, not retried', async () => {
    const sync = createSyncClient({ url, apiKey: 'sdk_live_wrong', logger: {} });
    expect(await sync.orderStatus({ syrve_order_id: 'B-1', status: 'delivered' })).toMatchObject({
      status: 'rejected',
      error: { code: 'rejected', status: 401 },
    });
    expect(sync.stats()).toMatchObject({ rejected: 1, retries: 0 });
    await sync.close();
  });

  it('session store: compare-and-set on the version, update retrying on conflict, delete', async () => {
    // A bot appears in the registry when ingest first meets its number.
    const sync = createSyncClient({ url, apiKey: ingest, logger: {} });
    await sync.messageCreated({
      customer_identifier: { whatsapp_phone: '+966502220000' },
      bot: { whatsapp_number: '+966508034010' },
      direction: 'IN',
      content: 'hello',
    });
    await sync.close();
    const bots = (await api('/api/admin/bots', admin)) as { data: { id: string }[] };
    const botId = bots.data[0]!.id;

    const sessions = createSessionStore({ url, apiKey: ingest, botId });
    const key = 'whatsapp:+966502220000/cart';
    expect(await sessions.get(key)).toBeNull();
    const created = await sessions.put(key, { items: ['Kabsa'] }, { version: null, ttlSeconds: 3600 });
    expect(created).toMatchObject({ botId, customerKey: key, state: { items: ['Kabsa'] } });
    expect(created.expiresAt).not.toBeNull();
    // Create-only over an existing session, and a write over a stale version: both conflict.
    await expect(sessions.put(key, {}, { version: null })).rejects.toMatchObject({
      code: 'conflict',
      status: 409,
    });
    const second = await sessions.put(key, { items: ['Kabsa', 'Laban'] }, { version: created.version });
    await expect(sessions.put(key, { items: [] }, { version: created.version })).rejects.toBeInstanceOf(
      SyncdeckError,
    );
    expect((await sessions.get<{ items: string[] }>(key))?.state.items).toEqual(['Kabsa', 'Laban']);

    // Ten concurrent read-modify-writes: none is lost.
    const counter = 'telegram:99/counter';
    await Promise.all(
      Array.from({ length: 10 }, () =>
        sessions.update<{ n: number }>(counter, (state) => ({ n: (state?.n ?? 0) + 1 })),
      ),
    );
    expect((await sessions.get<{ n: number }>(counter))?.state.n).toBe(10);

    await expect(sessions.delete(key, { version: created.version })).rejects.toMatchObject({
      code: 'conflict',
    });
    expect(await sessions.delete(key, { version: second.version })).toBe(true);
    expect(await sessions.delete(key)).toBe(false);
    expect(await sessions.get(key)).toBeNull();

    const unknownBot = createSessionStore({
      url,
      apiKey: ingest,
      botId: '00000000-0000-4000-8000-000000000000',
    });
    await expect(unknownBot.get(key)).rejects.toMatchObject({ code: 'rejected', status: 404 });
  });

  it('row sync: a full sync with batches in flight together replaces the table, and a later one removes what it lacks', async () => {
    const created = await fetch(`${url}/api/admin/sources`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'optiqo', secret: 'sdk-full-sync-secret-0123456789' }),
    });
    expect(created.status).toBe(201);
    const rows = createRowSyncSender({ url, source: 'optiqo', secret: 'sdk-full-sync-secret-0123456789' });
    const orders = (n: number, version: number) =>
      Array.from({ length: n }, (_, i) => ({ id: `wo-${i}`, title: `order ${i} v${version}` }));
    const stored = async () =>
      (
        await t.db.query<{ id: string; title: string }>(
          "SELECT id, data ->> 'title' AS title FROM optiqo.work_orders",
        )
      ).rows.sort((a, b) => (a.id < b.id ? -1 : 1));
    const first = await rows.fullSync('adhoc_work_orders', 'acme', orders(1_000, 1), {
      batchSize: 50,
      concurrency: 4,
    });
    expect(first).toMatchObject({ batches: 20, total: 1_000 });
    const expected = (n: number, version: number) =>
      orders(n, version)
        .map(({ id, title }) => ({ id, title }))
        .sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(await stored()).toEqual(expected(1_000, 1));
    await rows.fullSync('adhoc_work_orders', 'acme', orders(600, 2), { batchSize: 50, concurrency: 4 });
    expect(await stored()).toEqual(expected(600, 2));
  });
});

describe('against a spawned server', () => {
  let database: TestDatabase;
  let server: ServerProcess | null = null;
  let dir: string;

  beforeEach(async () => {
    database = await createTestDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'syncdeck-sdk-'));
  });
  afterEach(async () => {
    await server?.kill('SIGKILL');
    server = null;
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Starts the server on a fresh database; a tenant and its ingest key. */
  async function startWithKey(slug: string, port = '0') {
    server = await startServerProcess({ ...database.env, PORT: port });
    const adminKey = adminKeyOf(server);
    await call('/api/admin/tenants', adminKey, { slug });
    return (await call('/api/admin/keys', adminKey, { scopes: ['ingest'] }, slug)).token as string;
  }

  async function call(pathname: string, token: string, body?: unknown, tenant?: string) {
    const response = await fetch(server!.url + pathname, {
      method: body ? 'POST' : 'GET',
      headers: {
        authorization: `Bearer ${token}`,
        ...(tenant ? { 'x-tenant-id': tenant } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return (await response.json()) as Record<string, unknown>;
  }

  /** Content of every stored message, read from the database with the server stopped. */
  async function storedContents(): Promise<string[]> {
    const db = await database.open();
    try {
      const result = await db.query<{ content: string }>('SELECT content FROM messages');
      return result.rows.map((row) => row.content);
    } finally {
      await db.close();
    }
  }

  const countOf = (contents: string[], prefix: string) => {
    const counts = new Map<string, number>();
    for (const content of contents.filter((c) => c.startsWith(prefix)))
      counts.set(content, (counts.get(content) ?? 0) + 1);
    return counts;
  };

  it('the server killed (SIGKILL) mid-stream and restarted: every event delivered exactly once', async () => {
    const ingest = await startWithKey('ocean');
    const port = new URL(server!.url).port;

    const sync = createSyncClient({
      url: server!.url,
      apiKey: ingest,
      logger: {},
      batchSize: 20,
      retryBaseMs: 50,
      retryMaxMs: 300,
    });
    const outcomes: Promise<unknown>[] = [];
    let killed = false;
    let sentAfterKill = 0;
    const deadline = Date.now() + 20_000;
    // A steady stream: the server is killed once 60 are delivered, and 100 more follow while it is down.
    for (let i = 0; !killed || sentAfterKill < 100; i++) {
      if (Date.now() > deadline) throw new Error(`stream stalled: ${JSON.stringify(sync.stats())}`);
      // Without wa_sid: only the event_id keeps a resent message from being stored twice.
      outcomes.push(
        sync.messageCreated({
          customer_identifier: { whatsapp_phone: `+96650333${String(i % 20).padStart(4, '0')}` },
          bot: { whatsapp_number: '+966508034010' },
          direction: 'IN',
          content: `stream ${i}`,
        }),
      );
      if (killed) sentAfterKill++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (!killed && sync.stats().delivered >= 60) {
        killed = true;
        await server!.kill('SIGKILL');
      }
    }
    const total = outcomes.length;
    expect(killed).toBe(true);
    expect(sync.stats().delivered).toBeLessThan(total);
    server = await startServerProcess({ ...database.env, PORT: port });
    expect(await sync.flush({ timeoutMs: 60_000 })).toBe(true);
    const settled = (await Promise.all(outcomes)) as { status: string }[];
    expect(settled.every((o) => o.status === 'delivered')).toBe(true);
    await sync.close();

    expect(await server.kill('SIGTERM')).toBe(0);
    server = null;
    const counts = countOf(await storedContents(), 'stream ');
    expect(counts.size).toBe(total);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  }, 120_000);

  it("the bot killed with events in its outbox: they are delivered after the bot's restart", async () => {
    const outbox = path.join(dir, 'bot-outbox.jsonl');
    const runBot = (url: string, key: string, count: number) => {
      const child = spawn(
        process.execPath,
        ['--conditions=@syncdeck/source', '--import', 'tsx', botScript, url, key, outbox, String(count)],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      return { child, exited, output: () => output };
    };

    // The bot is configured with the server's port and key; the server goes down.
    const port = String(await closedPort());
    const ingest = await startWithKey('botco', port);
    expect(await server!.kill('SIGTERM')).toBe(0);
    server = null;

    // The bot queues 50 messages while the server is down, and is then killed outright.
    const url = `http://127.0.0.1:${port}`;
    const first = runBot(url, ingest, 50);
    const deadline = Date.now() + 20_000;
    while (!first.output().includes('queued')) {
      if (Date.now() > deadline) throw new Error(`the bot did not start:\n${first.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    first.child.kill('SIGKILL');
    await first.exited;
    expect((await readFile(outbox, 'utf8')).trim().split('\n').length).toBeGreaterThanOrEqual(50);

    // The server comes back; the restarted bot sends what its outbox kept.
    server = await startServerProcess({ ...database.env, PORT: port });
    const second = runBot(url, ingest, 0);
    expect(await second.exited).toBe(0);
    const stats = JSON.parse(second.output().trim().split('\n').pop()!);
    expect(stats).toMatchObject({ drained: true, delivered: 50, queued: 0 });

    expect(await server.kill('SIGTERM')).toBe(0);
    server = null;
    const counts = countOf(await storedContents(), 'bot message ');
    expect(counts.size).toBe(50);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  }, 120_000);
});
