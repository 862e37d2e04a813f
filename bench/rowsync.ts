/**
 * The row-sync benchmark: a FULL_SYNC of 100,000 rows in batches of 500 and a stream of
 * single-row changes, against a real Syncdeck server on a fresh PostgreSQL database, and the
 * seed's way (clear the tenant's rows at offset 0, then one upsert per row) and a bare node:http
 * server that only parses the bodies (the ceiling of this machine and generator) in the same run.
 * It checks that the stored rows are the full sync's records and every acknowledged change's row.
 * `npm run bench -- rowsync` runs it alone.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import autocannon from 'autocannon';
import pg from 'pg';
import {
  adminKeyOf,
  createDatabase,
  fmt,
  forReference,
  type ReportRow,
  send,
  startBaseline,
  startSyncdeck,
} from './lib.ts';

const ROWS = Number(process.env.BENCH_ROWSYNC_ROWS ?? 100_000);
/** The seed's way costs the same per row however many there are; 10,000 rows give its rate in a minute, not ten. */
const SEED_ROWS = Math.min(ROWS, Number(process.env.BENCH_ROWSYNC_SEED_ROWS ?? 10_000));
const BATCH = 500;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 64;
const SECRET = 'bench-row-sync-secret-0123456789';

const sign = (body: string) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

/** A work order as a source platform would push it: a dozen fields of mixed types. */
function workOrder(i: number, version: number) {
  return {
    id: `wo-${i}`,
    tenant_id: 'bench',
    title: `Clean zone ${i % 97} after shift ${i % 3}`,
    status: ['open', 'assigned', 'done', 'cancelled'][i % 4],
    priority: i % 5,
    zone_id: `zone-${i % 211}`,
    assignee: `worker-${i % 1013}`,
    estimated_minutes: 15 + (i % 120),
    cost: Math.round(i * 1.37 * 100) / 100,
    recurring: i % 7 === 0,
    notes: i % 11 === 0 ? null : 'Bring the floor machine; check the bins on the way out.',
    created_at: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
    updated_at: new Date(Date.UTC(2024, 6, 1) + version * 1000 + i).toISOString(),
  };
}

/** Keep-alive connections for the senders that post one request after another. */
const agent = new http.Agent({ keepAlive: true });

/** Posts one signed body; anything but a 2xx throws. */
async function postSigned(url: string, body: string): Promise<void> {
  const { status, error } = await send(agent, url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-webhook-signature': sign(body) },
    body,
  });
  if (status < 200 || status >= 300) throw new Error(`${url} answered ${status}: ${error}`);
}

/**
 * Batches the SDK's `fullSync` keeps in flight: the server stages them by offset, in any order.
 * The seed's sender posts one after another.
 */
const SDK_IN_FLIGHT = 4;

/**
 * One sender pushing the whole table: batch after batch as the seed's sender does, or with
 * `inFlight` batches at once and the last one after all others, as the SDK does.
 */
async function fullSync(
  url: string,
  syncId: string,
  staged: boolean,
  rows = ROWS,
  inFlight = 1,
): Promise<number> {
  const batches: string[] = [];
  for (let offset = 0; offset < rows; offset += BATCH) {
    const records = Array.from({ length: Math.min(BATCH, rows - offset) }, (_, i) =>
      workOrder(offset + i, 1),
    );
    const payload = {
      type: 'FULL_SYNC',
      table: 'adhoc_work_orders',
      tenant_id: 'bench',
      sync_id: syncId,
      offset,
      records,
      ...(staged ? { total: rows } : {}),
    };
    batches.push(JSON.stringify(payload));
  }
  const started = performance.now();
  let next = 0;
  const sender = async () => {
    while (next < batches.length - 1) await postSigned(url, batches[next++]!);
  };
  await Promise.all(Array.from({ length: inFlight }, sender));
  await postSigned(url, batches.at(-1)!);
  return rows / ((performance.now() - started) / 1000);
}

/** A change the server acknowledged with a 2xx: the row it must now hold. */
type Acknowledged = Map<string, { tenant: string; i: number; version: number }>;

