import type { FeedBatch, RealtimeFrame, Tenant } from '@syncdeck/core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { buildApp } from '../app.ts';
import { bearer, createTestApp, type TestApp, testSettings } from '../testing/harness.ts';
import { RealtimeClient } from './client.ts';
import { frameFeedTail } from './frames.ts';

let t: TestApp;
let tenant: Tenant;
let other: Tenant;
let ingestKey: string;
let otherIngestKey: string;
let readKey: string;
let otherReadKey: string;
let baseUrl: string;

async function listen(app: FastifyInstance): Promise<string> {
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return address.replace(/^http/, 'ws');
}

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant('live-a');
  other = await t.createTenant('live-b');
  ingestKey = (await t.createKey(tenant.id, ['ingest'])).token;
  otherIngestKey = (await t.createKey(other.id, ['ingest'])).token;
  readKey = (await t.createKey(tenant.id, ['read'])).token;
  otherReadKey = (await t.createKey(other.id, ['read'])).token;
  baseUrl = await listen(t.app);
});
afterAll(() => t.close());

/** A WebSocket client that keeps every frame it receives (a batch's changes one by one). */
class Follower {
  readonly frames: RealtimeFrame[] = [];
  /** The seqs of each array frame (`batch=true`), as they came. */
  readonly batches: number[][] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as RealtimeFrame | FeedBatch;
      if (Array.isArray(frame)) {
        this.batches.push(frame.map((change) => change.seq));
        this.frames.push(...frame);
      } else {
        this.frames.push(frame);
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const wake of this.waiters.splice(0)) wake();
      }),
    );
  }

  /** Changes only (no hello or heartbeat). */
  changes() {
    return this.frames.filter((f): f is Extract<RealtimeFrame, { data: unknown }> => 'data' in f);
  }

  async waitFor(done: (follower: Follower) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this)) {
      if (Date.now() > deadline) {
        throw new Error(`timed out; received ${JSON.stringify(this.frames.slice(-5))}`);
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  close() {
    this.socket.close();
    return this.closed;
  }
}

function follow(
  token: string,
  query = '',
  options: { url?: string; autoPong?: boolean } = {},
): Promise<Follower> {
  const socket = new WebSocket(`${options.url ?? baseUrl}/api/realtime${query}`, {
    headers: bearer(token),
    autoPong: options.autoPong ?? true,
  });
  const follower = new Follower(socket);
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(follower));
    socket.once('unexpected-response', (_request, response) => {
      reject(new Error(`HTTP ${response.statusCode}`));
    });
    socket.once('error', reject);
  });
}

/** Both ways a client may take changes, as the query each adds. */
const FRAME_MODES = [
  { batch: '', frames: 'a frame per change' },
  { batch: '&batch=true', frames: 'arrays' },
];

let counter = 0;
function message(content = 'hello', token = ingestKey, phoneOffset = 0) {
  counter += 1;
  return t.app.inject({
    method: 'POST',
    url: '/api/sync/events',
    headers: bearer(token),
    payload: {
      event: 'message.created',
      data: {
        customer_identifier: { whatsapp_phone: `+96650${String(1_000_000 + phoneOffset + (counter % 7))}` },
        bot: { whatsapp_number: '+966110000001' },
        direction: 'IN',
        message_type: 'text',
        content,
      },
    },
  });
}

async function tenantSeqs(tenantId: string, after = 0): Promise<number[]> {
  const result = await t.db.query<{ seq: number }>(
    'SELECT seq FROM events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq',
    [tenantId, after],
  );
  return result.rows.map((row) => row.seq);
}

