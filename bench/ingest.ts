/**
 * Ingest: Syncdeck on PostgreSQL (single events and batches of 100) and on PGlite, against the
 * seed's way (one INSERT per request) and the ceiling (parse JSON, answer 202), all driven by
 * the same generator in the same run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openPglite } from '../packages/server/src/db/pglite.ts';
import {
  analyzeDatabase,
  createDatabase,
  fmt,
  type LoadResult,
  load,
  provision,
  type ReportRow,
  say,
  sendEvents,
  startBaseline,
  startSyncdeck,
} from './lib.ts';
import { createWorkload } from './workload.ts';

interface Run extends LoadResult {
  eventsPerSecond: number;
  acknowledgedEvents: number;
}

async function ingestLoad(
  url: string,
  tokens: string[],
  eventsPerRequest: number,
  runId: string,
): Promise<Run> {
  const workload = createWorkload(runId);
  let turn = 0;
  const result = await load(url, () => {
    const tenant = turn++ % tokens.length;
    const body =
      eventsPerRequest === 1
        ? workload.next(tenant)
        : { events: Array.from({ length: eventsPerRequest }, () => workload.next(tenant)) };
    return {
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[tenant]}` },
      body: JSON.stringify(body),
    };
  });
  return {
    ...result,
    eventsPerSecond: result.requestsPerSecond * eventsPerRequest,
    acknowledgedEvents: result.ok * eventsPerRequest,
  };
}

/**
 * Sends every customer, bot and conversation of the workload once (10,000 events in batches of
 * 100), so the measured runs see a running deployment rather than empty tables.
 */
async function warmUp(url: string, tokens: string[]) {
  const workload = createWorkload(`warmup-${Date.now()}`);
  for (let request = 0; request < 100; request++) {
    const tenant = request % tokens.length;
    await sendEvents(
      url,
      tokens[tenant]!,
      Array.from({ length: 100 }, () => workload.next(tenant)),
    );
  }
}

async function countApplied(query: (sql: string) => Promise<{ rows: { n: number }[] }>): Promise<number> {
  return (await query("SELECT count(*)::int AS n FROM idempotency_keys WHERE event_id NOT LIKE 'warmup-%'"))
    .rows[0]!.n;
}

