import { z } from 'zod';
import { orderStatuses } from './constants.ts';

/** A calendar day, `YYYY-MM-DD`, in the time zone the overview was asked for. */
export const isoDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD')
  .refine((value) => {
    // Date.parse rolls 2026-02-30 over into March: a real date survives the round trip.
    const at = Date.parse(`${value}T00:00:00Z`);
    return !Number.isNaN(at) && new Date(at).toISOString().slice(0, 10) === value;
  }, 'must be a real date');

const ordersByStatus = z
  .record(z.enum(orderStatuses), z.number().int())
  .describe('Orders created that day, by their current status');

export const overviewDaySchema = z.object({
  date: isoDateSchema,
  conversations: z.number().int().describe('Conversations opened that day'),
  messages: z.number().int().describe('Messages sent or received that day'),
  orders: z.number().int().describe('Orders created that day'),
  revenue: z.number().describe('Sum of the totals of the orders created that day, cancelled ones left out'),
  ordersByStatus,
});
export type OverviewDay = z.infer<typeof overviewDaySchema>;

export const overviewSchema = z.object({
  range: z.object({ from: isoDateSchema, to: isoDateSchema, tz: z.string(), today: isoDateSchema }),
  cards: z.object({
    conversationsToday: z.number().int(),
    activeConversations: z.number().int(),
    unreadMessages: z.number().int(),
    openEscalations: z.number().int(),
    ordersToday: z.number().int(),
    revenueToday: z.number(),
  }),
  days: z.array(overviewDaySchema).describe('One entry per day of the range, oldest first, zeros included'),
  ordersByStatus: z
    .record(z.enum(orderStatuses), z.number().int())
    .describe('Orders created in the range, by their current status'),
});
export type Overview = z.infer<typeof overviewSchema>;
