/**
 * `npm run bench`: drives real servers from this separate process and prints each figure
 * beside the baselines measured in the same run, as ratios.
 *
 * Ingest: Syncdeck on PostgreSQL (single events and batches of 100) and on PGlite, against
 * the seed's way (one INSERT per request) and the ceiling (parse JSON, answer 202).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { openPglite } from '../packages/server/src/db/pglite.ts';
import { type ServerProcess, startServerProcess } from '../packages/server/src/testing/process.ts';
import { createWorkload } from './workload.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 64;
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const here = path.dirname(fileURLToPath(import.meta.url));

interface Run {
  eventsPerSecond: number;
  p99: number;
  acknowledgedEvents: number;
  errors: number;
}

async function load(url: string, tokens: string[], eventsPerRequest: number, runId: string): Promise<Run> {
  const workload = createWorkload(runId);
  let turn = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const tenant = turn++ % tokens.length;
          const body =
            eventsPerRequest === 1
              ? workload.next(tenant)
              : { events: Array.from({ length: eventsPerRequest }, () => workload.next(tenant)) };
          return {
            ...request,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[tenant]}` },
            body: JSON.stringify(body),
          };
        },
      },
    ],
  });
  const ok = result['2xx'];
  return {
    eventsPerSecond: (ok * eventsPerRequest) / (result.duration || SECONDS),
    p99: result.latency.p99,
    acknowledgedEvents: ok * eventsPerRequest,
    errors: result.non2xx + result.errors + result.timeouts,
  };
}

async function createDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
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

/** Two tenants with an ingest key each, made through the admin API like a real operator would. */
async function provision(server: ServerProcess): Promise<string[]> {
  const adminKey = /Admin API key: (sdk_live_\S+)/.exec(server.output())![1]!;
  const tokens: string[] = [];
  for (const slug of ['bench-a', 'bench-b']) {
    const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
    await fetch(`${server.url}/api/admin/tenants`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ slug }),
    });
    const key = await fetch(`${server.url}/api/admin/keys`, {
      method: 'POST',
      headers: { ...headers, 'x-tenant-id': slug },
      body: JSON.stringify({ scopes: ['ingest'] }),
    });
    tokens.push(((await key.json()) as { token: string }).token);
  }
  return tokens;
}

