import type { Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable, QueryResult } from '../db/index.ts';
import { listCustomers } from '../customers/index.ts';
import { listEscalations, listOrders } from '../orders/index.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { ingest, message, newPhone } from '../testing/ingest.ts';
import { conversationStats, listConversations, listMessages } from './store.ts';

/*
 * The read queries must be answered from indexes in the order they return, whatever the
 * table sizes: these tests run each store function, capture its SQL, and check the plan.
 * Sequential scans are switched off so a tiny test table cannot hide a missing index; a
 * query an index cannot serve still plans a Sort or a Seq Scan and fails here.
 */

let t: TestApp;
let tenant: Tenant;
let conversationId: string;
let cursor: string;
let messageCursor: string;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant('plans');
  const ingestKey = (await t.createKey(tenant.id, ['ingest'])).token;
  const phone = newPhone();
  await ingest(t, ingestKey, [
    ...Array.from({ length: 5 }, (_, i) => message(newPhone(), `m${i}`, `2026-01-01T00:00:0${i}.000Z`)),
    ...Array.from({ length: 5 }, (_, i) => message(phone, `n${i}`, `2026-01-02T00:00:0${i}.000Z`)),
    {
      event: 'order.created',
      data: { customer_identifier: { whatsapp_phone: phone }, syrve_order_id: 'p-1' },
    },
    {
      event: 'order.created',
      data: { customer_identifier: { whatsapp_phone: phone }, syrve_order_id: 'p-2' },
    },
    { event: 'escalation.created', data: { customer_identifier: { whatsapp_phone: phone } } },
  ]);
  const page = await listConversations(t.db, tenant.id, { limit: 1 });
  conversationId = (JSON.parse(page.json) as { id: string }[])[0]!.id;
  cursor = page.nextCursor!;
  messageCursor = (await listMessages(t.db, tenant.id, conversationId, { limit: 1 }))!.nextCursor!;
});
afterAll(() => t.close());

/** Runs `work` against the database, keeping the SQL of its last query matching `pattern`. */
async function captured(pattern: RegExp, work: (q: Queryable) => Promise<unknown>) {
  let last: { sql: string; params: unknown[] } | null = null;
  const recorder: Queryable = {
    query<Row>(sql: string, params: unknown[] = []): Promise<QueryResult<Row>> {
      if (pattern.test(sql)) last = { sql, params };
      return t.db.query<Row>(sql, params);
    },
    exec: (sql) => t.db.exec(sql),
  };
  await work(recorder);
  if (!last) throw new Error(`no query matched ${pattern}`);
  return last as { sql: string; params: unknown[] };
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

async function plan(query: { sql: string; params: unknown[] }): Promise<PlanNode[]> {
  return t.db.transaction(async (tx) => {
    await tx.query('SET LOCAL enable_seqscan = off');
    await tx.query('SET LOCAL enable_sort = off');
    const result = await tx.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] | string }>(
      `EXPLAIN (FORMAT JSON) ${query.sql}`,
      query.params,
    );
    const raw = result.rows[0]!['QUERY PLAN'];
    const json = typeof raw === 'string' ? JSON.parse(raw) : raw;
    return nodes(json[0].Plan);
  });
}

function indexesUsed(planNodes: PlanNode[]): string[] {
  return planNodes.flatMap((n) => (n['Index Name'] ? [n['Index Name']] : []));
}

function expectIndexOrdered(planNodes: PlanNode[], index: string) {
  const types = planNodes.map((n) => n['Node Type']);
  expect(indexesUsed(planNodes)).toContain(index);
  expect(types).not.toContain('Sort');
  expect(types).not.toContain('Seq Scan');
}

describe('query plans', () => {
  it('lists conversations from the recency index, first page and deep cursor pages, with and without status', async () => {
    for (const filter of [
      { limit: 50 },
      { limit: 50, cursor },
      { limit: 50, offset: 100 },
      { limit: 50, cursor, botId: conversationId },
    ]) {
      const query = await captured(/FROM conversations c/, (q) => listConversations(q, tenant.id, filter));
      expectIndexOrdered(await plan(query), 'conversations_recent_idx');
    }
    for (const status of ['active', 'closed'] as const) {
      const query = await captured(/FROM conversations c/, (q) =>
        listConversations(q, tenant.id, { limit: 50, cursor, status }),
      );
      expectIndexOrdered(await plan(query), 'conversations_status_recent_idx');
    }
  });

  it("pages a conversation's messages from its index, forwards and backwards", async () => {
    for (const page of [
      { limit: 100 },
      { limit: 100, after: messageCursor },
      { limit: 100, before: messageCursor },
      { limit: 100, latest: true },
    ]) {
      const query = await captured(/FROM messages/, (q) => listMessages(q, tenant.id, conversationId, page));
      expectIndexOrdered(await plan(query), 'messages_conversation_idx');
    }
  });

  it('lists customers, orders and escalations from their indexes', async () => {
    const customers = await captured(/FROM customers c/, (q) => listCustomers(q, tenant.id, { limit: 50 }));
    expectIndexOrdered(await plan(customers), 'customers_created_idx');
    const orders = await captured(/FROM orders o/, (q) => listOrders(q, tenant.id, { limit: 50 }));
    expectIndexOrdered(await plan(orders), 'orders_created_idx');
    const byStatus = await captured(/FROM orders o/, (q) =>
      listOrders(q, tenant.id, { limit: 50, status: 'created', from: new Date('2026-01-01') }),
    );
    expectIndexOrdered(await plan(byStatus), 'orders_status_created_idx');
    const escalations = await captured(/FROM escalations e/, (q) =>
      listEscalations(q, tenant.id, { limit: 50, status: 'open' }),
    );
    expectIndexOrdered(await plan(escalations), 'escalations_status_opened_idx');
  });

  it('answers stats from the counters alone, never touching conversations', async () => {
    const query = await captured(/conversation_stats/, (q) => conversationStats(q, tenant.id));
    const relations = (await plan(query)).flatMap((n) => (n['Relation Name'] ? [n['Relation Name']] : []));
    expect(relations).toEqual(['conversation_stats']);
  });
});
