/**
 * Realtime: WebSocket clients spread over tenants follow the feed while events are ingested at
 * a steady rate. Latency runs from the ingest acknowledgement to each client's receipt; every
 * client must receive every change of its tenant exactly once. Also the server's memory per
 * connection, from its resident set before and after the clients connect.
 */
import { readFile } from 'node:fs/promises';
import WebSocket from 'ws';
import { startServerProcess } from '../packages/server/src/testing/process.ts';
import { createDatabase, fmt, percentile, provision, type ReportRow, SECONDS, say } from './lib.ts';

const CLIENTS = Number(process.env.BENCH_WS_CLIENTS ?? 1000);
const TENANTS = 10;
const EVENTS_PER_SECOND = Number(process.env.BENCH_WS_RATE ?? 2000);
const BATCH = 20;

async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

export async function runRealtimeBench(): Promise<ReportRow[]> {
  process.stdout.write(
    `Realtime: ${fmt(CLIENTS)} WebSocket clients over ${TENANTS} tenants, ${fmt(EVENTS_PER_SECOND)} events/s ingested\n`,
  );
  const database = await createDatabase();
  const server = await startServerProcess({ DATABASE_URL: database.url, LOG_LEVEL: 'warn' });
  const sockets: WebSocket[] = [];
  try {
    const slugs = Array.from({ length: TENANTS }, (_, i) => `live-${i}`);
    const tokens = await provision(server, slugs, ['ingest', 'read']);
    const pid = server.child.pid!;
    const before = await residentBytes(pid);

    const ackAt = new Map<string, number>();
    const receivedAt = new Map<string, number[]>();
    const latencies: number[] = [];
    let duplicates = 0;
    const seenBy: Set<string>[] = [];
    const wsUrl = server.url.replace(/^http/, 'ws');
    await Promise.all(
      Array.from({ length: CLIENTS }, (_, c) => {
        const tenant = c % TENANTS;
        const socket = new WebSocket(`${wsUrl}/api/realtime`, {
          headers: { authorization: `Bearer ${tokens[tenant]}` },
        });
        sockets.push(socket);
        const seen = new Set<string>();
        seenBy.push(seen);
        socket.on('message', (data) => {
          const text = data.toString();
          // Only the messages carry the tag; the other changes are counted by seq elsewhere.
          const tag = /"content":"(bench-\d+)"/.exec(text)?.[1];
          if (!tag || !text.includes('"type":"message.created"')) return;
          if (seen.has(tag)) duplicates += 1;
          seen.add(tag);
          const now = performance.now();
          const acked = ackAt.get(tag);
          if (acked === undefined) receivedAt.set(tag, [...(receivedAt.get(tag) ?? []), now]);
          else latencies.push(Math.max(0, now - acked));
        });
        return new Promise<void>((resolve, reject) => {
          socket.once('open', () => resolve());
          socket.once('error', reject);
        });
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const perConnection = ((await residentBytes(pid)) - before) / CLIENTS;
    say(`server memory per connection: ${fmt(perConnection / 1024)} KiB`);

    let n = 0;
    let failed = 0;
    const sentTags: string[][] = Array.from({ length: TENANTS }, () => []);
    const interval = (1000 * BATCH) / EVENTS_PER_SECOND;
    const inFlight: Promise<void>[] = [];
    const started = performance.now();
    while (performance.now() - started < SECONDS * 1000) {
      const tenant = Math.floor(n / BATCH) % TENANTS;
      const tags = Array.from({ length: BATCH }, () => `bench-${++n}`);
      const events = tags.map((tag, i) => ({
        event: 'message.created',
        data: {
          customer_identifier: { whatsapp_phone: `+9665${String(10_000_000 + ((n + i) % 500))}` },
          bot: { whatsapp_number: '+966110000001' },
          direction: 'IN',
          message_type: 'text',
          content: tag,
        },
      }));
      inFlight.push(
        fetch(`${server.url}/api/sync/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tokens[tenant]}`, 'content-type': 'application/json' },
          body: JSON.stringify({ events }),
        }).then(async (response) => {
          const now = performance.now();
          if (response.status !== 200) {
            failed += BATCH;
            return;
          }
          await response.arrayBuffer();
          for (const tag of tags) {
            ackAt.set(tag, now);
            for (const at of receivedAt.get(tag) ?? []) latencies.push(Math.max(0, at - now));
            receivedAt.delete(tag);
          }
          sentTags[tenant]!.push(...tags);
        }),
      );
      const due = started + (n / BATCH) * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    await Promise.all(inFlight);
    const elapsed = (performance.now() - started) / 1000;
    // Let the last changes arrive, then count what every client missed.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    let missed = 0;
    for (const [c, seen] of seenBy.entries()) {
      for (const tag of sentTags[c % TENANTS]!) if (!seen.has(tag)) missed += 1;
    }
    latencies.sort((a, b) => a - b);
    const p50 = percentile(latencies, 0.5);
    const p99 = percentile(latencies, 0.99);
    say(
      `ingested ${fmt((n - failed) / elapsed)} events/s; ${fmt(latencies.length)} deliveries, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms; missed ${missed}, duplicated ${duplicates}`,
    );
    return [
      {
        figure: 'realtime latency p50 ms',
        measured: p50.toFixed(1),
        against: 'target 10 ms',
        ratio: p50 / 10,
        target: '< 1×',
        met: p50 < 10,
      },
      {
        figure: 'realtime latency p99 ms',
        measured: p99.toFixed(1),
        against: 'target 100 ms',
        ratio: p99 / 100,
        target: '< 1×',
        met: p99 < 100,
      },
      {
        figure: 'realtime ingested events/s',
        measured: fmt((n - failed) / elapsed),
        against: `target ${fmt(EVENTS_PER_SECOND)}`,
        ratio: (n - failed) / elapsed / EVENTS_PER_SECOND,
        target: '≥ 0.95×',
        met: (n - failed) / elapsed >= 0.95 * EVENTS_PER_SECOND,
      },
      {
        figure: 'realtime missed + duplicated',
        measured: `${missed} + ${duplicates}`,
        against: `${fmt(latencies.length)} deliveries`,
        ratio: missed + duplicates,
        target: '0',
        met: missed + duplicates === 0,
      },
      {
        figure: 'realtime server KiB per connection',
        measured: fmt(perConnection / 1024),
        against: 'informational',
        ratio: perConnection / 1024 / 100,
        target: '(per 100 KiB)',
        met: true,
      },
    ];
  } finally {
    for (const socket of sockets) socket.terminate();
    await server.kill('SIGTERM');
    await database.drop();
  }
}
