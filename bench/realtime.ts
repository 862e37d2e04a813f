/**
 * Realtime: WebSocket clients spread over tenants follow the feed while events are ingested at
 * a steady rate. Latency runs from the ingest acknowledgement to each client's receipt; every
 * client must receive every change of its tenant exactly once. Also the server's memory per
 * connection, from its resident set before and after the clients connect, and where the
 * machine's CPU went meanwhile: on 2 cores the server, PostgreSQL and the clients share it.
 *
 * The clients run in child processes (realtime-clients.ts), so that parsing their frames does
 * not delay this process's timestamps of the acknowledgements.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  analyzeDatabase,
  createDatabase,
  fmt,
  percentile,
  provision,
  type ReportRow,
  SECONDS,
  say,
  send,
  sendEvents,
  startSyncdeck,
} from './lib.ts';
import type { ServerProcess } from '@syncdeck/server/testing';
import WebSocket from 'ws';

const CLIENTS = Number(process.env.BENCH_WS_CLIENTS ?? 1000);
/**
 * The clients are split over this many processes. Dashboards are browsers on machines of their
 * own; one process holding a thousand sockets measured its own backlog: while it parsed one
 * socket's frames the others' waited in the kernel, counted as the server's latency. Two
 * processes still did, with a frame per change (p99 136.5 ms against 47.5 ms with four, on
 * 2026-12-04): a burst of frames for 500 sockets waited for one process's event loop.
 */
const CLIENT_PROCESSES = Number(process.env.BENCH_WS_PROCESSES ?? 4);
const TENANTS = 10;
const EVENTS_PER_SECOND = Number(process.env.BENCH_WS_RATE ?? 2000);
const BATCH = 20;
/**
 * Requests waiting for their answer at most: past this the generator waits rather than piling
 * requests onto a server that has fallen behind (the rate reached then says so). 2,000 events/s
 * is 100 requests a second; with 1,000 clients each takes 110-190 ms, so 16 (the bound until
 * 2026-12-04) held the load to 1,866-1,941 events/s, and 64 lets it reach the rate asked.
 */
const MAX_IN_FLIGHT = Number(process.env.BENCH_WS_IN_FLIGHT ?? 64);

export interface ClientsSetup {
  wsUrl: string;
  tokens: string[];
  clients: number;
  /** Ask for `batch=true`: each read's changes in one frame, as the dashboard does. */
  batch: boolean;
}
/** One acknowledged request: tags `first` … `first + count - 1` of `tenant`, acknowledged `at`. */
interface Ack {
  tenant: number;
  first: number;
  count: number;
  at: number;
}
export interface ClientsRequest {
  acks: Ack[];
  lastTag: number;
}
export interface ClientsResult {
  /** Milliseconds from acknowledgement to receipt, one per delivery (advanced IPC keeps it binary). */
  latencies: Float64Array;
  /** Deliveries that arrived before this process had read the acknowledgement (counted as 0 ms). */
  beforeAck: number;
  missed: number;
  duplicates: number;
}

/** Milliseconds on the machine's monotonic clock, which the clients' process reads too. */
const now = () => Number(process.hrtime.bigint()) / 1e6;
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * The memory the server's JavaScript holds (heap and external buffers) after a full garbage
 * collection, asked through its inspector: the resident size also moves with garbage not yet
 * collected, and read 0 per connection in a run where the collector freed the warm-up's.
 */
async function liveBytes(server: ServerProcess): Promise<number> {
  const inspector = /Debugger listening on (ws:\/\/\S+)/.exec(server.output())?.[1];
  if (!inspector) throw new Error('the server was not started with --inspect');
  const socket = new WebSocket(inspector);
  await once(socket, 'open');
  let id = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<{ result?: { value?: string } }>((resolve, reject) => {
      const n = ++id;
      const onMessage = (data: WebSocket.RawData) => {
        const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: unknown };
        if (message.id !== n) return;
        socket.off('message', onMessage);
        if (message.error) reject(new Error(JSON.stringify(message.error)));
        else resolve(message.result as { result?: { value?: string } });
      };
      socket.on('message', onMessage);
      socket.send(JSON.stringify({ id: n, method, params }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    const evaluated = await call('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
    });
    const usage = JSON.parse(evaluated.result!.value!) as { heapUsed: number; external: number };
    return usage.heapUsed + usage.external;
  } finally {
    socket.close();
  }
}

/** CPU seconds (user + system) process `pid` has used, or 0 if it is gone. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (!stat) return 0;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** The PostgreSQL backends serving `database`, by their process titles. */
async function backendsOf(database: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const title = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (title.startsWith('postgres: ') && title.includes(` ${database} `)) pids.push(Number(entry));
  }
  return pids;
}

/** Busy and total CPU seconds of the whole machine (every core, everyone's work). */
async function machineSeconds(): Promise<{ busy: number; total: number }> {
  const ticks = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = ticks[3]! + ticks[4]!;
  return { busy: (total - idle) / CLOCK_TICKS_PER_SECOND, total: total / CLOCK_TICKS_PER_SECOND };
}

