import {
  type Customer,
  type CustomerProfile,
  PROFILE_LIST_LIMIT,
  TIMELINE_LIMIT,
  type TimelineEntry,
} from '@syncdeck/core';
import type { Queryable } from '../db/index.ts';
import { sqlParams } from '../db/params.ts';
import {
  decodeCursor,
  type Page,
  sqlFromMicros,
  sqlMicros,
  timeKeySchema,
  toPage,
} from '../lib/pagination.ts';
import { iso } from '../lib/time.ts';
import { customerEscalations, customerOrders } from '../orders/index.ts';
import {
  type ConversationRow,
  type CustomerRow,
  conversationObject,
  customerObject,
} from '../ingest/index.ts';
import { CONVERSATION_COLUMNS } from '../ingest/index.ts';
import { customerSearchText, type SearchPatterns } from './search.ts';

export interface CustomerFilter {
  search?: SearchPatterns | undefined;
  limit: number;
  cursor?: string | undefined;
}

/**
 * Newest customers first, keyset by (created_at, id). Sorting by a column no event updates
 * keeps the pages stable while customers are active and keeps ingest's customer updates HOT.
 */
export async function listCustomers(
  q: Queryable,
  tenantId: string,
  filter: CustomerFilter,
): Promise<Page<Customer>> {
  const { params, param } = sqlParams(tenantId);
  const where = ['c.tenant_id = $1'];
  if (filter.search) {
    const text = customerSearchText('c');
    where.push(`(${text} ILIKE ${param(filter.search.text)} OR ${text} ILIKE ${param(filter.search.phone)})`);
  }
  if (filter.cursor) {
    const [micros, id] = decodeCursor(filter.cursor, timeKeySchema);
    where.push(`(c.created_at, c.id) < (${sqlFromMicros(param(micros))}, ${param(id)}::uuid)`);
  }
  const result = await q.query<CustomerRow & { sort_us: number }>(
    `SELECT c.*, ${sqlMicros('c.created_at')} AS sort_us FROM customers c
     WHERE ${where.join(' AND ')} ORDER BY c.created_at DESC, c.id DESC LIMIT ${param(filter.limit + 1)}`,
    params,
  );
  return toPage(
    result.rows,
    filter.limit,
    ({ sort_us: _, ...row }) => customerObject(row),
    (row) => [row.sort_us, row.id],
  );
}

/**
 * Everything about one customer. The timeline is assembled from the rows themselves, not
 * from the change feed: the feed is pruned after the retention window, the rows are not.
 */
export async function customerProfile(
  q: Queryable,
  tenantId: string,
  id: string,
): Promise<CustomerProfile | null> {
  const customer = await q.query<CustomerRow>('SELECT * FROM customers WHERE tenant_id = $1 AND id = $2', [
    tenantId,
    id,
  ]);
  const row = customer.rows[0];
  if (!row) return null;
  const [identities, channels, conversations, orders, escalations, timeline, totals] = await Promise.all([
    q.query<{ kind: string; value: string }>(
      'SELECT kind, value FROM customer_identities WHERE tenant_id = $1 AND customer_id = $2 ORDER BY kind, value',
      [tenantId, id],
    ),
    q.query<{ channel: 'whatsapp' | 'telegram' | 'web' }>(
      `SELECT DISTINCT b.channel FROM conversations c JOIN bots b ON b.tenant_id = c.tenant_id AND b.id = c.bot_id
       WHERE c.tenant_id = $1 AND c.customer_id = $2 ORDER BY b.channel`,
      [tenantId, id],
    ),
    q.query<ConversationRow>(
      `SELECT ${CONVERSATION_COLUMNS} FROM conversations c
       JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id
       WHERE c.tenant_id = $1 AND c.customer_id = $2
       ORDER BY COALESCE(c.last_message_at, c.created_at) DESC, c.id DESC LIMIT $3`,
      [tenantId, id, PROFILE_LIST_LIMIT],
    ),
    customerOrders(q, tenantId, id, PROFILE_LIST_LIMIT),
    customerEscalations(q, tenantId, id, PROFILE_LIST_LIMIT),
    customerTimeline(q, tenantId, id),
    q.query<{ orders: number; spent: number; open_escalations: number }>(
      `SELECT
         (SELECT count(*)::int FROM orders WHERE tenant_id = $1 AND customer_id = $2) AS orders,
         (SELECT COALESCE(sum(total), 0) FROM orders
           WHERE tenant_id = $1 AND customer_id = $2 AND status <> 'cancelled') AS spent,
         (SELECT count(*)::int FROM escalations
           WHERE tenant_id = $1 AND customer_id = $2 AND status = 'open') AS open_escalations`,
      [tenantId, id],
    ),
  ]);
  const sums = totals.rows[0]!;
  return {
    ...customerObject(row),
    identities: identities.rows,
    channels: channels.rows.map((r) => r.channel),
    conversations: conversations.rows.map(conversationObject),
    orders,
    escalations,
    timeline,
    totals: { orders: sums.orders, spent: sums.spent, openEscalations: sums.open_escalations },
  };
}

async function customerTimeline(q: Queryable, tenantId: string, id: string): Promise<TimelineEntry[]> {
  const result = await q.query<{
    type: TimelineEntry['type'];
    at: Date;
    entity_id: string;
    detail: string | null;
  }>(
    `SELECT type, at, entity_id, detail FROM (
       SELECT 'customer.first_seen' AS type, first_seen_at AS at, id AS entity_id, NULL::text AS detail
         FROM customers WHERE tenant_id = $1 AND id = $2
       UNION ALL
       SELECT 'conversation.started', created_at, id, NULL FROM conversations WHERE tenant_id = $1 AND customer_id = $2
       UNION ALL
       SELECT 'conversation.closed', closed_at, id, NULL FROM conversations
         WHERE tenant_id = $1 AND customer_id = $2 AND closed_at IS NOT NULL
       UNION ALL
       SELECT 'order.created', created_at, id, COALESCE(external_number, syrve_order_id) FROM orders
         WHERE tenant_id = $1 AND customer_id = $2
       UNION ALL
       SELECT 'order.status', h.occurred_at, o.id, h.status FROM orders o
         JOIN order_status_history h ON h.tenant_id = o.tenant_id AND h.syrve_order_id = o.syrve_order_id
         WHERE o.tenant_id = $1 AND o.customer_id = $2
       UNION ALL
       SELECT 'escalation.opened', opened_at, id, reason FROM escalations WHERE tenant_id = $1 AND customer_id = $2
       UNION ALL
       SELECT 'escalation.resolved', resolved_at, id, resolution_summary FROM escalations
         WHERE tenant_id = $1 AND customer_id = $2 AND resolved_at IS NOT NULL
     ) entries
     ORDER BY at DESC, type LIMIT $3`,
    [tenantId, id, TIMELINE_LIMIT],
  );
  return result.rows.map((entry) => ({
    type: entry.type,
    at: iso(entry.at),
    entityId: entry.entity_id,
    detail: entry.detail,
  }));
}
