import type { Escalation, EscalationWithCustomer, Order, OrderWithCustomer } from '@syncdeck/core';
import type { Queryable } from '../db/index.ts';
import { sqlParams } from '../db/params.ts';
import { whatsappAddress } from '../lib/phones.ts';
import { iso } from '../lib/time.ts';
import {
  decodeCursor,
  type Page,
  sqlFromMicros,
  sqlMicros,
  timeKeySchema,
  toPage,
} from '../lib/pagination.ts';
import type { PreparedEvent } from '../ingest/index.ts';
import { type EscalationRow, escalationObject, type OrderRow, orderObject } from '../ingest/index.ts';
import { applyEscalations } from '../ingest/index.ts';
import { appendFeed, type FeedEntry } from '../feed/index.ts';

const ORDER_COLUMNS = `o.tenant_id, o.id, o.syrve_order_id, o.customer_id, o.external_number, o.items, o.total,
  o.delivery_address, o.payment_method, o.restaurant, o.channel, o.status, o.status_at, o.created_at, o.updated_at`;

/** The customer's name and phones beside an order or escalation `x` (joined as `cu`). */
const CUSTOMER_COLUMNS =
  'cu.display_name AS customer_name, cu.whatsapp_phone AS customer_whatsapp, cu.phone AS customer_phone';
const JOIN_CUSTOMER = (x: string) =>
  `JOIN customers cu ON cu.tenant_id = ${x}.tenant_id AND cu.id = ${x}.customer_id`;

interface CustomerColumns {
  customer_name: string | null;
  customer_whatsapp: string | null;
  customer_phone: string | null;
}

function customerRef(row: CustomerColumns) {
  return {
    customerName: row.customer_name,
    customerPhone: whatsappAddress(row.customer_whatsapp) ?? row.customer_phone,
  };
}

type SortedOrderRow = OrderRow & CustomerColumns & { sort_us: number };

/** Orders with their status histories, in two queries whatever the number of orders. */
export async function withHistory(q: Queryable, tenantId: string, rows: OrderRow[]): Promise<Order[]> {
  if (rows.length === 0) return [];
  const history = await q.query<{ syrve_order_id: string; status: string; occurred_at: Date }>(
    `SELECT syrve_order_id, status, occurred_at FROM order_status_history
     WHERE tenant_id = $1 AND syrve_order_id = ANY($2::text[])
     ORDER BY occurred_at, received_at`,
    [tenantId, rows.map((row) => row.syrve_order_id)],
  );
  const bySyrveId = new Map<string, { status: string; occurredAt: string }[]>();
  for (const change of history.rows) {
    const list = bySyrveId.get(change.syrve_order_id) ?? [];
    list.push({ status: change.status, occurredAt: iso(change.occurred_at) });
    bySyrveId.set(change.syrve_order_id, list);
  }
  return rows.map((row) => ({ ...orderObject(row), statusHistory: bySyrveId.get(row.syrve_order_id) ?? [] }));
}