/** CPU seconds used by each part of the run so far. */
async function cpuUse(pids: { server: number; clients: number[] }, database: string) {
  let postgres = 0;
  for (const pid of await backendsOf(database)) postgres += await cpuSeconds(pid);
  const own = process.cpuUsage();
  return {
    server: await cpuSeconds(pids.server),
    postgres,
    clients: (await Promise.all(pids.clients.map(cpuSeconds))).reduce((a, b) => a + b, 0),
    generator: (own.user + own.system) / 1e6,
    machine: await machineSeconds(),
  };
}

function startClients(setup: ClientsSetup): Promise<ChildProcess> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'realtime-clients.ts');
  const child = fork(script, [JSON.stringify(setup)], {
    execArgv: ['--import', 'tsx'],
    serialization: 'advanced',
  });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`realtime clients exited with ${code}`)));
  });
}

const CUSTOMERS_PER_TENANT = 500;

/**
 * A customer's message to the one bot. The customers' phones are shared by every tenant (each
 * has its own customers with them); the clients time the messages whose content is `bench-N`.
 */
const messageEvent = (n: number, content: string) => ({
  event: 'message.created',
  data: {
    customer_identifier: { whatsapp_phone: `+9665${String(10_000_000 + (n % CUSTOMERS_PER_TENANT))}` },
    bot: { whatsapp_number: '+966110000001' },
    direction: 'IN',
    message_type: 'text',
    content,
  },
});

/**
 * Before any client connects: every tenant's customers and conversations once, then ANALYZE (what
 * autovacuum does in a deployment), so the measured run sees a running deployment, not empty tables.
 */
async function warmUp(url: string, tokens: string[], databaseUrl: string) {
  for (const token of tokens) {
    await sendEvents(
      `${url}/api/sync/events`,
      token,
      Array.from({ length: CUSTOMERS_PER_TENANT }, (_, n) => messageEvent(n, 'warm-up')),
    );
  }
  await analyzeDatabase(databaseUrl);
}

/** How clients take the changes: arrays (`batch=true`, as the dashboard asks) or a frame each. */
const MODES = [
  { batch: true, label: 'arrays' },
  { batch: false, label: 'a frame per change' },
] as const;

export async function runRealtimeBench(): Promise<ReportRow[]> {
  process.stdout.write(
    `Realtime: ${fmt(CLIENTS)} WebSocket clients (in ${CLIENT_PROCESSES} processes) over ${TENANTS} tenants, ${fmt(EVENTS_PER_SECOND)} events/s ingested in batches of ${BATCH}\n`,
  );
  const database = await createDatabase();
  const databaseName = new URL(database.url).pathname.slice(1);
  // The inspector (on a free local port) is how the memory per connection is measured.
  const server = await startSyncdeck({ DATABASE_URL: database.url }, ['--inspect=127.0.0.1:0']);
  try {
    const slugs = Array.from({ length: TENANTS }, (_, i) => `live-${i}`);
    const tokens = await provision(server, slugs, ['ingest', 'read']);
    await warmUp(server.url, tokens, database.url);
    const rows: ReportRow[] = [];
    for (const mode of MODES) {
      say(`clients taking ${mode.label}${mode.batch ? ' (batch=true, as the dashboard does)' : ''}:`);
      rows.push(...(await measure(server, tokens, databaseName, mode, rows.length === 0)));
    }
    return rows;
  } finally {
    await server.kill('SIGTERM');
    await database.drop();
  }
}

