/**
 * The restaurants' day as it happens: customers write, orders move along, and a customer who
 * asks for a person waits until somebody resolves the escalation in the dashboard.
 */
import { randomBytes } from 'node:crypto';
import type { Escalation, SyncEventName } from '@syncdeck/core';
import type { EventData, SendOutcome, SyncClient, SyncdeckLogger } from '@syncdeck/sdk';
import { type DemoApi, demoCustomersById } from './api.ts';
import { adoptWaiting, resume } from './resume.ts';
import { between, type DemoCustomer, pick, type Restaurant } from './restaurants.ts';
import {
  type ConversationKind,
  messageEvents,
  operatorAnswer,
  type ScriptEvent,
  waSidFor,
  writeScript,
} from './script.ts';

export interface LiveTiming {
  /** Multiplies the scripts' real-world delays: 0.1 plays a 50-minute order in 5 minutes. */
  scale: number;
  /** How long an escalation waits for a person before the demo's own operator takes it. */
  patienceMs: [number, number];
  /** Open escalations per restaurant the demo's operator always leaves for a person. */
  keepOpen: number;
  /** No new escalation while a restaurant has this many open. */
  maxOpen: number;
  /** Conversations under way per restaurant (those waiting for a person not counted). */
  concurrency: number;
  escalationChance: number;
  tickMs: number;
  /** How often the open escalations are read, to see which a person resolved. */
  pollMs: number;
  /** An order left unfinished longer than this by a previous run is finished at once. */
  staleOrderMs: number;
}

export const DEFAULT_LIVE_TIMING: LiveTiming = {
  scale: 0.1,
  patienceMs: [20 * 60_000, 40 * 60_000],
  keepOpen: 2,
  maxOpen: 4,
  concurrency: 3,
  escalationChance: 0.25,
  tickMs: 250,
  pollMs: 3000,
  staleOrderMs: 2 * 3_600_000,
};

interface Pending {
  at: number;
  /** For a gated event: how long after the escalation's resolution it comes. */
  after: number;
  gated: boolean;
  event: SyncEventName;
  data: EventData<SyncEventName>;
}

export interface Story {
  restaurant: Restaurant;
  /** Null for an order of someone who is not one of the demo's people: only its statuses move. */
  customer: DemoCustomer | null;
  pending: Pending[];
  close: EventData<'conversation.closed'> | null;
  escalation: {
    since: number;
    patience: number;
    /** When the server stored it: a read begun after that which does not see it open means resolved. */
    ackAt: number | null;
    taken: boolean;
    resolved: boolean;
  } | null;
  order: { number: string; total: number } | null;
  /** Its script asks for a person later on. */
  escalates?: boolean;
}

/** What the live demo tells the row-sync side: an order was delivered or cancelled. */
export type OrderDone = (
  restaurant: Restaurant,
  order: { number: string; total: number; status: 'delivered' | 'cancelled'; customer: DemoCustomer | null },
) => void;

export class LiveDemo {
  readonly stories = new Set<Story>();
  readonly openCount = new Map<Restaurant, number>();
  readonly people = new Map<Restaurant, Map<string, DemoCustomer>>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private poller: ReturnType<typeof setInterval> | null = null;
  private orderCounter = Math.floor(Date.now() / 1000) % 100_000;
  private polling = false;
  private stopped = false;

  constructor(
    private readonly restaurants: Restaurant[],
    readonly clients: Map<Restaurant, { sync: SyncClient; api: DemoApi }>,
    readonly timing: LiveTiming,
    private readonly onOrderDone: OrderDone,
    private readonly logger: SyncdeckLogger,
  ) {}

