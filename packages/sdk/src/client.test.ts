import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSyncClient, mapSyrveStatus, type SyncClient, SyncdeckError, uuidv7 } from '@syncdeck/sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  acceptAll,
  closedPort,
  eventsOf,
  type FakeServer,
  recordingLogger,
  startFakeServer,
} from './testing/fake-server.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const KEY = 'sdk_live_test';
const order = {
  customer_identifier: { whatsapp_phone: '+966501234567' },
  syrve_order_id: 'A-1',
  items: [{ name: 'Shawarma', amount: 2, price: 18 }],
  total: 36,
};

let server: FakeServer;
let client: SyncClient | null = null;
const clients: SyncClient[] = [];

function make(options: Parameters<typeof createSyncClient>[0]) {
  client = createSyncClient({ logger: {}, retryBaseMs: 20, retryMaxMs: 200, ...options });
  clients.push(client);
  return client;
}

/** Runs `fn` and returns how long the synchronous part took. */
function timed(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

beforeEach(async () => {
  server = await startFakeServer();
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close({ timeoutMs: 100 });
  client = null;
  await server.close();
});

describe('sync client: requests', () => {
  it("sends the seed's request: URL, bearer key, JSON body with an event_id and occurred_at", async () => {
    const sync = make({ url: server.url, apiKey: KEY });
    const outcome = await sync.customerSeen({
      display_name: 'Sara',
      whatsapp_phone: '+966501234567',
      primary_channel: 'whatsapp',
    });
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request!.method).toBe('POST');
    expect(request!.url).toBe('/functions/v1/sync');
    expect(request!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request!.headers['content-type']).toBe('application/json');
    const body = JSON.parse(request!.body);
    expect(body).toEqual({
      event: 'customer.seen',
      data: { display_name: 'Sara', whatsapp_phone: '+966501234567', primary_channel: 'whatsapp' },
      event_id: expect.stringMatching(UUID_V7),
      occurred_at: expect.any(String),
    });
    expect(Math.abs(Date.parse(body.occurred_at) - Date.now())).toBeLessThan(5000);
    expect(outcome).toEqual({ status: 'delivered', eventId: body.event_id, duplicate: false });
    expect(sync.stats()).toMatchObject({ delivered: 1, queued: 0, inFlight: 0 });
  });

  it('keeps a full ingest URL as given and sends X-Restaurant-Id for a tenant', async () => {
    const sync = make({ url: `${server.url}/api/sync/events`, apiKey: KEY, tenant: 'sufrah' });
    await sync.orderStatus({ syrve_order_id: 'A-1', status: 'cooking' }, { eventId: 'mine-1' });
    expect(server.requests[0]!.url).toBe('/api/sync/events');
    expect(server.requests[0]!.headers['x-restaurant-id']).toBe('sufrah');
    expect(JSON.parse(server.requests[0]!.body).event_id).toBe('mine-1');
  });

  it('sends the calls of one turn as batches of at most batchSize, in order', async () => {
    const sync = make({ url: server.url, apiKey: KEY, batchSize: 3 });
    const outcomes = Array.from({ length: 7 }, (_, i) =>
      sync.orderStatus({ syrve_order_id: `A-${i}`, status: 'confirmed' }),
    );
    await Promise.all(outcomes);
    expect(server.requests.map((r) => eventsOf(r).length)).toEqual([3, 3, 1]);
    expect(JSON.parse(server.requests[0]!.body).events).toHaveLength(3);
    const ids = server.requests.flatMap(eventsOf).map((e) => e.data.syrve_order_id);
    expect(ids).toEqual(['A-0', 'A-1', 'A-2', 'A-3', 'A-4', 'A-5', 'A-6']);
    const eventIds = server.requests.flatMap(eventsOf).map((e) => e.event_id);
    expect([...eventIds].sort()).toEqual(eventIds); // UUIDv7: creation order
  });

  it('has a typed method for every event, each sending its own name', async () => {
    const sync = make({ url: server.url, apiKey: KEY });
    const customer_identifier = { telegram_chat_id: 42 };
    const bot = { telegram_bot_id: 7 };
    await Promise.all([
      sync.customerSeen({ telegram_chat_id: 42 }),
      sync.orderCreated(order),
      sync.orderStatus({ syrve_order_id: 'A-1', status: 'delivered' }),
      sync.escalationCreated({ customer_identifier, reason: 'asks for a human' }),
      sync.escalationResolved({ customer_identifier, resolution_summary: 'done' }),
      // An operator's answer sent through the bot: typed `sender`, sent as given.
      sync.messageCreated({
        customer_identifier,
        bot,
        direction: 'OUT',
        content: 'hi',
        sender: { type: 'agent', name: 'Sara' },
      }),
      sync.conversationClosed({ customer_identifier, bot }),
      sync.send('order.status', { syrve_order_id: 'A-1', status: 'cancelled' }),
    ]);
    expect(server.requests.flatMap(eventsOf).map((e) => e.event)).toEqual([
      'customer.seen',
      'order.created',
      'order.status',
      'escalation.created',
      'escalation.resolved',
      'message.created',
      'conversation.closed',
      'order.status',
    ]);
    const message = server.requests.flatMap(eventsOf).find((e) => e.event === 'message.created');
    expect(message?.data).toMatchObject({ direction: 'OUT', sender: { type: 'agent', name: 'Sara' } });
  });

  it('is a no-op without url or key, like the seed', async () => {
    for (const options of [{}, { url: server.url }, { apiKey: KEY }, { url: '', apiKey: KEY }]) {
      const sync = make(options);
      expect(sync.enabled).toBe(false);
      expect(await sync.orderCreated(order)).toEqual({ status: 'skipped', reason: 'disabled' });
      expect(await sync.flush()).toBe(true);
    }
    expect(server.requests).toHaveLength(0);
  });
});

