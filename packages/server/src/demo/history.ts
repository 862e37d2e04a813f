/**
 * Two weeks of a restaurant's past, sent once through the SDK with backdated `occurred_at`, so
 * the Overview's charts and the lists have something to show from the first minute.
 */
import type { Conversation, SyncEventName } from '@syncdeck/core';
import type { EventData, SyncClient } from '@syncdeck/sdk';
import type { DemoApi } from './api.ts';
import { type DemoCustomer, pickWeighted, type Restaurant, seededRng } from './restaurants.ts';
import { type ConversationKind, type Script, type ScriptEvent, writeScript } from './script.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const HISTORY_DAYS = 14;

/** Orders by local hour: a lunch peak, a bigger dinner peak, a few night owls. */
const HOUR_WEIGHTS: Record<number, number> = {
  0: 0.5,
  1: 0.2,
  10: 0.5,
  11: 2,
  12: 6,
  13: 8,
  14: 5,
  15: 2,
  16: 1.5,
  17: 2,
  18: 4,
  19: 7,
  20: 9,
  21: 8,
  22: 5,
  23: 2,
};
const HOURS = Object.entries(HOUR_WEIGHTS).map(([hour, weight]) => ({ hour: Number(hour), weight }));
/** Thursday and Friday nights are the Gulf's weekend rush. */
const WEEKDAY_FACTOR = [1, 0.95, 0.95, 1, 1.25, 1.4, 1.15];

export interface DayPlan {
  /** The restaurant's local date, `YYYY-MM-DD`. */
  date: string;
  scripts: { script: Script; start: number; key: string }[];
}

/** The restaurant's local date `daysAgo` days before `now`. */
function localDate(restaurant: Restaurant, now: number, daysAgo: number): string {
  return new Date(now + restaurant.utcOffsetHours * HOUR - daysAgo * DAY).toISOString().slice(0, 10);
}

/**
 * One local day's conversations, drawn from a generator seeded by the restaurant and the date:
 * the same day always plans the same conversations with the same ids, so a history sent again
 * after an interrupted first start is stored once. Only conversations over by `now` are kept.
 */
export function planDay(restaurant: Restaurant, date: string, now: number, trend: number): DayPlan {
  const rng = seededRng(`${restaurant.slug}:${date}`);
  const midnight = Date.parse(`${date}T00:00:00Z`) - restaurant.utcOffsetHours * HOUR;
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
  const orders = Math.round(
    restaurant.ordersPerDay * WEEKDAY_FACTOR[weekday]! * trend * (0.85 + 0.3 * rng()),
  );
  const questions = Math.round(orders * 0.12);
  const starts: { start: number; kind: ConversationKind }[] = [];
  for (let i = 0; i < orders + questions; i++) {
    const { hour } = pickWeighted(HOURS, rng);
    const kind: ConversationKind = i >= orders ? 'question' : rng() < 0.06 ? 'cancelled' : 'order';
    starts.push({ start: midnight + hour * HOUR + Math.floor(rng() * HOUR), kind });
  }
  starts.sort((a, b) => a.start - b.start);
  // Each customer once a day: their conversations never overlap.
  let free: DemoCustomer[] = [...restaurant.customers];
  const scripts: DayPlan['scripts'] = [];
  starts.forEach(({ start, kind }, i) => {
    const customer = pickWeighted(free, rng);
    free = free.filter((c) => c !== customer);
    const key = `${restaurant.slug}:${date}:${i}`;
    const escalation = kind === 'order' && rng() < 0.1 ? 'operator' : 'none';
    const orderNumber = `${date.slice(5, 7)}${date.slice(8, 10)}${String(i + 1).padStart(2, '0')}`;
    const script = writeScript(restaurant, customer, { kind, escalation, key, orderNumber, rng });
    if (start + script.close.at <= now) scripts.push({ script, start, key });
  });
  return { date, scripts };
}

/**
 * The last hour's late orders whose customers asked for a person and are still waiting: the
 * Escalations screen has someone to help on the first visit. Their customers have no other
 * conversation today; events after `now` are left to the live simulator.
 */
