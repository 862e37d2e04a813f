import type { OrderStatus } from '@syncdeck/core';

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