describe('sync client: resilience', () => {
  it('runs on with an invalid URL: every call returns at once and never throws', async () => {
    const { lines, logger } = recordingLogger();
    const sync = createSyncClient({ url: 'not a url', apiKey: KEY, logger });
    clients.push(sync);
    expect(sync.enabled).toBe(false);
    expect(lines.some((line) => line.level === 'error' && /not an http/.test(line.message))).toBe(true);
    let outcome: Promise<unknown> | undefined;
    expect(timed(() => (outcome = sync.orderCreated(order)))).toBeLessThan(50);
    expect(await outcome).toMatchObject({ status: 'failed', error: { code: 'invalid_config' } });
  });

  it('never throws on data that cannot be JSON, and a broken logger cannot break it', async () => {
    const circular: Record<string, unknown> = { telegram_chat_id: 1 };
    circular.self = circular;
    const sync = createSyncClient({
      url: server.url,
      apiKey: KEY,
      logger: {
        warn: () => {
          throw new Error('logger down');
        },
      },
    });
    clients.push(sync);
    // biome-ignore lint/suspicious/noExplicitAny: an untyped caller
    const outcome = await sync.send('customer.seen', circular as any);
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'invalid_event' } });
    expect((outcome as { error: unknown }).error).toBeInstanceOf(SyncdeckError);
    // biome-ignore lint/suspicious/noExplicitAny: an untyped caller
    expect(await sync.send('customer.seen', undefined as any)).toMatchObject({ status: 'delivered' });
  });

  it('keeps events while the server refuses connections and delivers them once it listens', async () => {
    const port = await closedPort();
    const { lines, logger } = recordingLogger();
    const sync = make({ url: `http://127.0.0.1:${port}`, apiKey: KEY, logger, timeoutMs: 500 });
    const outcomes: Promise<unknown>[] = [];
    for (let i = 0; i < 5; i++) {
      expect(
        timed(() => outcomes.push(sync.orderStatus({ syrve_order_id: `A-${i}`, status: 'cooking' }))),
      ).toBeLessThan(50);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stats = sync.stats();
    expect(stats.retries).toBeGreaterThan(0);
    expect(stats.lastError?.code).toBe('network');
    expect(stats.delivered).toBe(0);
    expect(lines.some((line) => line.level === 'warn' && line.fields.code === 'network')).toBe(true);

    const late = await startFakeServer(port);
    try {
      await Promise.all(outcomes);
      expect(late.requests.flatMap(eventsOf).map((e) => e.data.syrve_order_id)).toEqual([
        'A-0',
        'A-1',
        'A-2',
        'A-3',
        'A-4',
      ]);
      expect(sync.stats()).toMatchObject({ delivered: 5, consecutiveFailures: 0, queued: 0 });
    } finally {
      await sync.close({ timeoutMs: 100 });
      await late.close();
    }
  });

  it('gives up a hanging request at the timeout and delivers on the retry', async () => {
    let calls = 0;
    server.handle((request) => (++calls === 1 ? 'hang' : acceptAll(request)));
    const sync = make({ url: server.url, apiKey: KEY, timeoutMs: 300 });
    let outcome: Promise<unknown> | undefined;
    expect(timed(() => (outcome = sync.orderCreated(order)))).toBeLessThan(50);
    const started = Date.now();
    expect(await outcome).toMatchObject({ status: 'delivered' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(server.requests).toHaveLength(2);
    // The retry is the same event: the server can tell it apart from a new one.
    expect(eventsOf(server.requests[1]!)[0]!.event_id).toBe(eventsOf(server.requests[0]!)[0]!.event_id);
    expect(sync.stats()).toMatchObject({ retries: 1, delivered: 1, lastError: { code: 'timeout' } });
  });

  it('retries a 500 with exponential backoff', async () => {
    let calls = 0;
    server.handle((request) =>
      ++calls <= 3 ? { status: 500, body: { error: { message: 'boom' } } } : acceptAll(request),
    );
    const sync = make({ url: server.url, apiKey: KEY, retryBaseMs: 40, retryMaxMs: 10_000 });
    expect(await sync.orderCreated(order)).toMatchObject({ status: 'delivered' });
    expect(server.requests).toHaveLength(4);
    const gaps = server.requests.slice(1).map((r, i) => r.at - server.requests[i]!.at);
    // Jitter keeps each wait within [d/2, d) of d = 40, 80, 160 ms.
    expect(gaps[0]).toBeGreaterThanOrEqual(18);
    expect(gaps[2]).toBeGreaterThanOrEqual(78);
    expect(sync.stats()).toMatchObject({ retries: 3, lastError: { code: 'server_error' } });
  });

  it('honours Retry-After on a 429', async () => {
    let calls = 0;
    server.handle((request) =>
      ++calls === 1 ? { status: 429, headers: { 'retry-after': '1' }, body: {} } : acceptAll(request),
    );
    const sync = make({ url: server.url, apiKey: KEY, retryBaseMs: 10, retryMaxMs: 5000 });
    expect(await sync.orderCreated(order)).toMatchObject({ status: 'delivered' });
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('does not retry another 4xx: it reports it to the logger, the stats and the outcome', async () => {
    server.handle(() => ({
      status: 400,
      body: { error: { code: 'validation_failed', message: 'The event is not valid', details: [] } },
    }));
    const { lines, logger } = recordingLogger();
    const sync = make({ url: server.url, apiKey: KEY, logger });
    const outcome = await sync.orderCreated(order);
    expect(outcome).toMatchObject({ status: 'rejected', error: { code: 'invalid_event', status: 400 } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.requests).toHaveLength(1);
    expect(sync.stats()).toMatchObject({ rejected: 1, retries: 0 });
    expect(lines.some((line) => line.level === 'warn' && line.fields.status === 400)).toBe(true);
  });

  it("reports a batch's rejected events without retrying them; duplicates count as delivered", async () => {
    server.handle((request) => {
      const events = eventsOf(request);
      return {
        status: 200,
        body: {
          accepted: 1,
          duplicate: 1,
          rejected: 1,
          results: events.map((event, index) =>
            index === 1
              ? {
                  index,
                  status: 'rejected',
                  event_id: event.event_id,
                  error: { message: 'bad', details: [] },
                }
              : { index, status: index === 2 ? 'duplicate' : 'accepted', event_id: event.event_id },
          ),
        },
      };
    });
    const sync = make({ url: server.url, apiKey: KEY });
    const outcomes = await Promise.all([
      sync.orderStatus({ syrve_order_id: 'A', status: 'cooking' }),
      sync.orderStatus({ syrve_order_id: 'B', status: 'cooking' }),
      sync.orderStatus({ syrve_order_id: 'C', status: 'cooking' }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['delivered', 'rejected', 'delivered']);
    expect(outcomes[2]).toMatchObject({ duplicate: true });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.requests).toHaveLength(1);
    expect(sync.stats()).toMatchObject({ delivered: 2, duplicates: 1, rejected: 1, retries: 0 });
  });

  it('retries an event a batch answers rejected but retryable, as a 5xx', async () => {
    server.handle((request) => {
      const events = eventsOf(request);
      // Alone, an event the database refuses is a 500, as the real server answers it.
      if (!JSON.parse(request.body).events) {
        return events[0]!.data.syrve_order_id === 'stuck' ? { status: 500, body: {} } : acceptAll(request);
      }
      return {
        status: 200,
        body: {
          results: events.map((event, index) =>
            event.data.syrve_order_id === 'stuck'
              ? {
                  index,
                  status: 'rejected',
                  event_id: event.event_id,
                  error: { message: 'The event could not be stored; retry it', details: [], retryable: true },
                }
              : { index, status: 'accepted', event_id: event.event_id },
          ),
        },
      };
    });
    const sync = make({ url: server.url, apiKey: KEY, maxAttempts: 3 });
    const [ok, stuck] = await Promise.all([
      sync.orderStatus({ syrve_order_id: 'fine', status: 'cooking' }),
      sync.orderStatus({ syrve_order_id: 'stuck', status: 'cooking' }),
    ]);
    expect(ok).toMatchObject({ status: 'delivered' });
    expect(stuck).toMatchObject({ status: 'failed', error: { code: 'gave_up' } });
    const sent = server.requests.flatMap(eventsOf).map((e) => e.data.syrve_order_id);
    expect(sent.filter((id) => id === 'fine')).toHaveLength(1);
    expect(sent.filter((id) => id === 'stuck')).toHaveLength(3);
    expect(sync.stats()).toMatchObject({ delivered: 1, failed: 1, rejected: 0 });
  });

  it('halves a batch the server finds too large', async () => {
    server.handle((request) =>
      eventsOf(request).length > 2 ? { status: 413, body: {} } : acceptAll(request),
    );
    const sync = make({ url: server.url, apiKey: KEY });
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, (_, i) => sync.orderStatus({ syrve_order_id: `A-${i}`, status: 'cooking' })),
    );
    expect(outcomes.every((o) => o.status === 'delivered')).toBe(true);
    expect(server.requests.map((r) => eventsOf(r).length)).toEqual([5, 2, 2, 1]);
  });

  it('gives up after maxAttempts when asked to', async () => {
    server.handle(() => ({ status: 503, body: {} }));
    const sync = make({ url: server.url, apiKey: KEY, maxAttempts: 2 });
    expect(await sync.orderCreated(order)).toMatchObject({ status: 'failed', error: { code: 'gave_up' } });
    expect(server.requests).toHaveLength(2);
    expect(sync.stats().failed).toBe(1);
  });
});

describe('sync client: queue', () => {
  it('drops the oldest customer.seen first when full, then the oldest event, and counts the drops', async () => {
    server.handle(() => ({ status: 503, headers: { 'retry-after': '30' }, body: {} }));
    const sync = make({ url: server.url, apiKey: KEY, maxQueue: 4, retryMaxMs: 60_000, batchSize: 1 });
    const first = sync.orderStatus({ syrve_order_id: 'first', status: 'cooking' });
    await server.waitFor(1); // `first` is now in flight, then waits 30 s to retry
    await new Promise((resolve) => setTimeout(resolve, 50));
    const seenA = sync.customerSeen({ telegram_chat_id: 1 });
    const o1 = sync.orderStatus({ syrve_order_id: 'o1', status: 'cooking' });
    const seenB = sync.customerSeen({ telegram_chat_id: 2 });
    expect(sync.stats().queued).toBe(4);
    const o2 = sync.orderStatus({ syrve_order_id: 'o2', status: 'cooking' });
    expect(await seenA).toMatchObject({ status: 'dropped', error: { code: 'queue_full' } });
    const o3 = sync.orderStatus({ syrve_order_id: 'o3', status: 'cooking' });
    expect(await seenB).toMatchObject({ status: 'dropped' });
    sync.orderStatus({ syrve_order_id: 'o4', status: 'cooking' });
    // No customer.seen left: the oldest event goes.
    expect(await first).toMatchObject({ status: 'dropped' });
    expect(sync.stats()).toMatchObject({ dropped: 3, queued: 4 });
    void o1;
    void o2;
    void o3;
  });
});

describe('sync client: customer.seen debounce', () => {
  it('sends customer.seen once per chat per window, again when its data changes or the window passed', async () => {
    const sync = make({ url: server.url, apiKey: KEY, customerSeenDebounceMs: 300 });
    const sara = { whatsapp_phone: '+966501234567', display_name: 'Sara' };
    expect(await sync.customerSeen(sara)).toMatchObject({ status: 'delivered' });
    expect(await sync.customerSeen({ ...sara })).toEqual({ status: 'skipped', reason: 'debounced' });
    expect(await sync.customerSeen({ telegram_chat_id: 5 })).toMatchObject({ status: 'delivered' });
    expect(await sync.customerSeen({ ...sara, preferred_language: 'ar' })).toMatchObject({
      status: 'delivered',
    });
    expect(await sync.customerSeen({ ...sara, preferred_language: 'ar' })).toMatchObject({
      status: 'skipped',
    });
    // Other events are never debounced.
    await sync.orderCreated(order);
    expect(await sync.orderCreated(order)).toMatchObject({ status: 'delivered' });
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await sync.customerSeen({ ...sara, preferred_language: 'ar' })).toMatchObject({
      status: 'delivered',
    });
    expect(sync.stats().debounced).toBe(2);
    expect(server.requests.flatMap(eventsOf).filter((e) => e.event === 'customer.seen')).toHaveLength(4);
  });

  it('forgets chats past the window in its periodic sweep, and never remembers more than its bound', async () => {
    const sync = make({
      url: server.url,
      apiKey: KEY,
      customerSeenDebounceMs: 200,
      debounceSweepMs: 50,
      debounceMaxEntries: 3,
    });
    for (let chat = 1; chat <= 5; chat++) sync.customerSeen({ telegram_chat_id: chat });
    expect(sync.stats().debounceEntries).toBe(3);
    // Chat 1 was pushed out by the bound, so it is sent again; chat 5 is remembered.
    expect(await sync.customerSeen({ telegram_chat_id: 5 })).toMatchObject({ status: 'skipped' });
    expect(await sync.customerSeen({ telegram_chat_id: 1 })).toMatchObject({ status: 'delivered' });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(sync.stats().debounceEntries).toBe(0);
  });
});

describe('sync client: outbox file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'syncdeck-sdk-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps undelivered events in the file across a close and delivers them from a new client', async () => {
    const outboxPath = path.join(dir, 'outbox.jsonl');
    server.handle(() => ({ status: 503, body: {} }));
    const first = make({ url: server.url, apiKey: KEY, outboxPath });
    const pending = [
      first.orderStatus({ syrve_order_id: 'A', status: 'cooking' }),
      first.orderStatus({ syrve_order_id: 'B', status: 'delivering' }),
    ];
    await server.waitFor(1);
    expect((await readFile(outboxPath, 'utf8')).trim().split('\n')).toHaveLength(2);
    await first.close({ timeoutMs: 50 });
    expect((await Promise.all(pending)).map((o) => o.status)).toEqual(['pending', 'pending']);

    server.handle(acceptAll);
    server.requests.length = 0;
    const second = make({ url: server.url, apiKey: KEY, outboxPath });
    expect(second.stats().queued).toBe(2);
    // Sent on its own, without a new call or a flush.
    await server.waitFor(1);
    await expect.poll(() => second.stats().delivered).toBe(2);
    expect(server.requests.flatMap(eventsOf).map((e) => e.data.syrve_order_id)).toEqual(['A', 'B']);
    expect(second.stats().delivered).toBe(2);
    await second.close();
    // Nothing left to send: a third client finds an empty outbox.
    const third = make({ url: server.url, apiKey: KEY, outboxPath });
    expect(third.stats().queued).toBe(0);
    expect((await readFile(outboxPath, 'utf8')).trim()).toBe('');
  });

  it('skips a line torn by a crash and refuses a second process on the same file', async () => {
    const outboxPath = path.join(dir, 'outbox.jsonl');
    const event = { event: 'order.status', data: { syrve_order_id: 'X', status: 'cooking' }, event_id: 'e1' };
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      outboxPath,
      `${JSON.stringify({ add: { ...event, occurred_at: new Date().toISOString() } })}\n{"add":{"ev`,
    );
    await writeFile(`${outboxPath}.lock`, String(process.ppid)); // a live process holds it
    const { lines, logger } = recordingLogger();
    const blocked = make({ url: server.url, apiKey: KEY, outboxPath, logger });
    expect(blocked.stats().outboxPath).toBeNull();
    expect(lines.some((line) => line.level === 'error')).toBe(true);
    await blocked.close();

    await rm(`${outboxPath}.lock`);
    const sync = make({ url: server.url, apiKey: KEY, outboxPath });
    expect(await sync.flush()).toBe(true);
    expect(server.requests.flatMap(eventsOf).map((e) => e.event_id)).toEqual(['e1']);
  });
});

describe('helpers', () => {
  it("maps Syrve statuses with the seed's table", () => {
    expect(
      ['Confirmed', 'CookingStarted', 'OnWay', 'Delivered', 'Closed', 'Cancelled', 'Unknown', 'toString'].map(
        mapSyrveStatus,
      ),
    ).toEqual([
      'confirmed',
      'cooking',
      'delivering',
      'delivered',
      'delivered',
      'cancelled',
      'confirmed',
      'confirmed',
    ]);
  });

  it('makes UUIDv7 ids that sort in creation order, even within one millisecond', () => {
    // Later than any id made so far in this process, so the clock is not clamped to an earlier id's.
    const at = Date.now() + 3_600_000;
    const ids = Array.from({ length: 1000 }, () => uuidv7(at));
    expect(ids.every((id) => UUID_V7.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(1000);
    expect(ids[0]!.replaceAll('-', '').slice(0, 12)).toBe(at.toString(16).padStart(12, '0'));
  });
});
