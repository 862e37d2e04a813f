/** What every bench section shares: databases, servers, the load generator and the report. */
import { type ChildProcess, spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { adminKeyOf, type ServerProcess, startServerProcess } from '@syncdeck/server/testing';

export { adminKeyOf };

export const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
export const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const here = path.dirname(fileURLToPath(import.meta.url));

/** One line of the final table: a figure, what it is compared with, and whether the target is met. */
export interface ReportRow {
  figure: string;
  measured: string;
  against: string;
  ratio: number;
  target: string;
  met: boolean;
}

export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** A rate beside a baseline of the same run, printed for reference only (no target to meet). */
export function forReference(figure: string, value: number, baseline: number, against: string): ReportRow {
  return {
    figure,
    measured: fmt(value),
    against,
    ratio: value / baseline,
    target: 'for reference',
    met: true,
  };
}
export const say = (line: string) => process.stdout.write(`  ${line}\n`);

export async function createDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `syncdeck_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** ANALYZE over a whole database: what autovacuum does in a deployment (this machine may have it off). */
export async function analyzeDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('ANALYZE');
  await client.end();
}

/** Keep-alive connections for the set-up requests the sections send one after another. */
const setUpAgent = new http.Agent({ keepAlive: true });

/** Posts one batch of sync events with `token`; a refused batch throws, with the server's answer. */
export async function sendEvents(url: string, token: string, events: unknown[]): Promise<void> {
  const { status, error } = await send(setUpAgent, url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ events }),
  });
  if (status < 200 || status >= 300) throw new Error(`events refused: ${status} ${error}`);
}

/** Syncdeck as a deployment runs it (the tests' response checks off), in a process of its own. */
export function startSyncdeck(env: Record<string, string>, nodeArgs: string[] = []): Promise<ServerProcess> {
  return startServerProcess(
    { LOG_LEVEL: 'warn', ...env, VALIDATE_RESPONSES: 'false' },
    undefined,
    [],
    nodeArgs,
  );
}

/** Tenants with a key each, made through the admin API like a real operator would. */
export async function provision(server: ServerProcess, slugs: string[], scopes: string[]): Promise<string[]> {
  const headers = { authorization: `Bearer ${adminKeyOf(server)}`, 'content-type': 'application/json' };
  const tokens: string[] = [];
  for (const slug of slugs) {
    await fetch(`${server.url}/api/admin/tenants`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ slug }),
    });
    const key = await fetch(`${server.url}/api/admin/keys`, {
      method: 'POST',
      headers: { ...headers, 'x-tenant-id': slug },
      body: JSON.stringify({ scopes }),
    });
    tokens.push(((await key.json()) as { token: string }).token);
  }
  return tokens;
}

export function startBaseline(script: string, args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'baselines', script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const port = /listening (\d+)/.exec(chunk.toString())?.[1];
      if (port) resolve({ child, url: `http://127.0.0.1:${port}/` });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  ok: number;
  errors: number;
}

type RequestBuilder = () => {
  method?: 'GET' | 'POST';
  path?: string;
  headers: Record<string, string>;
  body?: string;
};

/** Drives `url` from this process over keep-alive connections, as fast as the server answers; `next` builds each request. */
export async function load(
  url: string,
  next: RequestBuilder,
  connections = 64,
  seconds = SECONDS,
): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      {
        setupRequest: (request) => {
          const built = next();
          return {
            ...request,
            method: built.method ?? 'POST',
            ...(built.path ? { path: built.path } : {}),
            headers: built.headers,
            ...(built.body !== undefined ? { body: built.body } : {}),
          };
        },
      },
    ],
  });
  return {
    requestsPerSecond: result['2xx'] / (result.duration || seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    errors: result.non2xx + result.errors + result.timeouts,
  };
}

/** A request's outcome: its status (0 if it failed), and its body when the status is not a 2xx. */
export interface Answer {
  status: number;
  error: string;
}

/**
 * Sends one request over `agent` and resolves once the whole answer has arrived. node:http
 * rather than fetch: fetch's own work per request (streams, promises) took this process
 * milliseconds at the tail, which were then counted as the server's. Only a refusal's body is
 * kept, to say why.
 */
export function send(agent: http.Agent, url: string, request: ReturnType<RequestBuilder>): Promise<Answer> {
  return new Promise((resolve) => {
    const outgoing = http.request(
      new URL(request.path ?? '', url),
      { method: request.method ?? 'GET', headers: request.headers, agent },
      (response) => {
        const status = response.statusCode!;
        const chunks: Buffer[] = [];
        if (status >= 200 && status < 300) response.resume();
        else response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status, error: Buffer.concat(chunks).toString() }));
      },
    );
    outgoing.on('error', (error) => resolve({ status: 0, error: error.message }));
    outgoing.end(request.body);
  });
}

/**
 * Sends `rate` requests a second at even intervals, whatever the answers (an open loop), to see
 * latency at a steady load below saturation. Each latency counts from when its request was due,
 * so a server that falls behind is not hidden by requests that were sent late.
 */
