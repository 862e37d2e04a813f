/**
 * `npm run bench:read`: the dashboard's read queries at scale. Fills a fresh PostgreSQL
 * database (BENCH_DATABASE_URL, default the local server) with one tenant of 100,000
 * conversations, 1,000,000 messages and 100,000 customers (and a second, smaller tenant),
 * then times the store functions the routes call and prints the plan of each.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  listConversations,
  listMessages,
  conversationStats,
} from '../packages/server/src/conversations/store.ts';
import { listCustomers } from '../packages/server/src/customers/store.ts';
import { searchPatterns } from '../packages/server/src/customers/search.ts';
import { migrate, type Queryable } from '../packages/server/src/db/index.ts';
import { openPostgres } from '../packages/server/src/db/postgres.ts';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? 100_000);
const MESSAGES_PER_CONVERSATION = 10;
const RUNS = 200;
const print = (line: string) => process.stdout.write(`${line}\n`);

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
              || ' #' || m || ' ' || md5(c.id::text || m),
            c.last_message_at - (${MESSAGES_PER_CONVERSATION} - m) * interval '1 minute'
     FROM conversations c, generate_series(1, ${MESSAGES_PER_CONVERSATION}) m WHERE c.tenant_id = $1`,
    [tenantId],
  );
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function describePlan(node: PlanNode): string {
  const here = node['Index Name'] ?? node['Relation Name'];
  const children = (node.Plans ?? []).map(describePlan);
  return `${node['Node Type']}${here ? `(${here})` : ''}${children.length ? ` > [${children.join(', ')}]` : ''}`;
}

/** The plan of the last query `work` sends, as one line: which nodes, on which indexes. */
async function planOf(work: (q: Queryable) => Promise<unknown>): Promise<string> {
  let last: { sql: string; params: unknown[] } | null = null;
  const recorder: Queryable = {
    query: (sql, params = []) => {
      last = { sql, params };
      return db.query(sql, params);
    },
    exec: (sql) => db.exec(sql),
  };
  await work(recorder);
  const { sql, params } = last!;
  const result = await db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    `EXPLAIN (FORMAT JSON) ${sql}`,
    params,
  );
  return describePlan(result.rows[0]!['QUERY PLAN'][0].Plan);
}

async function time(label: string, work: (q: Queryable) => Promise<unknown>) {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    await work(db);
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const at = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!.toFixed(2);
  print(`${label.padEnd(48)} median ${at(0.5)} ms   p99 ${at(0.99)} ms`);
  print(`  ${await planOf(work)}`);
}

const name = `syncdeck_bench_read_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(ADMIN_URL);
url.pathname = `/${name}`;
const db = openPostgres(url.toString(), 4);
try {
  await migrate(db);
  const [a, b] = (
    await db.query<{ id: string }>(
      "INSERT INTO tenants (slug, name) VALUES ('bench-a', 'A'), ('bench-b', 'B') RETURNING id",
    )
  ).rows.map((row) => row.id) as [string, string];
  print(`filling ${CONVERSATIONS} conversations, ${CONVERSATIONS * MESSAGES_PER_CONVERSATION} messages…`);
  await fill(db, a, CONVERSATIONS);
  await fill(db, b, Math.ceil(CONVERSATIONS / 10));
  await db.exec('VACUUM ANALYZE');

  const first = await listConversations(db, a, { limit: 50 });
  let deep = first.nextCursor!;
  for (let i = 0; i < 200; i++)
    deep = (await listConversations(db, a, { limit: 50, cursor: deep })).nextCursor!;
  const conversationId = first.data[0]!.id;
  const latest = (await listMessages(db, a, conversationId, { limit: 3, latest: true }))!;

  await time('stats', (q) => conversationStats(q, a));
  await time('conversations, first page', (q) => listConversations(q, a, { limit: 50 }));
  await time('conversations, page 200 by cursor', (q) =>
    listConversations(q, a, { limit: 50, cursor: deep }),
  );
  await time('conversations, active, page 200 by cursor', (q) =>
    listConversations(q, a, { limit: 50, cursor: deep, status: 'active' }),
  );
  await time('conversations, one bot, page 200 by cursor', (q) =>
    listConversations(q, a, { limit: 50, cursor: deep, botId: first.data[0]!.botId }),
  );
  await time('messages, first page', (q) => listMessages(q, a, conversationId, { limit: 100 }));
  await time('messages, before cursor', (q) =>
    listMessages(q, a, conversationId, { limit: 100, before: latest.nextCursor! }),
  );
  await time('customers, first page', (q) => listCustomers(q, a, { limit: 50 }));
  await time('customers, search by name', (q) =>
    listCustomers(q, a, { limit: 50, search: searchPatterns('Customer 4242', 'SA') }),
  );
  await time('conversations, search message text', (q) =>
    listConversations(q, a, { limit: 50, search: searchPatterns('0a1b', 'SA') }),
  );
  const counted = await db.query(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'active')::int AS active,
            sum(unread_count)::int AS unread FROM conversations WHERE tenant_id = $1`,
    [a],
  );
  print(
    `counters ${JSON.stringify(await conversationStats(db, a))}, COUNT ${JSON.stringify(counted.rows[0])}`,
  );
} finally {
  await db.close();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
