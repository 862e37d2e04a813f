import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TwilioClient } from '../channels/index.ts';
import { type Db, migrate } from '../db/index.ts';
import { insertTenant } from '../tenants/index.ts';
import { createTestDatabase, deferred, type TestDatabase } from '../testing/harness.ts';
import { FakeTwilio } from '../testing/providers/index.ts';
import { parseRetryAfter, retryDelayMs } from './backoff.ts';
import {
  type ClaimedDelivery,
  type DeliveryHandler,
  enqueueDelivery,
  getDelivery,
  listAttempts,
  listDeliveries,
  type OutboxOptions,
  OutboxWorker,
  requeueDelivery,
  type SendResult,
} from './index.ts';
import { claimDue, recordOutcome } from './store.ts';

let database: TestDatabase;
let db: Db;
let tenantId: string;
let otherTenantId: string;
let botId: string;
const workers: OutboxWorker[] = [];

// Short everything: the suite's budget is seconds, not minutes.
const FAST: Partial<OutboxOptions> = {
  pollIntervalMs: 25,
  leaseMs: 2_000,
  sendTimeoutMs: 1_000,
  backoff: { baseMs: 20, maxDelayMs: 200 },
};

function worker(handler: DeliveryHandler, options: Partial<OutboxOptions> = {}, on: Db = db): OutboxWorker {
  const created = new OutboxWorker(on, { options: { ...FAST, ...options }, random: () => 1 });
  created.register('twilio', handler);
  workers.push(created);
  return created;
}

async function waitFor<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const finished = (id: string) =>
  waitFor(async () => {
    const delivery = await getDelivery(db, tenantId, id);
    return delivery && (delivery.status === 'sent' || delivery.status === 'failed') ? delivery : undefined;
  });

const enqueue = (payload: unknown = { to: 'whatsapp:+15550001111', body: 'hi' }, extra = {}) =>
  enqueueDelivery(db, { tenantId, kind: 'twilio', botId, payload, ...extra });

const ms = (iso: string | null) => Date.parse(iso!);

beforeAll(async () => {
  database = await createTestDatabase();
  db = await database.open();
  await migrate(db);
  tenantId = (await insertTenant(db, { slug: 'outbox', name: 'Outbox' })).id;
  otherTenantId = (await insertTenant(db, { slug: 'other', name: 'Other' })).id;
  const bot = await db.query<{ id: string }>(
    `INSERT INTO bots (tenant_id, channel, address, name) VALUES ($1, 'whatsapp', '+15550009999', 'Bot') RETURNING id`,
    [tenantId],
  );
  botId = bot.rows[0]!.id;
});

afterAll(async () => {
  await db.close();
  await database.drop();
});

beforeEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await db.query('DELETE FROM outbox_deliveries');
});

