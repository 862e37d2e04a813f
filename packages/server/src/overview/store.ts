import { type Overview, type OrderStatus, orderStatuses } from '@syncdeck/core';
import type { Queryable } from '../db/index.ts';
import { conversationStats } from '../conversations/index.ts';

export interface OverviewRange {
  /** First day, `YYYY-MM-DD`, inclusive. */
  from: string;
  /** Last day, inclusive. */
  to: string;
  /** IANA time zone the days are counted in. */
  tz: string;
  /** Today in `tz`, for the cards. */
  today: string;
}

/** Every day from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let at = Date.parse(`${from}T00:00:00Z`); at <= end; at += 86_400_000) {
    days.push(new Date(at).toISOString().slice(0, 10));
  }
  return days;
}

// A day's bounds in the zone: local midnight as an instant, to the next local midnight.
const START = '($2::date)::timestamp AT TIME ZONE $4::text';
const END = '($3::date + 1)::timestamp AT TIME ZONE $4::text';
const DAY = (column: string) => `to_char((${column} AT TIME ZONE $4::text)::date, 'YYYY-MM-DD')`;

function zeroStatuses(): Record<OrderStatus, number> {
  return Object.fromEntries(orderStatuses.map((status) => [status, 0])) as Record<OrderStatus, number>;
}

/**
 * Cards and per-day series of one tenant. Each series is one index range scan grouped by
 * local day (conversations_created_idx, messages_created_idx, orders_created_idx); the
 * active and unread cards come from the conversation counters.
 */
export async function readOverview(q: Queryable, tenantId: string, range: OverviewRange): Promise<Overview> {
  const params = [tenantId, range.from, range.to, range.tz];
  const todayParams = [tenantId, range.today, range.today, range.tz];
  const [conversations, messages, orders, today, stats] = await Promise.all([
    q.query<{ day: string; n: number }>(
      `SELECT ${DAY('created_at')} AS day, count(*)::int AS n FROM conversations
       WHERE tenant_id = $1 AND created_at >= ${START} AND created_at < ${END} GROUP BY 1`,
      params,
    ),
    q.query<{ day: string; n: number }>(
      `SELECT ${DAY('created_at')} AS day, count(*)::int AS n FROM messages
       WHERE tenant_id = $1 AND created_at >= ${START} AND created_at < ${END} GROUP BY 1`,
      params,
    ),
    q.query<{ day: string; status: OrderStatus; n: number; revenue: number }>(
      `SELECT ${DAY('created_at')} AS day, status, count(*)::int AS n,
              COALESCE(sum(total) FILTER (WHERE status <> 'cancelled'), 0)::float8 AS revenue
       FROM orders WHERE tenant_id = $1 AND created_at >= ${START} AND created_at < ${END} GROUP BY 1, 2`,
      params,
    ),
    q.query<{ conversations: number; orders: number; revenue: number; escalations: number }>(
      `SELECT
         (SELECT count(*)::int FROM conversations
           WHERE tenant_id = $1 AND created_at >= ${START} AND created_at < ${END}) AS conversations,
         (SELECT count(*)::int FROM orders
           WHERE tenant_id = $1 AND created_at >= ${START} AND created_at < ${END}) AS orders,
         (SELECT COALESCE(sum(total) FILTER (WHERE status <> 'cancelled'), 0)::float8 FROM orders
           WHERE tenant_id = $1 AND created_at >= ${START} AND created_at < ${END}) AS revenue,
         (SELECT count(*)::int FROM escalations WHERE tenant_id = $1 AND status = 'open') AS escalations`,
      todayParams,
    ),
    conversationStats(q, tenantId),
  ]);

  const days = daysBetween(range.from, range.to).map((date) => ({
    date,
    conversations: 0,
    messages: 0,
    orders: 0,
    revenue: 0,
    ordersByStatus: zeroStatuses(),
  }));
  const byDate = new Map(days.map((day) => [day.date, day]));
  for (const row of conversations.rows) {
    const day = byDate.get(row.day);
    if (day) day.conversations = row.n;
  }
  for (const row of messages.rows) {
    const day = byDate.get(row.day);
    if (day) day.messages = row.n;
  }
  const totals = zeroStatuses();
  for (const row of orders.rows) {
    const day = byDate.get(row.day);
    if (!day) continue;
    day.orders += row.n;
    day.revenue += row.revenue;
    day.ordersByStatus[row.status] = row.n;
    totals[row.status] += row.n;
  }
  for (const day of days) day.revenue = Math.round(day.revenue * 100) / 100;
  const cards = today.rows[0]!;
  return {
    range: { from: range.from, to: range.to, tz: range.tz, today: range.today },
    cards: {
      conversationsToday: cards.conversations,
      activeConversations: Number(stats.activeConversations),
      unreadMessages: Number(stats.totalUnread),
      openEscalations: cards.escalations,
      ordersToday: cards.orders,
      revenueToday: Math.round(cards.revenue * 100) / 100,
    },
    days,
    ordersByStatus: totals,
  };
}
