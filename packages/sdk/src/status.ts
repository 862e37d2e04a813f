import type { OrderStatus } from '@syncdeck/core';

/**
 * The statuses an `order.status` event carries (`created` is what `order.created` sets).
 *
 * @example
 * ```ts
 * const next: OrderStatusUpdate = 'delivering';
 * ```
 */
export type OrderStatusUpdate = Exclude<OrderStatus, 'created'>;

const SYRVE_STATUSES: Record<string, OrderStatusUpdate> = {
  Confirmed: 'confirmed',
  CookingStarted: 'cooking',
  OnWay: 'delivering',
  Delivered: 'delivered',
  Closed: 'delivered',
  Cancelled: 'cancelled',
};

/**
 * Maps a Syrve (iiko) order status to Syncdeck's, with the seed's table: `Confirmed` → confirmed,
 * `CookingStarted` → cooking, `OnWay` → delivering, `Delivered` and `Closed` → delivered,
 * `Cancelled` → cancelled; anything else → confirmed.
 *
 * @example
 * ```ts
 * sync.orderStatus({ syrve_order_id: orderId, status: mapSyrveStatus(webhook.status) });
 * ```
 */
export function mapSyrveStatus(syrveStatus: string): OrderStatusUpdate {
  return Object.hasOwn(SYRVE_STATUSES, syrveStatus) ? SYRVE_STATUSES[syrveStatus]! : 'confirmed';
}