describe('GET /api/realtime', () => {
  it('refuses a missing credential, a key without read, and bad parameters before upgrading', async () => {
    await expect(follow('sdk_live_unknown')).rejects.toThrow('HTTP 401');
    await expect(follow(ingestKey)).rejects.toThrow('HTTP 403');
    await expect(follow(readKey, '?since=abc')).rejects.toThrow('HTTP 400');
    await expect(follow(readKey, '?token=x')).rejects.toThrow('HTTP 400');
    await expect(follow(readKey, '?batch=yes')).rejects.toThrow('HTTP 400');
    await expect(follow(readKey, `?tenant=${other.slug}`)).rejects.toThrow('HTTP 404');
    const plain = await t.app.inject({ method: 'GET', url: '/api/realtime', headers: bearer(readKey) });
    expect(plain.statusCode).toBe(426);
    expect(plain.json()).toMatchObject({ error: { code: 'upgrade_required' } });
  });

  it('refuses a tenant PostgreSQL cannot look up, or given twice, with 400 naming it, never a 500', async () => {
    // A browser's socket names its tenant in the URL: text no tenant can have, or two of them.
    for (const query of ['?tenant=a%00b', '?tenant=%00', `?tenant=${other.slug}&tenant=${other.slug}`]) {
      for (const headers of [bearer(readKey), bearer(t.adminToken)]) {
        const response = await t.app.inject({ method: 'GET', url: `/api/realtime${query}`, headers });
        expect(response.statusCode, `${query}: ${response.body}`).toBe(400);
        expect(response.json().error).toMatchObject({
          code: 'validation_failed',
          details: [{ path: 'query.tenant' }],
        });
      }
      await expect(follow(readKey, query)).rejects.toThrow('HTTP 400');
    }
  });

  it("says the feed's seq first, then streams the tenant's changes shaped as REST objects", async () => {
    const follower = await follow(readKey);
    await follower.waitFor((f) => f.frames.length >= 1);
    const hello = follower.frames[0]!;
    expect(hello.type).toBe('hello');
    expect(hello.seq).toBeGreaterThanOrEqual(0);

    expect((await message('live hello')).statusCode).toBe(200);
    await follower.waitFor((f) => f.changes().some((c) => c.type === 'conversation.updated'));
    const created = follower.changes().find((c) => c.type === 'message.created')!;
    expect(created.seq).toBeGreaterThan(hello.seq);
    expect(created.data).toMatchObject({ content: 'live hello', direction: 'IN', restaurantId: tenant.id });
    const seqs = follower.changes().map((c) => c.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs).toEqual(await tenantSeqs(tenant.id, hello.seq));
    await follower.close();
  });

  it("never shows a tenant another tenant's changes", async () => {
    const mine = await follow(readKey);
    const theirs = await follow(otherReadKey);
    await message('for a', ingestKey);
    await message('for b', otherIngestKey, 500);
    await mine.waitFor((f) => f.changes().some((c) => c.data.content === 'for a'));
    await theirs.waitFor((f) => f.changes().some((c) => c.data.content === 'for b'));
    expect(mine.changes().every((c) => c.data.restaurantId === tenant.id)).toBe(true);
    expect(theirs.changes().every((c) => c.data.restaurantId === other.id)).toBe(true);
    await mine.close();
    await theirs.close();
  });

  it('gives every client of the tenant a whole commit of changes, once each and in order', async () => {
    const followers = await Promise.all([follow(readKey), follow(readKey), follow(readKey)]);
    for (const follower of followers) await follower.waitFor((f) => f.frames.length >= 1);
    const from = Math.min(...followers.map((f) => f.frames[0]!.seq));
    const events = Array.from({ length: 40 }, (_, i) => ({
      event: 'message.created',
      data: {
        customer_identifier: { whatsapp_phone: `+96650${String(2_000_000 + i)}` },
        bot: { whatsapp_number: '+966110000001' },
        direction: 'IN',
        message_type: 'text',
        content: `together ${i}`,
      },
    }));
    const pushed = await t.app.inject({
      method: 'POST',
      url: '/api/sync/events',
      headers: bearer(ingestKey),
      payload: { events },
    });
    expect(pushed.statusCode).toBe(200);
    const committed = await tenantSeqs(tenant.id, from);
    for (const follower of followers) {
      await follower.waitFor((f) => f.changes().some((c) => c.data.content === 'together 39'));
      await follower.waitFor((f) => (f.changes().at(-1)?.seq ?? 0) >= committed.at(-1)!);
      expect(follower.changes().map((c) => c.seq)).toEqual(
        await tenantSeqs(tenant.id, follower.frames[0]!.seq),
      );
      await follower.close();
    }
  });

  it("with batch=true, sends a commit's changes as one array, and control frames as objects", async () => {
    const follower = await follow(readKey, '?batch=true');
    await follower.waitFor((f) => f.frames.length >= 1);
    expect(follower.frames[0]).toMatchObject({ type: 'hello' });
    expect(follower.batches).toEqual([]);
    const from = follower.frames[0]!.seq;
    const pushed = await t.app.inject({
      method: 'POST',
      url: '/api/sync/events',
      headers: bearer(ingestKey),
      payload: {
        events: Array.from({ length: 10 }, (_, i) => ({
          event: 'message.created',
          data: {
            customer_identifier: { whatsapp_phone: `+96650${String(3_000_000 + i)}` },
            bot: { whatsapp_number: '+966110000001' },
            direction: 'IN',
            message_type: 'text',
            content: `batched ${i}`,
          },
        })),
      },
    });
    expect(pushed.statusCode).toBe(200);
    const committed = await tenantSeqs(tenant.id, from);
    await follower.waitFor((f) => (f.changes().at(-1)?.seq ?? 0) >= committed.at(-1)!);
    expect(follower.batches).toEqual([committed]);
    const messages = follower.changes().filter((c) => c.type === 'message.created');
    expect(messages.map((c) => c.data.content)).toEqual(Array.from({ length: 10 }, (_, i) => `batched ${i}`));
    expect(messages[0]!.data).toMatchObject({ direction: 'IN', restaurantId: tenant.id });
    await follower.close();
  });

  it.each(FRAME_MODES)(
    'resumes with since: exactly the missed changes, in order, then live ones ($frames)',
    async ({ batch }) => {
      const first = await follow(readKey, batch ? '?batch=true' : '');
      await message('before the drop');
      await first.waitFor((f) => f.changes().some((c) => c.data.content === 'before the drop'));
      await first.waitFor((f) => f.changes().length >= 3);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const last = first.changes().at(-1)!.seq;
      await first.close();

      for (const n of [1, 2, 3, 4, 5]) expect((await message(`missed ${n}`)).statusCode).toBe(200);
      const missed = await tenantSeqs(tenant.id, last);
      const again = await follow(readKey, `?since=${last}${batch}`);
      await again.waitFor((f) => f.changes().length >= missed.length);
      // Batched, the replay is one page: one array.
      if (batch) expect(again.batches[0]).toEqual(missed);
      else expect(again.batches).toEqual([]);
      expect(again.changes().map((c) => c.seq)).toEqual(missed);
      expect(
        again
          .changes()
          .filter((c) => c.type === 'message.created')
          .map((c) => c.data.content),
      ).toEqual(['missed 1', 'missed 2', 'missed 3', 'missed 4', 'missed 5']);

      await message('after the resume');
      await again.waitFor((f) => f.changes().some((c) => c.data.content === 'after the resume'));
      expect(again.changes().map((c) => c.seq)).toEqual(await tenantSeqs(tenant.id, last));
      await again.close();
    },
  );

  it.each(FRAME_MODES)(
    'loses and repeats nothing while writers run and the client keeps reconnecting ($frames)',
    async ({ batch }) => {
      const start = (await tenantSeqs(tenant.id)).at(-1) ?? 0;
      let connections = 0;
      // However fast the server writes, the client reconnects several times while they run.
      const writers = Array.from({ length: 6 }, async (_, w) => {
        for (let i = 0; i < 15 || connections < 4; i++) {
          const response = await message(`writer ${w} #${i}`, ingestKey, w * 10);
          expect(response.statusCode).toBe(200);
        }
      });
      let writing = true;
      const done = Promise.all(writers).finally(() => {
        writing = false;
      });

      const received: number[] = [];
      let since = start;
      let batches = 0;
      while (
        writing ||
        received.length === 0 ||
        received.at(-1)! < ((await tenantSeqs(tenant.id)).at(-1) ?? 0)
      ) {
        const follower = await follow(readKey, `?since=${since}${batch}`);
        connections += 1;
        await new Promise((resolve) => setTimeout(resolve, 30 + Math.random() * 60));
        await follower.close();
        for (const change of follower.changes()) received.push(change.seq);
        batches += follower.batches.length;
        since = received.at(-1) ?? since;
        if (connections > 500) throw new Error('never caught up');
      }
      await done;
      expect(connections).toBeGreaterThanOrEqual(4);
      if (batch) expect(batches).toBeGreaterThan(0);
      expect(received).toEqual(await tenantSeqs(tenant.id, start));
    },
  );

  it('answers reset when since is older than the kept feed', async () => {
    await message('so that the feed is not empty');
    const oldest = (await tenantSeqs(tenant.id))[0]!;
    await t.db.query('DELETE FROM events WHERE seq <= $1', [oldest + 1]);
    const follower = await follow(readKey, '?since=0');
    await follower.waitFor((f) => f.frames.length >= 2);
    expect(follower.frames[1]).toMatchObject({ type: 'reset' });
    await message('after the reset');
    await follower.waitFor((f) => f.changes().some((c) => c.data.content === 'after the reset'));
    expect(follower.changes().every((c) => c.seq > follower.frames[1]!.seq)).toBe(true);
    await follower.close();
  });
});