export async function runIngestBench(): Promise<ReportRow[]> {
  process.stdout.write('Ingest: 64 keep-alive connections\n');
  const ceiling = await startBaseline('ceiling.ts', []);
  const ceilingRun = await ingestLoad(ceiling.url, ['x', 'y'], 1, 'ceiling');
  ceiling.child.kill();
  say(`ceiling (node:http, parse, 202): ${fmt(ceilingRun.eventsPerSecond)} events/s`);

  const seedDb = await createDatabase();
  const seed = await startBaseline('seed-way.ts', [seedDb.url]);
  const seedRun = await ingestLoad(seed.url, ['x', 'y'], 1, 'seed');
  seed.child.kill();
  await seedDb.drop();
  say(`seed's way (one INSERT per request): ${fmt(seedRun.eventsPerSecond)} events/s`);

  const database = await createDatabase();
  const server = await startSyncdeck({ DATABASE_URL: database.url });
  const tokens = await provision(server, ['bench-a', 'bench-b'], ['ingest']);
  await warmUp(`${server.url}/functions/v1/sync`, tokens);
  await analyzeDatabase(database.url);
  const single = await ingestLoad(`${server.url}/functions/v1/sync`, tokens, 1, `pg1-${Date.now()}`);
  say(`Syncdeck, PostgreSQL, single events: ${fmt(single.eventsPerSecond)} events/s, p99 ${single.p99} ms`);
  const batch = await ingestLoad(`${server.url}/functions/v1/sync`, tokens, 100, `pg100-${Date.now()}`);
  say(`Syncdeck, PostgreSQL, batches of 100: ${fmt(batch.eventsPerSecond)} events/s`);
  await server.kill('SIGTERM');
  const pool = new pg.Pool({ connectionString: database.url, max: 1 });
  const storedPg = await countApplied((sql) => pool.query(sql));
  await pool.end();
  await database.drop();

  const dataDir = await mkdtemp(path.join(tmpdir(), 'syncdeck-bench-'));
  // PGlite has no autovacuum: Syncdeck analyses changed tables itself, here every second.
  const embedded = await startSyncdeck({ DATA_DIR: dataDir, STATISTICS_INTERVAL_SECONDS: '1' });
  const embeddedTokens = await provision(embedded, ['bench-a', 'bench-b'], ['ingest']);
  await warmUp(`${embedded.url}/functions/v1/sync`, embeddedTokens);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const pglite = await ingestLoad(
    `${embedded.url}/functions/v1/sync`,
    embeddedTokens,
    1,
    `pglite-${Date.now()}`,
  );
  say(`Syncdeck, PGlite, single events: ${fmt(pglite.eventsPerSecond)} events/s, p99 ${pglite.p99} ms`);
  await embedded.kill('SIGTERM');
  const pgliteDb = await openPglite(path.join(dataDir, 'pgdata'));
  const storedPglite = await countApplied((sql) => pgliteDb.query(sql));
  await pgliteDb.close();
  await rm(dataDir, { recursive: true, force: true });

  const errors = single.errors + batch.errors + pglite.errors;
  if (errors > 0) say(`${errors} requests failed or timed out during the Syncdeck runs`);
  // Requests still in flight when the generator stops may commit without being counted as
  // acknowledged, so stored may exceed acknowledged; it may never fall short of it.
  const acknowledgedPg = single.acknowledgedEvents + batch.acknowledgedEvents;
  const rate = (figure: string, value: number, target: number): ReportRow => ({
    figure,
    measured: fmt(value),
    against: `target ${fmt(target)}`,
    ratio: value / target,
    target: '≥ 1×',
    met: value >= target,
  });
  return [
    rate('ingest PG single events/s', single.eventsPerSecond, 15_000),
    {
      figure: 'ingest PG single vs ceiling',
      measured: fmt(single.eventsPerSecond),
      against: `ceiling ${fmt(ceilingRun.eventsPerSecond)}`,
      ratio: single.eventsPerSecond / ceilingRun.eventsPerSecond,
      target: '≥ 0.5×',
      met: single.eventsPerSecond >= 0.5 * ceilingRun.eventsPerSecond,
    },
    {
      figure: 'ingest PG single vs seed way',
      measured: fmt(single.eventsPerSecond),
      against: `seed ${fmt(seedRun.eventsPerSecond)}`,
      ratio: single.eventsPerSecond / seedRun.eventsPerSecond,
      target: '≥ 5×',
      met: single.eventsPerSecond >= 5 * seedRun.eventsPerSecond,
    },
    {
      figure: 'ingest PG single p99 ms',
      measured: String(single.p99),
      against: 'target 50 ms',
      ratio: single.p99 / 50,
      target: '< 1×',
      met: single.p99 < 50,
    },
    rate('ingest PG batch-100 events/s', batch.eventsPerSecond, 150_000),
    rate('ingest PGlite single events/s', pglite.eventsPerSecond, 5_000),
    {
      figure: 'ingest PG stored / acknowledged',
      measured: `${fmt(storedPg)} / ${fmt(acknowledgedPg)}`,
      against: 'none lost',
      ratio: storedPg / Math.max(1, acknowledgedPg),
      target: '≥ 1×',
      met: storedPg >= acknowledgedPg,
    },
    {
      figure: 'ingest PGlite stored / acknowledged',
      measured: `${fmt(storedPglite)} / ${fmt(pglite.acknowledgedEvents)}`,
      against: 'none lost',
      ratio: storedPglite / Math.max(1, pglite.acknowledgedEvents),
      target: '≥ 1×',
      met: storedPglite >= pglite.acknowledgedEvents,
    },
  ];
}