/** Many senders' single-row INSERT/UPDATEs at once, each signed. */
async function changes(
  url: string,
): Promise<{ perSecond: number; errors: number; acknowledged: Acknowledged }> {
  let n = 0;
  const acknowledged: Acknowledged = new Map();
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        setupRequest: (request, context) => {
          const i = n++;
          const change = { tenant: `bench-${i % 8}`, i: i % 50_000, version: 2 + Math.floor(i / 50_000) };
          // One request in flight per connection: its response is this one's.
          (context as { change?: typeof change }).change = change;
          const body = JSON.stringify({
            type: i % 4 === 0 ? 'INSERT' : 'UPDATE',
            table: 'adhoc_work_orders',
            tenant_id: change.tenant,
            record: workOrder(change.i, change.version),
            old_record: null,
          });
          return {
            ...request,
            headers: { 'content-type': 'application/json', 'x-webhook-signature': sign(body) },
            body,
          };
        },
        onResponse: (status, _body, context) => {
          const change = (context as { change: { tenant: string; i: number; version: number } }).change;
          if (status >= 200 && status < 300) {
            const key = `${change.tenant}:${change.i}`;
            const before = acknowledged.get(key);
            if (!before || before.version <= change.version) acknowledged.set(key, change);
          }
        },
      },
    ],
  });
  return {
    perSecond: result['2xx'] / (result.duration || SECONDS),
    errors: result.non2xx + result.errors + result.timeouts,
    acknowledged,
  };
}

/** Rows of the `bench` tenant that differ from the full sync's records (or are missing or extra). */
async function fullSyncMismatches(pool: pg.Pool): Promise<number> {
  let matching = 0;
  for (let offset = 0; offset < ROWS; offset += BATCH) {
    const expected = Array.from({ length: Math.min(BATCH, ROWS - offset) }, (_, i) =>
      workOrder(offset + i, 1),
    );
    const result = await pool.query(
      `SELECT count(*)::int AS n FROM jsonb_array_elements($1::jsonb) e
       JOIN optiqo.work_orders w ON w.id = e->>'id' AND w.data = e
       JOIN sync_source_tenants s ON s.tenant_id = w.tenant_id AND s.external_id = 'bench'`,
      [JSON.stringify(expected)],
    );
    matching += result.rows[0].n as number;
  }
  const stored = await pool.query(
    `SELECT count(*)::int AS n FROM optiqo.work_orders w
     JOIN sync_source_tenants s ON s.tenant_id = w.tenant_id AND s.external_id = 'bench'`,
  );
  return ROWS - matching + ((stored.rows[0].n as number) - matching);
}

/**
 * Acknowledged single changes whose row is not stored as acknowledged. A row may hold a newer
 * version than its last acknowledged one: a change to it still in flight when the generator
 * stopped (once the changes wrap around the 50,000 rows, the last request of each connection).
 */
async function changeMismatches(
  pool: pg.Pool,
  acknowledged: Acknowledged,
): Promise<{ lost: number; newer: number }> {
  const expected = [...acknowledged.values()].map((c) => ({ t: c.tenant, d: workOrder(c.i, c.version) }));
  const result = await pool.query(
    `SELECT count(*) FILTER (WHERE w.data = e.d)::int AS same,
            count(*) FILTER (WHERE (w.data->>'updated_at')::timestamptz > (e.d->>'updated_at')::timestamptz)::int AS newer
     FROM jsonb_to_recordset($1::jsonb) AS e(t text, d jsonb)
     JOIN sync_source_tenants s ON s.external_id = e.t
     JOIN optiqo.work_orders w ON w.tenant_id = s.tenant_id AND w.id = e.d->>'id'`,
    [JSON.stringify(expected)],
  );
  const { same, newer } = result.rows[0] as { same: number; newer: number };
  return { lost: expected.length - same - newer, newer };
}

