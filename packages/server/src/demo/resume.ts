/** What a previous run of the demo left half-way, picked up when it starts again. */
import type { Conversation, Escalation, Order } from '@syncdeck/core';
import { demoCustomersById } from './api.ts';
import type { LiveDemo, Story } from './live.ts';
import { between, type DemoCustomer, LINES, type Restaurant } from './restaurants.ts';
import { botOf, identifierOf, type ScriptEvent } from './script.ts';

const UNFINISHED = ['created', 'confirmed', 'cooking', 'delivering'] as const;

/**
 * A previous run's leftovers: customers still waiting for a person keep waiting, unfinished
 * orders move on (or, when stale, finish now), and other conversations left open are closed.
 */
export async function resume(live: LiveDemo, restaurant: Restaurant): Promise<void> {
  const { api, sync } = live.clients.get(restaurant)!;
  const people = await demoCustomersById(api, restaurant);
  live.people.set(restaurant, people);
  const now = Date.now();
  const open = await api.all<Escalation>('/api/escalations?status=open');
  live.openCount.set(restaurant, open.length);
  for (const escalation of open) {
    const customer = people.get(escalation.customerId);
    if (customer) adoptWaiting(live, restaurant, customer, escalation, now);
  }
  // Only the demo's own orders (its bots name them `<slug>-<10 hex>`, as earlier versions did).
  const demoOrder = new RegExp(`^${restaurant.slug}-[0-9a-f]{10}$`);
  for (const status of UNFINISHED) {
    for (const order of await api.all<Order>(`/api/orders?status=${status}`)) {
      if (demoOrder.test(order.syrveOrderId))
        resumeOrder(live, restaurant, order, people.get(order.customerId) ?? null, now);
    }
  }
  const active = await api.get<Conversation[]>('/api/db/conversations?status=active&limit=200');
  const busy = new Set([...live.stories].map((s) => s.customer));
  for (const conversation of active) {
    const customer = people.get(conversation.customerId);
    if (customer && !busy.has(customer)) sync.conversationClosed({ conversation_id: conversation.id });
  }
}

/**
 * A customer already waiting for a person when the demo took over (left by a previous run, or
 * by the history, whose last events may still be landing when play starts): once somebody
 * resolves their escalation they thank them, and their conversation closes.
 */
export function adoptWaiting(
  live: LiveDemo,
  restaurant: Restaurant,
  customer: DemoCustomer,
  escalation: Escalation,
  now: number,
): void {
  const story = live.story(restaurant, customer);
  story.escalation = {
    since: Date.parse(escalation.openedAt),
    patience: between(...live.timing.patienceMs),
    ackAt: 0,
    taken: false,
    resolved: false,
  };
  const thanks = live.say(restaurant, customer, 'IN', LINES.thanks[customer.language]);
  story.pending.push(...thanks.map((e) => ({ ...e, at: now, after: live.scaled(90_000), gated: true })));
  story.close = { customer_identifier: identifierOf(customer), bot: botOf(restaurant, customer) };
}

function resumeOrder(
  live: LiveDemo,
  restaurant: Restaurant,
  order: Order,
  customer: DemoCustomer | null,
  now: number,
) {
  const stale = now - Date.parse(order.statusAt) > live.timing.staleOrderMs;
  const from = UNFINISHED.indexOf(order.status as (typeof UNFINISHED)[number]);
  // An order nobody confirmed hours ago was not going to be; the others reach the customer.
  const next: ('confirmed' | 'cooking' | 'delivering' | 'delivered' | 'cancelled')[] =
    stale && order.status === 'created'
      ? ['cancelled']
      : (['confirmed', 'cooking', 'delivering', 'delivered'] as const).slice(from);
  const story: Story = customer
    ? live.story(restaurant, customer)
    : { restaurant, customer: null, pending: [], close: null, escalation: null, order: null };
  const events: ScriptEvent[] = [];
  let at = 0;
  for (const status of next) {
    at += stale ? between(2_000, 10_000) : between(3, 12) * 60_000;
    events.push({
      at,
      track: 'order',
      event: 'order.status',
      data: { syrve_order_id: order.syrveOrderId, status },
    });
    const line = status === 'confirmed' ? null : LINES[status][customer?.language ?? 'en'];
    if (customer && line)
      events.push(...live.say(restaurant, customer, 'OUT', line).map((e) => ({ ...e, at })));
  }
  story.order = { number: order.externalNumber ?? order.syrveOrderId, total: order.total ?? 0 };
  live.schedule(story, events, now);
  if (customer)
    story.close ??= { customer_identifier: identifierOf(customer), bot: botOf(restaurant, customer) };
  live.stories.add(story);
}