function startBaseline(script: string, args: string[]): Promise<{ child: ChildProcess; url: string }> {
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

async function countApplied(query: (sql: string) => Promise<{ rows: { n: number }[] }>): Promise<number> {
  return (await query('SELECT count(*)::int AS n FROM idempotency_keys')).rows[0]!.n;
}

const rows: string[][] = [];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
function report(figure: string, value: string, against: string, ratio: number, target: string, met: boolean) {
  rows.push([figure, value, against, `${ratio.toFixed(2)}×`, target, met ? 'met' : 'NOT met']);
}

async function main() {
  process.stdout.write(`Ingest benchmark: ${CONNECTIONS} keep-alive connections, ${SECONDS} s per run\n`);

  const ceiling = await startBaseline('ceiling.ts', []);
  const ceilingRun = await load(ceiling.url, ['x', 'y'], 1, 'ceiling');
  ceiling.child.kill();
  process.stdout.write(`  ceiling (node:http, parse, 202): ${fmt(ceilingRun.eventsPerSecond)} events/s\n`);

  const seedDb = await createDatabase();
  const seed = await startBaseline('seed-way.ts', [seedDb.url]);
  const seedRun = await load(seed.url, ['x', 'y'], 1, 'seed');
  seed.child.kill();
  await seedDb.drop();
  process.stdout.write(`  seed's way (one INSERT per request): ${fmt(seedRun.eventsPerSecond)} events/s\n`);

  const database = await createDatabase();
  const server = await startServerProcess({ DATABASE_URL: database.url, LOG_LEVEL: 'warn' });
  const tokens = await provision(server);
  const single = await load(`${server.url}/functions/v1/sync`, tokens, 1, `pg1-${Date.now()}`);
  process.stdout.write(
    `  Syncdeck, PostgreSQL, single events: ${fmt(single.eventsPerSecond)} events/s, p99 ${single.p99} ms\n`,
  );
  const batch = await load(`${server.url}/functions/v1/sync`, tokens, 100, `pg100-${Date.now()}`);
  process.stdout.write(`  Syncdeck, PostgreSQL, batches of 100: ${fmt(batch.eventsPerSecond)} events/s\n`);
  await server.kill('SIGTERM');
  const pool = new pg.Pool({ connectionString: database.url, max: 1 });
  const storedPg = await countApplied((sql) => pool.query(sql));
  await pool.end();
  await database.drop();

  const dataDir = await mkdtemp(path.join(tmpdir(), 'syncdeck-bench-'));
  const embedded = await startServerProcess({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
  const embeddedTokens = await provision(embedded);
  const pglite = await load(`${embedded.url}/functions/v1/sync`, embeddedTokens, 1, `pglite-${Date.now()}`);
  process.stdout.write(
    `  Syncdeck, PGlite, single events: ${fmt(pglite.eventsPerSecond)} events/s, p99 ${pglite.p99} ms\n`,
  );
  await embedded.kill('SIGTERM');
  const pgliteDb = await openPglite(path.join(dataDir, 'pgdata'));
  const storedPglite = await countApplied((sql) => pgliteDb.query(sql));
  await pgliteDb.close();
  await rm(dataDir, { recursive: true, force: true });

  report(
    'PG single events/s',
    fmt(single.eventsPerSecond),
    'target 15,000',
    single.eventsPerSecond / 15_000,
    '≥ 1×',
    single.eventsPerSecond >= 15_000,
  );
  report(
    'PG single vs ceiling',
    fmt(single.eventsPerSecond),
    `ceiling ${fmt(ceilingRun.eventsPerSecond)}`,
    single.eventsPerSecond / ceilingRun.eventsPerSecond,
    '≥ 0.5×',
    single.eventsPerSecond >= 0.5 * ceilingRun.eventsPerSecond,
  );
  report(
    'PG single vs seed way',
    fmt(single.eventsPerSecond),
    `seed ${fmt(seedRun.eventsPerSecond)}`,
    single.eventsPerSecond / seedRun.eventsPerSecond,
    '≥ 5×',
    single.eventsPerSecond >= 5 * seedRun.eventsPerSecond,
  );
  report('PG single p99 ms', String(single.p99), 'target 50 ms', single.p99 / 50, '< 1×', single.p99 < 50);
  report(
    'PG batch-100 events/s',
    fmt(batch.eventsPerSecond),
    'target 150,000',
    batch.eventsPerSecond / 150_000,
    '≥ 1×',
    batch.eventsPerSecond >= 150_000,
  );
  report(
    'PGlite single events/s',
    fmt(pglite.eventsPerSecond),
    'target 5,000',
    pglite.eventsPerSecond / 5_000,
    '≥ 1×',
    pglite.eventsPerSecond >= 5_000,
  );
  // Requests still in flight when the generator stops may commit without being counted as
  // acknowledged, so stored may exceed acknowledged; it may never fall short of it.
  const acknowledgedPg = single.acknowledgedEvents + batch.acknowledgedEvents;
  report(
    'PG stored / acknowledged',
    `${fmt(storedPg)} / ${fmt(acknowledgedPg)}`,
    'none lost',
    storedPg / Math.max(1, acknowledgedPg),
    '≥ 1×',
    storedPg >= acknowledgedPg,
  );
  report(
    'PGlite stored / acknowledged',
    `${fmt(storedPglite)} / ${fmt(pglite.acknowledgedEvents)}`,
    'none lost',
    storedPglite / Math.max(1, pglite.acknowledgedEvents),
    '≥ 1×',
    storedPglite >= pglite.acknowledgedEvents,
  );

  const header = ['figure', 'measured', 'against', 'ratio', 'target', ''];
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => row[i]!.length)));
  process.stdout.write('\n');
  for (const row of [header, ...rows])
    process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')}\n`);
  const errors = single.errors + batch.errors + pglite.errors;
  if (errors > 0) process.stdout.write(`\n${errors} requests failed or timed out during the Syncdeck runs\n`);
}

await main();