export async function runRowSyncBench(log: (line: string) => void = () => {}): Promise<ReportRow[]> {
  log(
    `Row-sync benchmark: FULL_SYNC of ${fmt(ROWS)} rows in batches of ${BATCH}; single changes over ${CONNECTIONS} connections for ${SECONDS} s`,
  );

  const seedDb = await createDatabase();
  const seed = await startBaseline('seed-rowsync.ts', [seedDb.url, SECRET]);
  let seedFull: number;
  let seedChanges: { perSecond: number; errors: number };
  try {
    seedFull = await fullSync(seed.url, 'seed', false, SEED_ROWS);
    log(`  seed's way, full sync (${fmt(SEED_ROWS)} rows): ${fmt(seedFull)} rows/s`);
    seedChanges = await changes(seed.url);
    log(`  seed's way, single changes: ${fmt(seedChanges.perSecond)} changes/s`);
  } finally {
    seed.child.kill();
    await seedDb.drop();
  }

  // The bound of this machine and generator: a bare node:http server that parses each body and
  // answers 202, storing nothing.
  const ceiling = await startBaseline('ceiling.ts', []);
  let ceilingFull: number;
  let ceilingChanges: number;
  try {
    ceilingFull = await fullSync(ceiling.url, 'ceiling', true);
    log(`  ceiling (node:http, parse, 202), full sync: ${fmt(ceilingFull)} rows/s`);
    ceilingChanges = (await changes(ceiling.url)).perSecond;
    log(`  ceiling, single changes: ${fmt(ceilingChanges)} changes/s`);
  } finally {
    ceiling.child.kill();
  }

  const database = await createDatabase();
  const server = await startSyncdeck({ DATABASE_URL: database.url });
  let full: number;
  let again: number;
  let sdkWay: number;
  let single: { perSecond: number; errors: number; acknowledged: Acknowledged };
  let fullWrong: number;
  let changesWrong: number;
  try {
    const adminKey = adminKeyOf(server);
    const created = await fetch(`${server.url}/api/admin/sources`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'optiqo', secret: SECRET }),
    });
    if (created.status !== 201)
      throw new Error(`creating the source: ${created.status} ${await created.text()}`);
    const url = `${server.url}/api/webhooks/optiqo`;
    await postSigned(
      url,
      JSON.stringify({
        type: 'INSERT',
        table: 'adhoc_work_orders',
        tenant_id: 'bench',
        record: workOrder(0, 0),
      }),
    );
    full = await fullSync(url, `first-${Date.now()}`, true);
    log(`  Syncdeck, staged full sync (first import): ${fmt(full)} rows/s`);
    again = await fullSync(url, `again-${Date.now()}`, true);
    log(`  Syncdeck, staged full sync over existing rows: ${fmt(again)} rows/s`);
    sdkWay = await fullSync(url, `sdk-${Date.now()}`, true, ROWS, SDK_IN_FLIGHT);
    log(
      `  Syncdeck, staged full sync over existing rows, ${SDK_IN_FLIGHT} batches in flight (the SDK's way): ${fmt(sdkWay)} rows/s`,
    );
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    try {
      fullWrong = await fullSyncMismatches(pool);
      single = await changes(url);
      log(`  Syncdeck, single changes: ${fmt(single.perSecond)} changes/s (${single.errors} errors)`);
      const mismatches = await changeMismatches(pool, single.acknowledged);
      changesWrong = mismatches.lost;
      log(
        `  rows holding a newer change than their last acknowledged one (sent, not yet answered): ${mismatches.newer}`,
      );
    } finally {
      await pool.end();
    }
  } finally {
    await server.kill('SIGTERM');
    await database.drop();
  }

  return [
    {
      figure: 'Row sync: full sync, one batch at a time',
      measured: fmt(full),
      against: 'target 50,000',
      ratio: full / 50_000,
      target: '≥ 1×',
      met: full >= 50_000,
    },
    {
      figure: 'Row sync: full sync vs seed way',
      measured: fmt(full),
      against: `seed ${fmt(seedFull)}`,
      ratio: full / seedFull,
      target: '≥ 10×',
      met: full >= 10 * seedFull,
    },
    {
      figure: 'Row sync: re-sync over 100k rows/s',
      measured: fmt(again),
      against: `seed ${fmt(seedFull)}`,
      ratio: again / seedFull,
      target: '≥ 10×',
      met: again >= 10 * seedFull,
    },
    {
      figure: `Row sync: full sync, ${SDK_IN_FLIGHT} in flight (SDK)`,
      measured: fmt(sdkWay),
      against: 'target 50,000',
      ratio: sdkWay / 50_000,
      target: '≥ 1×',
      met: sdkWay >= 50_000,
    },
    forReference('Row sync: full sync vs ceiling', full, ceilingFull, `ceiling ${fmt(ceilingFull)}`),
    {
      figure: 'Row sync: rows ≠ full sync records',
      measured: fmt(fullWrong),
      against: `of ${fmt(ROWS)}`,
      ratio: fullWrong / ROWS,
      target: '= 0',
      met: fullWrong === 0,
    },
    {
      figure: 'Row sync: single changes/s',
      measured: fmt(single.perSecond),
      against: 'target 5,000',
      ratio: single.perSecond / 5_000,
      target: '≥ 1×',
      met: single.perSecond >= 5_000 && single.errors === 0,
    },
    {
      figure: 'Row sync: acked changes not stored',
      measured: fmt(changesWrong),
      against: `of ${fmt(single.acknowledged.size)} rows`,
      ratio: changesWrong / Math.max(1, single.acknowledged.size),
      target: '= 0',
      met: changesWrong === 0,
    },
    forReference(
      'Row sync: single changes vs ceiling',
      single.perSecond,
      ceilingChanges,
      `ceiling ${fmt(ceilingChanges)}`,
    ),
    forReference(
      'Row sync: single changes vs seed way',
      single.perSecond,
      seedChanges.perSecond,
      `seed ${fmt(seedChanges.perSecond)}`,
    ),
  ];
}
