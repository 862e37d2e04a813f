import { PREPARED, type Queryable } from '../db/index.ts';
import type { BatchOutcome } from './store.ts';
import type { PreparedEvent } from './prepare.ts';
import { type OrderRow, orderObject } from './shapes.ts';
import { type FeedEntry, recordChange } from '../feed/index.ts';

type OrderCreated = Extract<PreparedEvent, { name: 'order.created' }>;
type OrderStatus = Extract<PreparedEvent, { name: 'order.status' }>;

const ORDER_FIELDS = [
  'tenant_id',
  'id',
  'syrve_order_id',
  'customer_id',
  'external_number',
  'items',
  'total',
  'delivery_address',
  'payment_method',
  'restaurant',
  'channel',
  'status',
  'status_at',
  'created_at',
  'updated_at',
];

const orderKey = (tenantId: string, syrveOrderId: string) => `${tenantId}\u0000${syrveOrderId}`;

/**
 * Creates the orders of a batch's `order.created` events in one statement. The same
 * `syrve_order_id` twice, in the batch or already stored, is one order: the later events are
 * duplicates. Statuses that arrived before their order apply at once: the latest one newer
 * than the order's own time.
 */
export async function createOrders(
  tx: Queryable,
  events: PreparedEvent[],
  indexes: number[],
  customerOf: Map<number, string>,
  outcomes: (BatchOutcome | undefined)[],
  feed: FeedEntry[],
): Promise<void> {
  const firstOf = new Map<string, number>();
  for (const index of indexes) {
    const { tenantId, data } = events[index] as OrderCreated;
    const key = orderKey(tenantId, data.syrve_order_id);
    if (firstOf.has(key)) outcomes[index] = { status: 'duplicate' };
    else firstOf.set(key, index);
  }
  if (firstOf.size === 0) return;
  const list = [...firstOf.values()].map((index) => ({ index, event: events[index] as OrderCreated }));
  const result = await tx.query<OrderRow>(
    `INSERT INTO orders (tenant_id, syrve_order_id, customer_id, external_number, items, total, delivery_address,
       payment_method, restaurant, channel, status, status_at, created_at)
     SELECT w.tenant_id, w.syrve_order_id, w.customer_id, w.external_number, w.items, w.total, w.delivery_address,
       w.payment_method, w.restaurant, w.channel, COALESCE(h.status, 'created'), COALESCE(h.occurred_at, w.at), w.at
     FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::jsonb[], $6::numeric[], $7::text[], $8::text[],
                 $9::text[], $10::text[], $11::timestamptz[])
       AS w(tenant_id, syrve_order_id, customer_id, external_number, items, total, delivery_address, payment_method,
            restaurant, channel, at)
     LEFT JOIN LATERAL (
       SELECT status, occurred_at FROM order_status_history h
       WHERE h.tenant_id = w.tenant_id AND h.syrve_order_id = w.syrve_order_id AND h.occurred_at > w.at
       ORDER BY h.occurred_at DESC LIMIT 1) h ON true
     ON CONFLICT (tenant_id, syrve_order_id) DO NOTHING RETURNING ${ORDER_FIELDS.join(', ')}`,
    [
      list.map(({ event }) => event.tenantId),
      list.map(({ event }) => event.data.syrve_order_id),
      list.map(({ index }) => customerOf.get(index)),
      list.map(({ event }) => event.data.external_number ?? null),
      list.map(({ event }) => JSON.stringify(event.data.items)),
      list.map(({ event }) => event.data.total ?? null),
      list.map(({ event }) => event.data.delivery_address ?? null),
      list.map(({ event }) => event.data.payment_method ?? null),
      list.map(({ event }) => event.data.restaurant ?? null),
      list.map(({ event }) => event.data.channel ?? null),
      list.map(({ event }) => event.occurredAt),
    ],
    PREPARED,
  );
  const created = new Map(result.rows.map((row) => [orderKey(row.tenant_id, row.syrve_order_id), row]));
  for (const [key, index] of firstOf) {
    const order = created.get(key);
    outcomes[index] = { status: order ? 'accepted' : 'duplicate' };
    if (order) recordChange(feed, 'order.created', orderObject(order));
  }
}

/**
 * Records a batch's `order.status` events in the history and moves each order to the latest
 * of them by event time, in one statement. A status older than the order's current one is
 * history only: a late update never overwrites a newer one. A status for an order not yet
 * created waits in the history for it.
 */
export async function applyOrderStatuses(
  tx: Queryable,
  events: PreparedEvent[],
  indexes: number[],
  outcomes: (BatchOutcome | undefined)[],
  feed: FeedEntry[],
): Promise<void> {
  if (indexes.length === 0) return;
  const list = indexes.map((index) => events[index] as OrderStatus);
  const result = await tx.query<OrderRow>(
    `WITH reported AS (
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) WITH ORDINALITY
         AS r(tenant_id, syrve_order_id, status, occurred_at, n)),
     history AS (
       INSERT INTO order_status_history (tenant_id, syrve_order_id, status, occurred_at)
       SELECT tenant_id, syrve_order_id, status, occurred_at FROM reported),
     latest AS (
       SELECT DISTINCT ON (tenant_id, syrve_order_id) * FROM reported
       ORDER BY tenant_id, syrve_order_id, occurred_at DESC, n DESC)
     UPDATE orders o SET status = l.status, status_at = l.occurred_at, updated_at = now()
     FROM latest l
     WHERE o.tenant_id = l.tenant_id AND o.syrve_order_id = l.syrve_order_id
       AND o.status_at <= l.occurred_at AND o.status IS DISTINCT FROM l.status
     RETURNING ${ORDER_FIELDS.map((field) => `o.${field}`).join(', ')}`,
    [
      list.map((event) => event.tenantId),
      list.map((event) => event.data.syrve_order_id),
      list.map((event) => event.data.status),
      list.map((event) => event.occurredAt),
    ],
    PREPARED,
  );
  for (const index of indexes) outcomes[index] = { status: 'accepted' };
  for (const order of result.rows) recordChange(feed, 'order.updated', orderObject(order));
}