export interface OrderFilter {
  status?: string | undefined;
  /** Created at or after. */
  from?: Date | undefined;
  /** Created before. */
  to?: Date | undefined;
  customerId?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/**
 * Newest first by creation (the order's own time), keyset by (created_at, id), each with its
 * customer's name: the join only adds columns, so the keyset is the orders' own.
 */
export async function listOrders(
  q: Queryable,
  tenantId: string,
  filter: OrderFilter,
): Promise<Page<OrderWithCustomer>> {
  const { params, param } = sqlParams(tenantId);
  const where = ['o.tenant_id = $1'];
  if (filter.status) where.push(`o.status = ${param(filter.status)}`);
  if (filter.customerId) where.push(`o.customer_id = ${param(filter.customerId)}`);
  if (filter.from) where.push(`o.created_at >= ${param(filter.from)}`);
  if (filter.to) where.push(`o.created_at < ${param(filter.to)}`);
  if (filter.cursor) {
    const [micros, id] = decodeCursor(filter.cursor, timeKeySchema);
    where.push(`(o.created_at, o.id) < (${sqlFromMicros(param(micros))}, ${param(id)}::uuid)`);
  }
  const result = await q.query<SortedOrderRow>(
    `SELECT ${ORDER_COLUMNS}, ${CUSTOMER_COLUMNS}, ${sqlMicros('o.created_at')} AS sort_us
     FROM orders o ${JOIN_CUSTOMER('o')}
     WHERE ${where.join(' AND ')} ORDER BY o.created_at DESC, o.id DESC LIMIT ${param(filter.limit + 1)}`,
    params,
  );
  const page = toPage(
    result.rows,
    filter.limit,
    (row) => row,
    (row) => [row.sort_us, row.id],
  );
  return { data: await withCustomers(q, tenantId, page.data), nextCursor: page.nextCursor };
}

async function withCustomers(
  q: Queryable,
  tenantId: string,
  rows: (OrderRow & CustomerColumns)[],
): Promise<OrderWithCustomer[]> {
  const orders = await withHistory(q, tenantId, rows);
  return orders.map((order, i) => ({ ...order, ...customerRef(rows[i]!) }));
}

export async function getOrder(
  q: Queryable,
  tenantId: string,
  id: string,
): Promise<OrderWithCustomer | null> {
  const result = await q.query<OrderRow & CustomerColumns>(
    `SELECT ${ORDER_COLUMNS}, ${CUSTOMER_COLUMNS} FROM orders o ${JOIN_CUSTOMER('o')}
     WHERE o.tenant_id = $1 AND o.id = $2`,
    [tenantId, id],
  );
  const [order] = await withCustomers(q, tenantId, result.rows);
  return order ?? null;
}

/** A customer's newest orders, with their histories. */
export async function customerOrders(
  q: Queryable,
  tenantId: string,
  customerId: string,
  limit: number,
): Promise<Order[]> {
  const result = await q.query<OrderRow>(
    `SELECT ${ORDER_COLUMNS} FROM orders o WHERE o.tenant_id = $1 AND o.customer_id = $2
     ORDER BY o.created_at DESC, o.id DESC LIMIT $3`,
    [tenantId, customerId, limit],
  );
  return withHistory(q, tenantId, result.rows);
}

const ESCALATION_COLUMNS = `e.tenant_id, e.id, e.customer_id, e.conversation_id, e.status, e.reason, e.resolution_summary,
  e.resolved_by, e.metadata, e.opened_at, e.resolved_at`;

export interface EscalationFilter {
  status?: 'open' | 'resolved' | undefined;
  customerId?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** Newest first by when they were opened, keyset by (opened_at, id). */
export async function listEscalations(
  q: Queryable,
  tenantId: string,
  filter: EscalationFilter,
): Promise<Page<EscalationWithCustomer>> {
  const { params, param } = sqlParams(tenantId);
  const where = ['e.tenant_id = $1'];
  if (filter.status) where.push(`e.status = ${param(filter.status)}`);
  if (filter.customerId) where.push(`e.customer_id = ${param(filter.customerId)}`);
  if (filter.cursor) {
    const [micros, id] = decodeCursor(filter.cursor, timeKeySchema);
    where.push(`(e.opened_at, e.id) < (${sqlFromMicros(param(micros))}, ${param(id)}::uuid)`);
  }
  const result = await q.query<EscalationRow & CustomerColumns & { sort_us: number }>(
    `SELECT ${ESCALATION_COLUMNS}, ${CUSTOMER_COLUMNS}, ${sqlMicros('e.opened_at')} AS sort_us
     FROM escalations e ${JOIN_CUSTOMER('e')}
     WHERE ${where.join(' AND ')} ORDER BY e.opened_at DESC, e.id DESC LIMIT ${param(filter.limit + 1)}`,
    params,
  );
  return toPage(result.rows, filter.limit, escalationWithCustomer, (row) => [row.sort_us, row.id]);
}

function escalationWithCustomer(row: EscalationRow & CustomerColumns): EscalationWithCustomer {
  return { ...escalationObject(row), ...customerRef(row) };
}

export async function getEscalation(
  q: Queryable,
  tenantId: string,
  id: string,
): Promise<EscalationWithCustomer | null> {
  const result = await q.query<EscalationRow & CustomerColumns>(
    `SELECT ${ESCALATION_COLUMNS}, ${CUSTOMER_COLUMNS} FROM escalations e ${JOIN_CUSTOMER('e')}
     WHERE e.tenant_id = $1 AND e.id = $2`,
    [tenantId, id],
  );
  return result.rows[0] ? escalationWithCustomer(result.rows[0]) : null;
}

async function escalationRow(q: Queryable, tenantId: string, id: string, lock = false) {
  const result = await q.query<EscalationRow>(
    `SELECT ${ESCALATION_COLUMNS} FROM escalations e WHERE e.tenant_id = $1 AND e.id = $2${lock ? ' FOR UPDATE' : ''}`,
    [tenantId, id],
  );
  return result.rows[0] ?? null;
}

export async function customerEscalations(
  q: Queryable,
  tenantId: string,
  customerId: string,
  limit: number,
): Promise<Escalation[]> {
  const result = await q.query<EscalationRow>(
    `SELECT ${ESCALATION_COLUMNS} FROM escalations e WHERE e.tenant_id = $1 AND e.customer_id = $2
     ORDER BY e.opened_at DESC, e.id DESC LIMIT $3`,
    [tenantId, customerId, limit],
  );
  return result.rows.map(escalationObject);
}

/** Who acts: shown as `resolvedBy`, and kept with their kind and id in the escalation's metadata. */
export interface Operator {
  kind: 'apiKey' | 'user';
  id: string;
  name: string;
}

export type ResolveOutcome =
  | { status: 'resolved'; escalation: Escalation }
  | { status: 'not_found' }
  | { status: 'already_resolved'; escalation: Escalation };

/**
 * Resolves an open escalation as an operator. It runs the ingest's own `escalation.resolved`
 * path (ingest/escalations.ts) for the escalation's customer, so both ways write the same rows and
 * the same feed entries: the escalation resolved, the customer's active conversation given
 * back to the bot, `escalation.resolved` and `conversation.updated` appended in this
 * transaction. There is at most one open escalation per customer, and the row lock taken
 * here makes it this one.
 */
export async function resolveEscalation(
  tx: Queryable,
  tenantId: string,
  id: string,
  operator: Operator,
  resolutionSummary: string | undefined,
): Promise<ResolveOutcome> {
  const row = await escalationRow(tx, tenantId, id, true);
  if (!row) return { status: 'not_found' };
  if (row.status === 'resolved') return { status: 'already_resolved', escalation: escalationObject(row) };
  const event: Extract<PreparedEvent, { name: 'escalation.resolved' }> = {
    name: 'escalation.resolved',
    tenantId,
    eventId: null,
    occurredAt: new Date(),
    // The customer is passed by id below; the identifier is what an ingest event would have named them by.
    data: {
      customer_identifier: {},
      ...(resolutionSummary !== undefined ? { resolution_summary: resolutionSummary } : {}),
      metadata: { operator_name: operator.name, operator_kind: operator.kind, operator_id: operator.id },
    },
    customer: { identities: [], whatsappPhone: null, phone: null },
  };
  const feed: FeedEntry[] = [];
  await applyEscalations(tx, [event], [0], new Map([[0, row.customer_id]]), [], feed);
  await appendFeed(tx, feed);
  return { status: 'resolved', escalation: escalationObject((await escalationRow(tx, tenantId, id))!) };
}