describe('retry schedule', () => {
  it('doubles from the base with full jitter, capped, and never sooner than Retry-After', () => {
    const top = () => 0.999999;
    const schedule = [1, 2, 3, 4, 12].map((n) =>
      retryDelayMs(n, { baseMs: 1_000, maxDelayMs: 600_000 }, undefined, top),
    );
    expect(schedule).toEqual([999, 1999, 3999, 7999, 599_999]);
    expect(retryDelayMs(1, { baseMs: 1_000, maxDelayMs: 600_000 }, undefined, () => 0)).toBe(0);
    expect(retryDelayMs(1, { baseMs: 1_000, maxDelayMs: 600_000 }, 5_000, top)).toBe(5_000);
    expect(parseRetryAfter('7')).toBe(7_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('2015-10-21T07:27:00Z'))).toBe(60_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('OutboxWorker', () => {
  it('sends what a committed transaction queued, woken by its COMMIT rather than the poll', async () => {
    const sent: ClaimedDelivery[] = [];
    await worker(
      async (d) => {
        sent.push(d);
        return { ok: true, providerId: `SM${d.attempt}` };
      },
      {
        pollIntervalMs: 60_000,
      },
    ).start();
    await expect(
      db.transaction(async (tx) => {
        await enqueueDelivery(tx, { tenantId, kind: 'twilio', payload: { n: 0 } });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    const started = Date.now();
    const { id } = await db.transaction((tx) =>
      enqueueDelivery(tx, { tenantId, kind: 'twilio', payload: { n: 1 } }),
    );
    const delivery = await finished(id);
    // Far inside the minute-long poll: the NOTIFY at COMMIT woke it.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(delivery).toMatchObject({ status: 'sent', providerId: 'SM1', attempts: 1, lastError: null });
    expect(sent.map((d) => d.payload)).toEqual([{ n: 1 }]);
  });

  it('retries transient failures with exponential backoff, then records the success', async () => {
    const results: SendResult[] = [
      { ok: false, permanent: false, code: 'network_error', reason: 'ECONNRESET' },
      { ok: false, permanent: false, code: '500', reason: 'Internal error', httpStatus: 500, response: '{}' },
      { ok: true, providerId: 'SM42', httpStatus: 201 },
    ];
    await worker(async () => results.shift()!).start();
    const { id } = await enqueue();
    expect(await finished(id)).toMatchObject({ status: 'sent', attempts: 3, providerId: 'SM42' });
    const attempts = await listAttempts(db, tenantId, id);
    expect(attempts.map((a) => [a.outcome, a.code, a.httpStatus])).toEqual([
      ['retry', 'network_error', null],
      ['retry', '500', 500],
      ['sent', null, 201],
    ]);
    // random() = 1 takes the top of each jitter range: 20 ms, then 40 ms.
    expect(ms(attempts[1]!.startedAt) - ms(attempts[0]!.finishedAt)).toBeGreaterThanOrEqual(19);
    expect(ms(attempts[2]!.startedAt) - ms(attempts[1]!.finishedAt)).toBeGreaterThanOrEqual(39);
  });

  it('fails a permanent failure at once, with the provider code and reason', async () => {
    let calls = 0;
    await worker(async () => {
      calls++;
      return {
        ok: false,
        permanent: true,
        code: '21211',
        reason: "The 'To' number is not a valid phone number",
      };
    }).start();
    const { id } = await enqueue();
    const delivery = await finished(id);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 1, lastCode: '21211', nextAttemptAt: null });
    expect(delivery.lastError).toMatch(/not a valid phone number/);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(calls).toBe(1);
  });

  it('waits as long as Retry-After says, even when the backoff is shorter', async () => {
    const results: SendResult[] = [
      { ok: false, permanent: false, code: '429', reason: 'Too Many Requests', retryAfterMs: 300 },
      { ok: true },
    ];
    await worker(async () => results.shift()!, { backoff: { baseMs: 1, maxDelayMs: 5 } }).start();
    const { id } = await enqueue();
    await finished(id);
    const [first, second] = await listAttempts(db, tenantId, id);
    expect(first!.retryAfterMs).toBe(300);
    expect(ms(second!.startedAt) - ms(first!.finishedAt)).toBeGreaterThanOrEqual(295);
  });

  it('gives up on transient failures once the delivery is older than its maximum age', async () => {
    await worker(async () => ({
      ok: false,
      permanent: false,
      code: '503',
      reason: 'Service Unavailable',
    })).start();
    const { id } = await enqueue(undefined, { maxAgeMs: 150 });
    const delivery = await finished(id);
    expect(delivery.status).toBe('failed');
    expect(delivery.lastCode).toBe('503');
    expect(delivery.lastError).toMatch(/^Gave up after \d+ attempts: Service Unavailable$/);
  });

  it('takes back a delivery whose worker crashed mid-send once the lease runs out', async () => {
    const { id } = await enqueue();
    // A worker that claimed it and died: the claim is never finished.
    const [lost] = await claimDue(db, { kinds: ['twilio'], limit: 10, leaseMs: 200, workerId: 'crashed' });
    expect(lost!.id).toBe(id);
    const sent: number[] = [];
    await worker(async (d) => {
      sent.push(d.attempt);
      return { ok: true };
    }).start();
    expect((await finished(id)).status).toBe('sent');
    expect(sent).toEqual([2]);
    const attempts = await listAttempts(db, tenantId, id);
    // Not before the lost claim's lease ran out.
    expect(ms(attempts[1]!.startedAt) - ms(attempts[0]!.startedAt)).toBeGreaterThanOrEqual(199);
    expect(attempts.map((a) => [a.claimedBy, a.outcome])).toEqual([
      ['crashed', null],
      [workers[0]!.workerId, 'sent'],
    ]);
    // The crashed worker coming back later records its attempt, but cannot touch the delivery.
    expect(await recordOutcome(db, lost!, { ok: false, permanent: true, reason: 'late' }, 0)).toBeNull();
    expect((await getDelivery(db, tenantId, id))!.status).toBe('sent');
  });

  it('shares the work between two workers without sending any delivery twice', async () => {
    const second = db.kind === 'postgres' ? await database.open() : db;
    try {
      const sends = new Map<string, number>();
      const handler: DeliveryHandler = async (d) => {
        sends.set(d.id, (sends.get(d.id) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
        return { ok: true };
      };
      const ids = await db.transaction(async (tx) => {
        const created: string[] = [];
        for (let n = 0; n < 30; n++)
          created.push((await enqueueDelivery(tx, { tenantId, kind: 'twilio', payload: { n } })).id);
        return created;
      });
      await Promise.all([
        worker(handler, { batchSize: 5, concurrency: 4 }).start(),
        worker(handler, { batchSize: 5, concurrency: 4 }, second).start(),
      ]);
      await waitFor(async () => {
        const left = await db.query("SELECT 1 FROM outbox_deliveries WHERE status <> 'sent'");
        return left.rowCount === 0;
      });
      expect([...sends.keys()].sort()).toEqual([...ids].sort());
      expect([...sends.values()].every((count) => count === 1)).toBe(true);
    } finally {
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      if (second !== db) await second.close();
    }
  });

  it('after a restart, a new worker delivers everything still queued', async () => {
    const first = worker(async () => ({ ok: true }));
    await first.start();
    await first.stop();
    const ids = await Promise.all(Array.from({ length: 15 }, (_, n) => enqueue({ n }).then((d) => d.id)));
    const sent = new Set<string>();
    await worker(
      async (d) => {
        sent.add(d.id);
        return { ok: true };
      },
      { pollIntervalMs: 60_000 },
    ).start();
    await waitFor(async () => sent.size === ids.length);
    for (const id of ids) expect((await finished(id)).status).toBe('sent');
  });

  it('stop waits for the sends under way, and their outcomes are recorded', async () => {
    const release = deferred();
    const entered = deferred();
    const running = worker(async () => {
      entered.resolve();
      await release.promise;
      return { ok: true, providerId: 'late' };
    });
    await running.start();
    const { id } = await enqueue();
    await entered.promise;
    let stopped = false;
    const stopping = running.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(stopped).toBe(false);
    release.resolve();
    await stopping;
    expect((await getDelivery(db, tenantId, id))!.providerId).toBe('late');
  });

  it('runs the outcome hook in the recording transaction', async () => {
    const seen: string[] = [];
    const hooked = new OutboxWorker(db, {
      options: FAST,
      onOutcome: async (tx, delivery, outcome) => {
        const row = await tx.query<{ status: string }>('SELECT status FROM outbox_deliveries WHERE id = $1', [
          delivery.id,
        ]);
        seen.push(`${outcome.status}/${row.rows[0]!.status}`);
      },
    }).register('twilio', async () => ({ ok: true }));
    workers.push(hooked);
    await hooked.start();
    await finished((await enqueue()).id);
    expect(seen).toEqual(['sent/sent']);
  });
});

describe('delivery log and send again', () => {
  it("lists a bot's deliveries newest first, page by page, and sends a failed one again", async () => {
    let fail = true;
    await worker(async () =>
      fail
        ? { ok: false, permanent: true, code: '63016', reason: 'Outside the 24-hour window' }
        : { ok: true },
    ).start();
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) ids.push((await enqueue({ n })).id);
    for (const id of ids) await finished(id);

    const first = await listDeliveries(db, tenantId, { botId, limit: 2 });
    expect(first.data.map((d) => d.id)).toEqual([ids[2], ids[1]]);
    const rest = await listDeliveries(db, tenantId, { botId, limit: 2, cursor: first.nextCursor! });
    expect(rest.data.map((d) => d.id)).toEqual([ids[0]]);
    expect(rest.nextCursor).toBeNull();
    expect((await listDeliveries(db, otherTenantId, { limit: 10 })).data).toEqual([]);

    fail = false;
    expect((await requeueDelivery(db, tenantId, ids[0]!)).status).toBe('queued');
    const again = await finished(ids[0]!);
    expect(again).toMatchObject({ status: 'sent', attempts: 2 });
    expect((await listAttempts(db, tenantId, ids[0]!)).map((a) => a.outcome)).toEqual(['failed', 'sent']);

    await expect(requeueDelivery(db, tenantId, ids[0]!)).rejects.toMatchObject({ code: 'conflict' });
    await expect(requeueDelivery(db, otherTenantId, ids[1]!)).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('through the Twilio client to the stand-in', () => {
  it('rides out a 429 and a dropped connection, then records the message SID', async () => {
    const account = { accountSid: `AC${'2'.repeat(32)}`, authToken: 'token-2' };
    const twilio = await FakeTwilio.start([account]);
    try {
      const client = new TwilioClient({ baseUrl: twilio.url, timeoutMs: 1_000 });
      await worker((d, signal) => {
        const { to, body } = d.payload as { to: string; body: string };
        return client.sendMessage({ ...account, from: 'whatsapp:+15550009999', to, body }, signal);
      }).start();
      twilio.fail({ kind: 'rate-limited', retryAfterSeconds: 0 }, { kind: 'drop' });
      const { id } = await enqueue();
      const delivery = await finished(id);
      expect(delivery).toMatchObject({ status: 'sent', attempts: 3, providerId: twilio.messages[0]!.sid });
      expect((await listAttempts(db, tenantId, id)).map((a) => [a.outcome, a.code, a.httpStatus])).toEqual([
        ['retry', '20429', 429],
        ['retry', expect.any(String), null],
        ['sent', null, 201],
      ]);
      const invalid = await enqueue({ to: 'whatsapp:12', body: 'hi' });
      expect(await finished(invalid.id)).toMatchObject({ status: 'failed', attempts: 1, lastCode: '21211' });
    } finally {
      await twilio.close();
    }
  });
});