async function measure(
  server: ServerProcess,
  tokens: string[],
  databaseName: string,
  mode: (typeof MODES)[number],
  reportMemory: boolean,
): Promise<ReportRow[]> {
  let clients: ChildProcess[] = [];
  try {
    const pid = server.child.pid!;
    const before = await liveBytes(server);
    const wsUrl = server.url.replace(/^http/, 'ws');
    clients = await Promise.all(
      Array.from({ length: CLIENT_PROCESSES }, (_, k) =>
        startClients({
          wsUrl,
          tokens,
          clients: Math.floor(CLIENTS / CLIENT_PROCESSES) + (k < CLIENTS % CLIENT_PROCESSES ? 1 : 0),
          batch: mode.batch,
        }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const perConnection = ((await liveBytes(server)) - before) / CLIENTS;
    if (reportMemory) say(`server memory per connection: ${fmt(perConnection / 1024)} KiB`);
    let n = 0;
    let failed = 0;
    const acks: Ack[] = [];
    const requestTimes: number[] = [];
    const interval = (1000 * BATCH) / EVENTS_PER_SECOND;
    const inFlight = new Set<Promise<void>>();
    const agent = new http.Agent({ keepAlive: true });
    const pids = { server: pid, clients: clients.map((child) => child.pid!) };
    const cpuBefore = await cpuUse(pids, databaseName);
    const started = performance.now();
    while (performance.now() - started < SECONDS * 1000) {
      const tenant = Math.floor(n / BATCH) % TENANTS;
      const first = n + 1;
      const events = Array.from({ length: BATCH }, (_, i) => messageEvent(first + i, `bench-${first + i}`));
      n += BATCH;
      const sentAt = now();
      const request: Promise<void> = send(agent, `${server.url}/api/sync/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[tenant]}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      })
        .then(({ status }) => {
          const at = now();
          if (status !== 200) {
            failed += BATCH;
            return;
          }
          requestTimes.push(at - sentAt);
          acks.push({ tenant, first, count: BATCH, at });
        })
        .finally(() => inFlight.delete(request));
      inFlight.add(request);
      if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
      const due = started + (n / BATCH) * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    await Promise.all(inFlight);
    agent.destroy();
    const elapsed = (performance.now() - started) / 1000;
    // Let the last changes arrive, then count what every client missed.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const cpuAfter = await cpuUse(pids, databaseName);
    const request: ClientsRequest = { acks, lastTag: n };
    const results = await Promise.all(
      clients.map(
        (child) =>
          new Promise<ClientsResult>((resolve) => {
            child.once('message', ({ result }: { result: ClientsResult }) => resolve(result));
            child.send(request);
          }),
      ),
    );
    // Each exits by itself once it has answered.
    await Promise.all(
      clients.map(
        (child) => child.exitCode === null && new Promise((resolve) => child.once('exit', resolve)),
      ),
    );
    const latencies = new Float64Array(results.reduce((sum, result) => sum + result.latencies.length, 0));
    let filled = 0;
    for (const result of results) {
      latencies.set(result.latencies, filled);
      filled += result.latencies.length;
    }
    latencies.sort();
    const deliveries = latencies.length;
    const p50 = percentile(latencies, 0.5);
    const p99 = percentile(latencies, 0.99);
    const max = latencies.at(-1) ?? Number.NaN;
    const beforeAck = results.reduce((sum, result) => sum + result.beforeAck, 0);
    const missed = results.reduce((sum, result) => sum + result.missed, 0);
    const duplicates = results.reduce((sum, result) => sum + result.duplicates, 0);
    const ingested = (n - failed) / elapsed;
    requestTimes.sort((a, b) => a - b);
    say(
      `ingested ${fmt(ingested)} events/s (requests: p50 ${percentile(requestTimes, 0.5).toFixed(1)} ms, p99 ${percentile(requestTimes, 0.99).toFixed(1)} ms, ${failed / BATCH} failed)`,
    );
    say(
      `${fmt(deliveries)} deliveries, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(0)} ms (${fmt(beforeAck)} arrived before the acknowledgement was read); missed ${missed}, duplicated ${duplicates}`,
    );
    // Over the ingest run and the 3 s after it, in cores (CPU seconds per second).
    const span = elapsed + 3;
    const cores = (key: 'server' | 'postgres' | 'clients' | 'generator') =>
      ((cpuAfter[key] - cpuBefore[key]) / span).toFixed(2);
    const machineBusy = (cpuAfter.machine.busy - cpuBefore.machine.busy) / span;
    say(
      `CPU in cores: server ${cores('server')}, its PostgreSQL backends ${cores('postgres')}, clients ${cores('clients')}, generator ${cores('generator')}; whole machine busy ${machineBusy.toFixed(2)} of ${((cpuAfter.machine.total - cpuBefore.machine.total) / span).toFixed(2)}`,
    );
    const suffix = ` (${mode.label})`;
    const rows: ReportRow[] = [
      {
        figure: `realtime latency p50 ms${suffix}`,
        measured: p50.toFixed(1),
        against: 'target 10 ms',
        ratio: p50 / 10,
        target: '< 1×',
        met: p50 < 10,
      },
      {
        figure: `realtime latency p99 ms${suffix}`,
        measured: p99.toFixed(1),
        against: 'target 100 ms',
        ratio: p99 / 100,
        target: '< 1×',
        met: p99 < 100,
      },
      {
        figure: `realtime ingested events/s${suffix}`,
        measured: fmt(ingested),
        against: `target ${fmt(EVENTS_PER_SECOND)}`,
        ratio: ingested / EVENTS_PER_SECOND,
        target: '≥ 0.95×',
        met: ingested >= 0.95 * EVENTS_PER_SECOND,
      },
      {
        figure: `realtime missed + duplicated${suffix}`,
        measured: `${missed} + ${duplicates}`,
        against: `${fmt(deliveries)} deliveries`,
        ratio: missed + duplicates,
        target: '0',
        met: missed + duplicates === 0,
      },
    ];
    if (reportMemory) {
      rows.push({
        figure: 'realtime server KiB per connection',
        measured: fmt(perConnection / 1024),
        against: 'informational',
        ratio: perConnection / 1024 / 100,
        target: '(per 100 KiB)',
        met: true,
      });
    }
    return rows;
  } finally {
    for (const child of clients) child.kill();
  }
}