export function planWaiting(restaurant: Restaurant, today: DayPlan, now: number, count: number) {
  const rng = seededRng(`${restaurant.slug}:${today.date}:waiting`);
  const busy = new Set(today.scripts.map((s) => s.script.customer));
  const free = restaurant.customers.filter((c) => !busy.has(c));
  const waiting: DayPlan['scripts'] = [];
  for (let i = 0; i < count && free.length > 0; i++) {
    const customer = free.splice(Math.floor(rng() * free.length), 1)[0]!;
    const key = `${restaurant.slug}:${today.date}:waiting:${i}`;
    const script = writeScript(restaurant, customer, {
      kind: 'order',
      escalation: 'waits',
      key,
      orderNumber: `${today.date.slice(5, 7)}${today.date.slice(8, 10)}9${i}`,
      rng,
    });
    const escalatedAt = script.events.find((e) => e.event === 'escalation.created')!.at;
    waiting.push({ script, start: now - escalatedAt - (6 + i * 11 + Math.floor(rng() * 6)) * 60_000, key });
  }
  return waiting;
}

interface Outgoing {
  event: SyncEventName;
  data: EventData<SyncEventName>;
  at: number;
  id: string;
}

/**
 * A day's events in the order the server should see them: every conversation's events by time,
 * then all their closes together. A close splits the server's batch (it is applied alone), so
 * closes in a row keep the rest of the day in one set-based segment; no customer has two
 * conversations in a day, so none of their messages can land in another's conversation.
 */
function dayEvents(scripts: DayPlan['scripts'], now: number, withCloses: boolean): Outgoing[] {
  const events: Outgoing[] = [];
  const closes: Outgoing[] = [];
  for (const { script, start, key } of scripts) {
    script.events.forEach((e: ScriptEvent, n) => {
      if (!e.gated && start + e.at <= now)
        events.push({ event: e.event, data: e.data, at: start + e.at, id: `demo:${key}:${n}` });
    });
    closes.push({
      event: 'conversation.closed',
      data: script.close.data,
      at: start + script.close.at,
      id: `demo:${key}:close`,
    });
  }
  events.sort((a, b) => a.at - b.at);
  return withCloses ? [...events, ...closes] : events;
}

export interface HistoryResult {
  events: number;
  orders: number;
  rejected: number;
  ms: number;
}

/**
 * Sends a restaurant's last two weeks, newest day first, and the customers still waiting for a
 * person last. Newest first, so the oldest day arriving is what says the history is complete
 * (see `hasHistory`). One request carries up to 1,000 events.
 */
export async function sendHistory(options: {
  restaurant: Restaurant;
  /** A client of its own, with batches of 1,000 and room for every event in its queue. */
  sync: SyncClient;
  now: number;
  waitingEscalations: number;
  /** Multiplies the orders a day (a test sends fewer). Default 1. */
  volume?: number;
}): Promise<HistoryResult> {
  const began = Date.now();
  const { restaurant, now } = options;
  const days = Array.from({ length: HISTORY_DAYS }, (_, daysAgo) =>
    planDay(
      restaurant,
      localDate(restaurant, now, daysAgo),
      now,
      (options.volume ?? 1) * (1 - daysAgo * 0.008),
    ),
  );
  const waiting = planWaiting(restaurant, days[0]!, now, options.waitingEscalations);
  const outgoing = [
    ...days.flatMap((day) => dayEvents(day.scripts, now, true)),
    ...dayEvents(waiting, now, false),
  ];
  const { sync } = options;
  for (const e of outgoing) sync.send(e.event, e.data, { eventId: e.id, occurredAt: new Date(e.at) });
  await sync.flush({ timeoutMs: 300_000 });
  const stats = await sync.close();
  return {
    events: outgoing.length,
    orders: days.reduce((n, day) => n + day.scripts.filter((s) => s.script.orderId).length, 0),
    rejected: stats.rejected + stats.failed + stats.dropped,
    ms: Date.now() - began,
  };
}

/**
 * The staff read their messages at the time: once the history is in, its closed conversations
 * are marked read as an operator would (`POST …/read`), leaving unread only what is new.
 */
export async function readHistory(api: DemoApi): Promise<number> {
  const unread: string[] = [];
  for (let offset = 0; ; offset += 200) {
    const page = await api.get<Conversation[]>(
      `/api/db/conversations?status=closed&limit=200&offset=${offset}`,
    );
    unread.push(...page.filter((c) => c.unreadCount > 0).map((c) => c.id));
    if (page.length < 200) break;
  }
  let next = 0;
  const worker = async () => {
    while (next < unread.length) await api.post(`/api/db/conversations/${unread[next++]}/read`);
  };
  await Promise.all([worker(), worker(), worker()]);
  return unread.length;
}
