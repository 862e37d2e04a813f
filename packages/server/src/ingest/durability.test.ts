import { describe, expect, it } from 'vitest';
import { spawnedServerPerTest } from '../testing/harness.ts';
import { adminKeyOf } from '../testing/process.ts';

const spawned = spawnedServerPerTest();

async function call(method: string, url: string, token: string, body?: unknown, tenant?: string) {
  const response = await fetch(spawned.server.url + url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(tenant ? { 'x-tenant-id': tenant } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('ingest durability', () => {
  it('keeps every acknowledged event when the server is killed with SIGKILL mid-stream', async () => {
    await spawned.start();
    const adminKey = adminKeyOf(spawned.server);
    expect((await call('POST', '/api/admin/tenants', adminKey, { slug: 'durable' })).status).toBe(201);
    const key = await call('POST', '/api/admin/keys', adminKey, { scopes: ['ingest'] }, 'durable');
    const ingestKey = key.body.token as string;

    const acknowledged: string[] = [];
    let stop = false;
    const writer = async (worker: number) => {
      for (let i = 0; !stop; i++) {
        const waSid = `WA-${worker}-${i}`;
        try {
          const response = await call('POST', '/functions/v1/sync', ingestKey, {
            event: 'message.created',
            event_id: waSid,
            data: {
              customer_identifier: {
                whatsapp_phone: `+96650${String(1_000_000 + worker * 1000 + (i % 50)).slice(-7)}`,
              },
              bot: { whatsapp_number: '+966508034010' },
              direction: 'IN',
              content: `message ${i}`,
              wa_sid: waSid,
            },
          });
          if (response.status === 200) acknowledged.push(waSid);
        } catch {
          return; // the server died under this request: not acknowledged
        }
      }
    };
    const writers = [0, 1, 2, 3, 4, 5, 6, 7].map(writer);
    while (acknowledged.length < 150) await new Promise((resolve) => setTimeout(resolve, 5));
    await spawned.stop('SIGKILL');
    stop = true;
    await Promise.all(writers);

    // Restart once so recovery runs as in production, stop it, then read the database directly.
    await spawned.start();
    expect(await spawned.stop('SIGTERM')).toBe(0);
    const db = await spawned.database.open();
    try {
      const stored = await db.query<{ wa_sid: string }>('SELECT wa_sid FROM messages');
      const storedIds = new Set(stored.rows.map((row) => row.wa_sid));
      expect(acknowledged.filter((id) => !storedIds.has(id))).toEqual([]);
      // Every stored message has its feed entry, and the feed has no gap.
      const feed = await db.query<{ n: number; max: number }>(
        "SELECT count(*) FILTER (WHERE type = 'message.created')::int AS n, max(seq)::int AS max FROM events",
      );
      expect(feed.rows[0]!.n).toBe(stored.rows.length);
      const count = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
      expect(count.rows[0]!.n).toBe(feed.rows[0]!.max);
    } finally {
      await db.close();
    }
    // Two server start-ups and a stream of requests: slow on a busy 2-core machine.
  }, 90_000);
});
