/**
 * Read: the dashboard's reads over HTTP at scale. 10 tenants, 100,000 conversations and
 * 1,000,000 messages on PostgreSQL (BENCH_CONVERSATIONS scales it). Conversation pages by
 * keyset cursor at every depth against the seed's OFFSET paging, a messages page, and the stats
 * counters against the seed's COUNT(*), in the same run.
 */
import { conversationStats, openPostgres, type Queryable } from '@syncdeck/server/testing';
import {
  createDatabase,
  fmt,
  load,
  paced,
  percentile,
  provision,
  type ReportRow,
  say,
  startBaseline,
  startSyncdeck,
} from './lib.ts';

const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? 100_000);
const TENANTS = 10;
const MESSAGES_PER_CONVERSATION = 10;
const PAGE = 50;
const CONNECTIONS = 16;
/** The steady load the latency targets are measured at: far beyond what dashboards ask, below saturation. */
const RATE = 250;
const SECONDS = Math.min(Number(process.env.BENCH_SECONDS ?? 10), 8);

/** Bots, customers, conversations and messages for one tenant, written straight in SQL. */
async function fill(db: Queryable, tenantId: string, conversations: number) {
  await db.query(
    `INSERT INTO bots (tenant_id, channel, address, name)
     SELECT $1, 'whatsapp', '+96650800' || lpad(b::text, 4, '0'), 'bot ' || b FROM generate_series(1, 20) b`,
    [tenantId],
  );
  await db.query(
    `INSERT INTO customers (tenant_id, id, display_name, whatsapp_phone, first_seen_at, last_seen_at, created_at)
     SELECT $1, gen_random_uuid(), 'Customer ' || i, '+9665' || lpad(i::text, 8, '0'),
            now() - i * interval '1 minute', now(), now() - i * interval '1 minute'
     FROM generate_series(1, $2::int) i`,
    [tenantId, conversations],
  );
  await db.query(
    `INSERT INTO conversations (tenant_id, bot_id, customer_id, status, unread_count, message_count, last_message_at, created_at)
     SELECT c.tenant_id, b.id, c.id, CASE WHEN random() < 0.4 THEN 'active' ELSE 'closed' END,
            (random() * 3)::int, ${MESSAGES_PER_CONVERSATION}, now() - random() * interval '90 days', c.created_at
     FROM (SELECT *, row_number() OVER () AS n FROM customers WHERE tenant_id = $1) c
     JOIN (SELECT id, row_number() OVER () - 1 AS k FROM bots WHERE tenant_id = $1) b ON b.k = c.n % 20`,
    [tenantId],
  );
  await db.query(
    `INSERT INTO messages (tenant_id, conversation_id, direction, message_type, content, created_at)
     SELECT c.tenant_id, c.id, CASE WHEN m % 2 = 0 THEN 'IN' ELSE 'OUT' END, 'text',
            (ARRAY['I would like', 'one shawarma', 'the falafel plate', 'where is my order', 'thank you'])[1 + m % 5]
              || ' #' || m,
            c.last_message_at - (${MESSAGES_PER_CONVERSATION} - m) * interval '1 minute'
     FROM conversations c, generate_series(1, ${MESSAGES_PER_CONVERSATION}) m WHERE c.tenant_id = $1`,
    [tenantId],
  );
}

async function timeSql(work: () => Promise<unknown>, runs = 300): Promise<number[]> {
  // Untimed first: the pool's connection and the statement's plan, which a deployment has long had.
  for (let i = 0; i < 10; i++) await work();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await work();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return samples.sort((a, b) => a - b);
}

