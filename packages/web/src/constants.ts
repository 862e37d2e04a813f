import type { OrderStatus, RowFilter, WebhookLog } from '@syncdeck/core';

/*
 * Lists the wire contract also holds at run time. Importing them from @syncdeck/core would
 * bring zod into the bundle, so they are repeated here and the compiler checks they match.
 */
export const orderStatuses = [
  'created',
  'confirmed',
  'cooking',
  'delivering',
  'delivered',
  'cancelled',
] as const satisfies readonly OrderStatus[];

type Missing = Exclude<OrderStatus, (typeof orderStatuses)[number]>;
export const orderStatusesComplete: [Missing] extends [never] ? true : never = true;

export const webhookLogResults = [
  'applied',
  'ignored',
  'duplicate',
  'staged',
  'rejected',
  'failed',
] as const satisfies readonly WebhookLog['result'][];
type MissingResult = Exclude<WebhookLog['result'], (typeof webhookLogResults)[number]>;
export const webhookLogResultsComplete: [MissingResult] extends [never] ? true : never = true;

export const filterOps = [
  'eq',
  'ne',
  'lt',
  'lte',
  'gt',
  'gte',
  'contains',
  'isnull',
  'notnull',
] as const satisfies readonly RowFilter['op'][];
type MissingOp = Exclude<RowFilter['op'], (typeof filterOps)[number]>;
export const filterOpsComplete: [MissingOp] extends [never] ? true : never = true;