  /** Picks up what a previous run left, then plays on. */
  async start(): Promise<void> {
    for (const restaurant of this.restaurants) await resume(this, restaurant);
    this.tick();
    this.timer = setInterval(() => this.tick(), this.timing.tickMs);
    this.timer.unref();
    this.poller = setInterval(() => void this.poll(), this.timing.pollMs);
    this.poller.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.poller) clearInterval(this.poller);
  }

  scaled(ms: number): number {
    return Math.round(ms * this.timing.scale);
  }

  story(restaurant: Restaurant, customer: DemoCustomer): Story {
    for (const s of this.stories) if (s.restaurant === restaurant && s.customer === customer) return s;
    const created: Story = { restaurant, customer, pending: [], close: null, escalation: null, order: null };
    this.stories.add(created);
    return created;
  }

  schedule(story: Story, events: ScriptEvent[], from: number, gateAt = 0) {
    for (const e of events) {
      const gated = Boolean(e.gated);
      story.pending.push({
        at: from + this.scaled(e.at),
        after: gated ? this.scaled(e.at - gateAt) : 0,
        gated,
        event: e.event,
        data: e.data,
      });
    }
    story.pending.sort((a, b) => a.at - b.at);
  }

  say(restaurant: Restaurant, customer: DemoCustomer, direction: 'IN' | 'OUT', content: string) {
    const sid = waSidFor(randomBytes(12).toString('hex'));
    return messageEvents(restaurant, customer, direction, content, sid).map(
      (e) => ({ at: 0, track: 'chat', ...e }) as ScriptEvent,
    );
  }

  private begin(restaurant: Restaurant) {
    const busy = new Set([...this.stories].map((s) => s.customer));
    const free = restaurant.customers.filter((c) => !busy.has(c));
    if (free.length === 0) return;
    const customer = pick(free);
    const roll = Math.random();
    const kind: ConversationKind = roll < 0.06 ? 'question' : roll < 0.1 ? 'cancelled' : 'order';
    // Open ones, and those of conversations that will ask for a person soon.
    const waiting = [...this.stories].filter(
      (s) => s.restaurant === restaurant && (s.escalates || s.escalation) && !s.escalation?.resolved,
    );
    const canEscalate = Math.max(this.openCount.get(restaurant) ?? 0, waiting.length) < this.timing.maxOpen;
    const escalation =
      kind === 'order' && canEscalate && Math.random() < this.timing.escalationChance ? 'waits' : 'none';
    const key = `${restaurant.slug}:live:${randomBytes(8).toString('hex')}`;
    const number = String(++this.orderCounter);
    const script = writeScript(restaurant, customer, {
      kind,
      escalation,
      key,
      orderNumber: number,
      rng: Math.random,
    });
    const story = this.story(restaurant, customer);
    const gateAt = script.events.find((e) => e.event === 'escalation.created')?.at ?? 0;
    this.schedule(story, script.events, Date.now(), gateAt);
    story.close = script.close.data;
    story.escalates = escalation === 'waits';
    story.order = script.orderId ? { number, total: script.revenue } : null;
  }

  private tick() {
    const now = Date.now();
    for (const restaurant of this.restaurants) {
      const running = [...this.stories].filter(
        (s) => s.restaurant === restaurant && !(s.escalation && !s.escalation.resolved),
      ).length;
      // New conversations start one at a time, so they do not all move in step.
      if (running < this.timing.concurrency && Math.random() < (running === 0 ? 1 : 0.3))
        this.begin(restaurant);
    }
    for (const story of this.stories) {
      const { sync } = this.clients.get(story.restaurant)!;
      while (story.pending.length > 0) {
        const next = story.pending.find((p) => !p.gated || story.escalation?.resolved);
        if (!next || next.at > now) break;
        story.pending.splice(story.pending.indexOf(next), 1);
        const sent = sync.send(next.event, next.data);
        this.after(story, next, now, sent);
      }
      if (story.pending.length === 0 && !(story.escalation && !story.escalation.resolved)) {
        if (story.close) sync.conversationClosed(story.close);
        this.stories.delete(story);
      }
    }
  }

  /** What an event sent sets off: an escalation starts waiting, a finished order is reported. */
  private after(story: Story, sent: Pending, now: number, outcome: Promise<SendOutcome>) {
    if (sent.event === 'escalation.created') {
      const escalation = {
        since: now,
        patience: between(...this.timing.patienceMs),
        ackAt: null as number | null,
        taken: false,
        resolved: false,
      };
      story.escalation = escalation;
      // Refused or given up, it never opened: the customer does not wait for nothing.
      void outcome.then((result) => {
        if (result.status === 'delivered') escalation.ackAt = Date.now();
        else escalation.resolved = true;
      });
    }
    if (sent.event === 'order.status') {
      const { status } = sent.data as EventData<'order.status'>;
      if ((status === 'delivered' || status === 'cancelled') && story.order) {
        this.onOrderDone(story.restaurant, { ...story.order, status, customer: story.customer });
      }
    }
  }

  /**
   * Reads each restaurant's open escalations: one that was open and is no more was resolved by
   * a person (or the demo's operator), and the customer's conversation goes on. One that waited
   * past its patience is answered by the demo's operator, unless it is among the last few open.
   */
  private async poll() {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      for (const restaurant of this.restaurants) {
        const asked = Date.now();
        const open = await this.clients
          .get(restaurant)!
          .api.get<{ data: Escalation[] }>('/api/escalations?status=open&limit=200');
        const known = this.people.get(restaurant)!;
        if (open.data.some((e) => !known.has(e.customerId))) {
          this.people.set(restaurant, await demoCustomersById(this.clients.get(restaurant)!.api, restaurant));
        }
        const people = this.people.get(restaurant)!;
        // An escalation no story knows (the history's last ones may land after play began).
        for (const escalation of open.data) {
          const person = people.get(escalation.customerId);
          if (person && ![...this.stories].some((s) => s.restaurant === restaurant && s.customer === person))
            adoptWaiting(this, restaurant, person, escalation, Date.now());
        }
        const waitingFor = new Set(open.data.map((e) => people.get(e.customerId)));
        let count = open.data.length;
        this.openCount.set(restaurant, count);
        const now = Date.now();
        for (const story of this.stories) {
          const escalation = story.escalation;
          if (story.restaurant !== restaurant || !escalation || escalation.resolved) continue;
          if (story.customer && waitingFor.has(story.customer)) {
            if (
              !escalation.taken &&
              now - escalation.since > escalation.patience &&
              count > this.timing.keepOpen
            ) {
              escalation.taken = true;
              count--;
              const key = randomBytes(8).toString('hex');
              const answer = operatorAnswer(restaurant, story.customer, Math.random, 0, key, 0);
              this.schedule(story, answer, now);
            }
          } else if (escalation.ackAt !== null && escalation.ackAt < asked) {
            // Stored before this read began and not open any more: somebody resolved it.
            escalation.resolved = true;
            for (const p of story.pending) if (p.gated) p.at = now + p.after;
            story.pending.sort((a, b) => a.at - b.at);
          }
        }
      }
    } catch (error) {
      this.logger.warn?.({ err: error }, 'demo: could not read the open escalations');
    } finally {
      this.polling = false;
    }
  }
}
