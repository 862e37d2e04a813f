import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/index.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { prepareEvent } from './prepare.ts';
import { GroupCommitWriter } from './writer.ts';

let t: TestApp;
let tenants: string[];

beforeAll(async () => {
  t = await createTestApp();
  tenants = [(await t.createTenant('writer-a')).id, (await t.createTenant('writer-b')).id];
});
afterAll(() => t.close());

const message = (tenantId: string, content: string) =>
  prepareEvent(
    {
      event: 'message.created',
      data: {
        customer_identifier: { whatsapp_phone: '+966501110000' },
        bot: { whatsapp_number: '+966508880000' },
        direction: 'IN',
        message_type: 'text',
        content,
      },
    },
    tenantId,
    'SA',
    new Date(),
  );

/** The test database, counting the transactions run through it and how many ran at once. */
function countingTransactions(db: Db) {
  const counts = { started: 0, running: 0, mostAtOnce: 0 };
  const counted: Db = Object.create(db);
  counted.transaction = async (work) => {
    counts.started += 1;
    counts.running += 1;
    counts.mostAtOnce = Math.max(counts.mostAtOnce, counts.running);
    try {
      return await db.transaction(work);
    } finally {
      counts.running -= 1;
    }
  };
  return { db: counted, counts };
}

describe('GroupCommitWriter', () => {
  it("writes each tenant's events in the order they were handed over, over many transactions", async () => {
    const writer = new GroupCommitWriter(t.db, t.app.log, 7, 4);
    const before = (await t.db.query<{ seq: number }>('SELECT seq FROM feed_counter')).rows[0]!.seq;
    // Requests of both tenants, interleaved, none waiting for another: small batches (7) make
    // each tenant's events span many transactions.
    const written: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      for (const [n, tenantId] of tenants.entries())
        written.push(writer.write([message(tenantId, `${n}-${i}`)]));
    }
    const outcomes = (await Promise.all(written)).flat() as { status: string }[];
    expect(outcomes.every((outcome) => outcome.status === 'accepted')).toBe(true);
    await writer.flush();

    const feed = await t.db.query<{ seq: number; tenant_id: string; content: string }>(
      `SELECT seq, tenant_id, payload::json->>'content' AS content FROM events
       WHERE seq > $1 AND type = 'message.created' ORDER BY seq`,
      [before],
    );
    for (const [n, tenantId] of tenants.entries()) {
      const own = feed.rows.filter((row) => row.tenant_id === tenantId).map((row) => row.content);
      expect(own).toEqual(Array.from({ length: 60 }, (_, i) => `${n}-${i}`));
    }
    // The stored messages keep that order too (their conversation's count and last preview).
    const conversations = await t.db.query<{ message_count: number; last_message_preview: string }>(
      'SELECT message_count, last_message_preview FROM conversations WHERE tenant_id = ANY($1) ORDER BY tenant_id = $2 DESC',
      [tenants, tenants[0]],
    );
    expect(conversations.rows).toEqual([
      { message_count: 60, last_message_preview: '0-59' },
      { message_count: 60, last_message_preview: '1-59' },
    ]);
  });

  it('flushes only once everything handed over is committed', async () => {
    const writer = new GroupCommitWriter(t.db, t.app.log, 500, 2);
    const pending = Promise.all(tenants.map((tenantId) => writer.write([message(tenantId, 'flushed')])));
    await writer.flush();
    const stored = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM messages WHERE tenant_id = ANY($1) AND content = 'flushed'",
      [tenants],
    );
    expect(stored.rows[0]!.n).toBe(2);
    await pending;
  });

  /** Hands the writer `perTenant` one-event requests of each tenant at once; their outcomes' statuses. */
  async function writeAtOnce(writer: GroupCommitWriter, perTenant: number) {
    const written = tenants.flatMap((tenantId) =>
      Array.from({ length: perTenant }, (_, i) => writer.write([message(tenantId, `at once ${i}`)])),
    );
    return new Set((await Promise.all(written)).flat().map((outcome) => outcome.status));
  }

  it('puts a few waiting events in one transaction, whatever their tenants', async () => {
    const { db, counts } = countingTransactions(t.db);
    expect(await writeAtOnce(new GroupCommitWriter(db, t.app.log, 500, 4), 10)).toEqual(
      new Set(['accepted']),
    );
    expect(counts).toEqual({ started: 1, running: 0, mostAtOnce: 1 });
  });

  it('overlaps transactions of different tenants once full batches wait', async () => {
    const { db, counts } = countingTransactions(t.db);
    expect(await writeAtOnce(new GroupCommitWriter(db, t.app.log, 5, 4), 20)).toEqual(new Set(['accepted']));
    // 40 events in batches of 5; the two tenants' transactions run side by side.
    expect(counts.started).toBe(8);
    expect(counts.mostAtOnce).toBe(2);
  });
});