export async function runReadBench(): Promise<ReportRow[]> {
  const perTenant = Math.ceil(CONVERSATIONS / TENANTS);
  process.stdout.write(
    `Read: ${TENANTS} tenants, ${fmt(perTenant * TENANTS)} conversations, ${fmt(perTenant * TENANTS * MESSAGES_PER_CONVERSATION)} messages, ${CONNECTIONS} connections\n`,
  );
  const database = await createDatabase();
  const server = await startSyncdeck({ DATABASE_URL: database.url });
  const pool = openPostgres(database.url, 4);
  try {
    const slugs = Array.from({ length: TENANTS }, (_, i) => `read-${i}`);
    const tokens = await provision(server, slugs, ['read']);
    const tenants = (await pool.query<{ id: string; slug: string }>('SELECT id, slug FROM tenants')).rows;
    const idOf = new Map(tenants.map((t) => [t.slug, t.id]));
    const started = Date.now();
    for (const slug of slugs) await fill(pool, idOf.get(slug)!, perTenant);
    await pool.exec('VACUUM ANALYZE');
    say(`filled in ${((Date.now() - started) / 1000).toFixed(0)} s`);

    // Every page of every tenant, walked once by cursor, so deep pages can be asked at random.
    const pages = Math.floor(perTenant / PAGE);
    const cursors: string[][] = [];
    for (const [t, token] of tokens.entries()) {
      const list: string[] = [''];
      for (let p = 1; p < pages; p++) {
        const response = await fetch(
          `${server.url}/api/db/conversations?limit=${PAGE}${list[p - 1] ? `&cursor=${encodeURIComponent(list[p - 1]!)}` : ''}`,
          { headers: { authorization: `Bearer ${token}` } },
        );
        list.push(response.headers.get('x-next-cursor')!);
      }
      cursors[t] = list;
    }
    const conversationIds = (
      await pool.query<{ tenant_id: string; id: string }>(
        'SELECT tenant_id, id FROM conversations TABLESAMPLE SYSTEM (1) LIMIT 2000',
      )
    ).rows;
    const tokenOfTenant = new Map(slugs.map((slug, i) => [idOf.get(slug)!, tokens[i]!]));

    let turn = 0;
    const auth = (t: number) => ({ authorization: `Bearer ${tokens[t % TENANTS]}` });
    const randomPage = () => Math.floor(Math.random() * pages);
    const byCursorRequest = () => {
      const t = turn++ % TENANTS;
      const cursor = cursors[t]![randomPage()]!;
      return {
        method: 'GET' as const,
        path: `/api/db/conversations?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        headers: auth(t),
      };
    };
    const messagesRequest = () => {
      const row = conversationIds[turn++ % conversationIds.length]!;
      return {
        method: 'GET' as const,
        path: `/api/db/conversations/${row.id}/messages?limit=100`,
        headers: { authorization: `Bearer ${tokenOfTenant.get(row.tenant_id)}` },
      };
    };
    const byCursor = await load(server.url, byCursorRequest, CONNECTIONS, SECONDS);
    say(
      `conversations by cursor, any depth: ${fmt(byCursor.requestsPerSecond)} pages/s, p99 ${byCursor.p99} ms at saturation`,
    );
    const byOffset = await load(
      server.url,
      () => {
        const t = turn++ % TENANTS;
        return {
          method: 'GET',
          path: `/api/db/conversations?limit=${PAGE}&offset=${randomPage() * PAGE}`,
          headers: auth(t),
        };
      },
      CONNECTIONS,
      SECONDS,
    );
    say(
      `conversations by OFFSET (seed's way): ${fmt(byOffset.requestsPerSecond)} pages/s, p99 ${byOffset.p99} ms at saturation`,
    );
    const messages = await load(server.url, messagesRequest, CONNECTIONS, SECONDS);
    say(
      `messages page of 100: ${fmt(messages.requestsPerSecond)} pages/s, p99 ${messages.p99} ms at saturation`,
    );
    const byCursorSteady = await paced(server.url, byCursorRequest, RATE, SECONDS);
    const messagesSteady = await paced(server.url, messagesRequest, RATE, SECONDS);
    // What this machine's scheduling and the generator cost alone: a server that answers at once.
    const ceiling = await startBaseline('ceiling.ts', []);
    const ceilingSteady = await paced(
      ceiling.url,
      () => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
      RATE,
      SECONDS,
    );
    ceiling.child.kill();
    say(
      `at ${RATE} requests/s: ceiling (node:http, answers at once) p50 ${ceilingSteady.p50} ms, p99 ${ceilingSteady.p99} ms`,
    );
    say(
      `at ${RATE} pages/s: conversations by cursor p50 ${byCursorSteady.p50} ms, p99 ${byCursorSteady.p99} ms; messages p50 ${messagesSteady.p50} ms, p99 ${messagesSteady.p99} ms`,
    );

    const tenantId = idOf.get(slugs[0]!)!;
    const counters = await timeSql(() => conversationStats(pool, tenantId));
    const counted = await timeSql(
      () =>
        pool.query(
          `SELECT count(*) AS total, count(*) FILTER (WHERE status = 'active') AS active, sum(unread_count) AS unread
           FROM conversations WHERE tenant_id = $1`,
          [tenantId],
        ),
      100,
    );
    say(
      `stats: counters p99 ${percentile(counters, 0.99).toFixed(2)} ms, COUNT(*) p99 ${percentile(counted, 0.99).toFixed(2)} ms`,
    );
    const errors =
      byCursor.errors + byOffset.errors + messages.errors + byCursorSteady.errors + messagesSteady.errors;
    if (errors > 0) say(`${errors} read requests failed`);

    const statsP99 = percentile(counters, 0.99);
    return [
      {
        figure: `read conversations page p99 ms at ${RATE}/s (any depth)`,
        measured: String(byCursorSteady.p99),
        against: `target 20 ms (ceiling ${ceilingSteady.p99} ms)`,
        ratio: byCursorSteady.p99 / 20,
        target: '< 1×',
        met: byCursorSteady.p99 < 20,
      },
      {
        figure: 'read conversations pages/s vs OFFSET',
        measured: fmt(byCursor.requestsPerSecond),
        against: `seed ${fmt(byOffset.requestsPerSecond)}`,
        ratio: byCursor.requestsPerSecond / byOffset.requestsPerSecond,
        target: '> 1×',
        met: byCursor.requestsPerSecond > byOffset.requestsPerSecond,
      },
      {
        figure: `read messages page p99 ms at ${RATE}/s`,
        measured: String(messagesSteady.p99),
        against: `target 20 ms (ceiling ${ceilingSteady.p99} ms)`,
        ratio: messagesSteady.p99 / 20,
        target: '< 1×',
        met: messagesSteady.p99 < 20,
      },
      {
        figure: 'read stats p99 ms',
        measured: statsP99.toFixed(2),
        against: 'target 5 ms',
        ratio: statsP99 / 5,
        target: '< 1×',
        met: statsP99 < 5,
      },
      // A tenant's 10,000 conversations count in about the time the counters take; what the
      // counters buy is that they stay a few rows however large a tenant grows.
      {
        figure: 'read stats vs COUNT(*) p99',
        measured: statsP99.toFixed(2),
        against: `seed ${percentile(counted, 0.99).toFixed(2)} ms`,
        ratio: statsP99 / percentile(counted, 0.99),
        target: 'for reference',
        met: true,
      },
    ];
  } finally {
    await pool.close();
    await server.kill('SIGTERM');
    await database.drop();
  }
}