describe('the feed tail', () => {
  it('follows the seq from notifications alone while no client listens, and skips nothing for a later one', async () => {
    let queries = 0;
    const counted = new Proxy(t.db, {
      get(target, property) {
        if (property === 'query')
          return (...args: Parameters<typeof target.query>) => {
            queries += 1;
            return target.query(...args);
          };
        const value = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    // No timed reads during the test: whatever the tail learns comes from notifications.
    const tail = frameFeedTail(counted, t.app.log, 3_600_000);
    await tail.start();
    try {
      const latest = async () =>
        (await t.db.query<{ seq: number }>('SELECT max(seq)::int AS seq FROM events')).rows[0]!.seq;
      const settle = async (seq: number) => {
        const deadline = Date.now() + 10_000;
        while (tail.lastSeq < seq && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 20));
      };
      await settle(await latest());
      const queriesBefore = queries;
      for (let i = 0; i < 3; i++) expect((await message(`unheard ${i}`)).statusCode).toBe(200);
      await settle(await latest());
      expect(tail.lastSeq).toBe(await latest());
      expect(queries).toBe(queriesBefore);

      // A listener from now on gets exactly the changes committed after it subscribed.
      const received: number[] = [];
      const unsubscribe = tail.subscribe(tenant.id, (run) => received.push(...run.events.map((e) => e.seq)));
      const from = tail.lastSeq;
      expect((await message('heard')).statusCode).toBe(200);
      await settle(await latest());
      const deadline = Date.now() + 10_000;
      while (received.length === 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      unsubscribe();
      expect(received).toEqual(await tenantSeqs(tenant.id, from));
    } finally {
      await tail.stop();
    }
  });
});

describe('a client that cannot keep up', () => {
  it('is closed with code 4001 once its backlog passes the limit, having received a gapless prefix', async () => {
    const since = (await tenantSeqs(tenant.id)).at(-1) ?? 0;
    const events = Array.from({ length: 300 }, (_, i) => ({
      event: 'customer.seen',
      data: { whatsapp_phone: `+9665${String(30_000_000 + i)}`, display_name: `Slow reader ${i}` },
    }));
    const pushed = await t.app.inject({
      method: 'POST',
      url: '/api/sync/events',
      headers: bearer(ingestKey),
      payload: { events },
    });
    expect(pushed.statusCode).toBe(200);

    // A socket pair of our own, so the test can hold the server side's network writes back
    // (cork), exactly as a client on a stalled network would: the backlog then builds for real.
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    const accepted = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
    const socket = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const follower = new Follower(socket);
    const serverSide = await accepted;
    const tcp = (serverSide as unknown as { _socket: Socket })._socket;
    tcp.cork();
    const tail = frameFeedTail(t.db, t.app.log, 1000);
    await tail.start();
    try {
      const client = new RealtimeClient(serverSide, tenant.id, tail, t.db, {
        maxBufferedBytes: 16 * 1024,
        batch: false,
      });
      const started = client.start(since);
      await new Promise((resolve) => setTimeout(resolve, 200));
      tcp.uncork();
      await started;
      expect((await follower.closed).code).toBe(4001);
      const seqs = follower.changes().map((c) => c.seq);
      expect(seqs.length).toBeGreaterThan(0);
      const missed = await tenantSeqs(tenant.id, since);
      expect(seqs.length).toBeLessThan(missed.length);
      // Resuming from its last seq loses nothing: what it got is the start of what it missed.
      expect(seqs).toEqual(missed.slice(0, seqs.length));
    } finally {
      await tail.stop();
      server.close();
    }
  });
});

describe('realtime heartbeats', () => {
  let fast: TestApp;
  let url: string;
  let key: string;

  beforeAll(async () => {
    fast = await createTestApp({ REALTIME_HEARTBEAT_MS: '150' });
    key = (await fast.createKey((await fast.createTenant('beats')).id, ['read'])).token;
    url = await listen(fast.app);
  });
  afterAll(() => fast.close());

  it('sends heartbeats, and drops a client that stops answering pings', async () => {
    const answering = await follow(key, '', { url });
    const silent = await follow(key, '', { url, autoPong: false });
    await answering.waitFor((f) => f.frames.filter((frame) => frame.type === 'heartbeat').length >= 3);
    expect((await silent.closed).code).toBe(1006);
    expect(answering.socket.readyState).toBe(WebSocket.OPEN);
    await answering.close();
  });
});

describe.runIf(testSettings.db === 'postgres')('two server processes on one PostgreSQL', () => {
  it('streams a change ingested through one process to a client of the other', async () => {
    const secondDb = await t.openDb();
    const second = await buildApp({ config: t.config, db: secondDb });
    try {
      const secondUrl = await listen(second);
      const follower = await follow(readKey, '', { url: secondUrl });
      await follower.waitFor((f) => f.frames.length >= 1);
      const before = Date.now();
      await message('through process A');
      await follower.waitFor((f) => f.changes().some((c) => c.data.content === 'through process A'));
      // Promptly: by NOTIFY, not by the fallback poll.
      expect(Date.now() - before).toBeLessThan(t.config.realtime.pollMs);
      await follower.close();
    } finally {
      await second.close();
      await secondDb.close();
    }
  });
});