export async function paced(
  url: string,
  next: RequestBuilder,
  rate: number,
  seconds = SECONDS,
): Promise<LoadResult> {
  const interval = 1000 / rate;
  const total = Math.round(rate * seconds);
  const started = performance.now();
  const latencies: number[] = [];
  let errors = 0;
  const inFlight: Promise<void>[] = [];
  const agent = new http.Agent({ keepAlive: true });
  for (let i = 0; i < total; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(
      send(agent, url, next()).then(({ status }) => {
        if (status >= 200 && status < 300) latencies.push(performance.now() - due);
        else errors += 1;
      }),
    );
  }
  await Promise.all(inFlight);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requestsPerSecond: latencies.length / ((performance.now() - started) / 1000),
    p50: Math.round(percentile(latencies, 0.5) * 10) / 10,
    p99: Math.round(percentile(latencies, 0.99) * 10) / 10,
    ok: latencies.length,
    errors,
  };
}

/** Percentile of already-sorted samples. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export function printTable(rows: ReportRow[]) {
  const header = ['figure', 'measured', 'against', 'ratio', 'target', ''];
  const cells = rows.map((r) => [
    r.figure,
    r.measured,
    r.against,
    `${r.ratio.toFixed(2)}×`,
    r.target,
    r.met ? 'met' : 'NOT met',
  ]);
  const widths = header.map((_, i) => Math.max(...[header, ...cells].map((row) => row[i]!.length)));
  process.stdout.write('\n');
  for (const row of [header, ...cells])
    process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')}\n`);
}

/** One figure as `bench/results/<time>.json` keeps it, so that runs can be compared. */
export interface ResultRecord {
  what: string;
  /** The measured number (for `a / b` the first, for `a + b` the sum); null if the text holds none. */
  figure: number | null;
  unit: string;
  measured: string;
  /** The number it is compared with (a baseline of the same run, or the target); null if none. */
  baseline: number | null;
  against: string;
  ratio: number;
  target: string;
  met: boolean;
  engine: 'postgres' | 'pglite';
}

const numbersIn = (text: string) =>
  [...text.matchAll(/-?\d[\d,]*(?:\.\d+)?/g)].map((m) => Number(m[0].replaceAll(',', '')));

/** The unit of a figure, read from its name as the sections write them. */
function unitOf(what: string): string {
  if (/KiB/.test(what)) return 'KiB';
  if (/\bp(?:50|99)\b| ms\b/.test(what)) return 'ms';
  if (/stored \/ acknowledged|missed|≠|not stored/.test(what)) return 'count';
  if (/pages?\b/.test(what)) return 'pages/s';
  if (/^ingest|events\/s/.test(what)) return 'events/s';
  if (/changes/.test(what)) return 'changes/s';
  if (/rows?\b|sync/i.test(what)) return 'rows/s';
  return '';
}

export function toResult(row: ReportRow): ResultRecord {
  const measured = numbersIn(row.measured);
  const pair = row.measured.includes(' / ');
  const figure = row.measured.includes(' + ')
    ? measured.reduce((sum, n) => sum + n, 0)
    : (measured[0] ?? null);
  return {
    what: row.figure,
    figure,
    unit: unitOf(row.figure),
    measured: row.measured,
    baseline: pair ? (measured[1] ?? null) : (numbersIn(row.against)[0] ?? null),
    against: row.against,
    ratio: row.ratio,
    target: row.target,
    met: row.met,
    engine: /pglite/i.test(row.figure) ? 'pglite' : 'postgres',
  };
}

/** What the figures were measured on; every part is best effort. */
async function machine() {
  let postgres: string | null = null;
  const client = new pg.Client({ connectionString: ADMIN_URL });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    postgres = rows[0]!.server_version;
  } catch {
    // No PostgreSQL answered: the JSON says so with null.
  } finally {
    await client.end().catch(() => {});
  }
  let pglite: string | null = null;
  try {
    // The package's exports hide its package.json; read it beside its entry point.
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    const root = entry.slice(0, entry.lastIndexOf(`${path.sep}dist${path.sep}`));
    pglite = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')).version;
  } catch {}
  let commit: string | null = null;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: here, encoding: 'utf8' }).trim();
  } catch {}
  return {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? null,
    memoryBytes: os.totalmem(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    engines: { postgres, pglite },
    commit,
  };
}

/**
 * Writes a run's figures to `bench/results/<start time, ISO 8601 basic>.json` (or to
 * `BENCH_RESULTS_DIR`) and answers the file's path.
 */
export async function writeResults(
  rows: ReportRow[],
  run: { startedAt: Date; sections: string[]; seconds: number },
): Promise<string> {
  const dir = process.env.BENCH_RESULTS_DIR ?? path.join(here, 'results');
  await mkdir(dir, { recursive: true });
  const stamp = run.startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  const file = path.join(dir, `${stamp}.json`);
  const document = {
    startedAt: run.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    sections: run.sections,
    secondsPerLoadRun: run.seconds,
    machine: await machine(),
    results: rows.map(toResult),
  };
  await writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
  return file;
}
