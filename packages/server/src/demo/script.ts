/**
 * One customer's conversation as the events its bot sends, with when each happens. The history
 * sends them backdated; the live simulator plays them out (faster). Both use the same script, so
 * two weeks ago looks like today.
 */
import { createHash } from 'node:crypto';
import type { SyncEventName } from '@syncdeck/core';
import type { EventData } from '@syncdeck/sdk';
import {
  between,
  type DemoCustomer,
  LINES,
  OPERATORS,
  pick,
  type Restaurant,
  type Rng,
} from './restaurants.ts';

const MINUTE = 60_000;

export type Track = 'chat' | 'order';

export interface ScriptEvent<E extends SyncEventName = SyncEventName> {
  /** Milliseconds after the conversation's first message. */
  at: number;
  /**
   * The order's statuses go on whatever happens in the chat; the chat's events after an
   * escalation that waits for a person (`gated`) go only once someone resolved it.
   */
  track: Track;
  gated?: boolean;
  event: E;
  data: EventData<E>;
}

export type ConversationKind = 'order' | 'cancelled' | 'question';
/** `operator`: a named operator answers and resolves it; `waits`: it stays open for a person. */
export type EscalationMode = 'none' | 'operator' | 'waits';

export interface Script {
  restaurant: Restaurant;
  customer: DemoCustomer;
  events: ScriptEvent[];
  /** Sent once the chat and the order are both done. */
  close: ScriptEvent<'conversation.closed'>;
  orderId: string | null;
  /** The order's total, when it is not cancelled. */
  revenue: number;
}

export interface ScriptOptions {
  kind: ConversationKind;
  escalation: EscalationMode;
  /** Makes message ids and the order id: the same key makes the same ids. */
  key: string;
  orderNumber: string;
  rng: Rng;
}

export function identifierOf(customer: DemoCustomer) {
  return customer.channel === 'whatsapp'
    ? { whatsapp_phone: customer.id }
    : { telegram_chat_id: customer.id };
}

export function botOf(restaurant: Restaurant, customer: DemoCustomer) {
  return customer.channel === 'whatsapp'
    ? { whatsapp_number: restaurant.whatsappNumber }
    : { telegram_bot_id: restaurant.telegramBotId };
}

/** The events a message takes: who the customer is (on their messages), then the message. */
export function messageEvents(
  restaurant: Restaurant,
  customer: DemoCustomer,
  direction: 'IN' | 'OUT',
  content: string,
  waSid: string,
  metadata?: Record<string, unknown>,
): { [E in 'customer.seen' | 'message.created']: { event: E; data: EventData<E> } }[
  | 'customer.seen'
  | 'message.created'][] {
  const identifier = identifierOf(customer);
  return [
    ...(direction === 'IN'
      ? [
          {
            event: 'customer.seen' as const,
            data: {
              ...identifier,
              display_name: customer.name,
              primary_channel: customer.channel,
              preferred_language: customer.language,
            },
          },
        ]
      : []),
    {
      event: 'message.created' as const,
      data: {
        customer_identifier: identifier,
        customer_name: customer.name,
        bot: botOf(restaurant, customer),
        direction,
        content,
        ...(customer.channel === 'whatsapp' ? { wa_sid: waSid } : {}),
        ...(metadata ? { metadata } : {}),
      },
    },
  ];
}

/** A stable provider message id for a key: a re-sent history message is stored once. */
export function waSidFor(key: string): string {
  return `SM${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

/**
 * A whole conversation: a greeting and an order (or a question), the order's statuses over the
 * following hour, sometimes a late order escalated to a person, then the close.
 */
export function writeScript(restaurant: Restaurant, customer: DemoCustomer, options: ScriptOptions): Script {
  const { rng, key } = options;
  const lang = customer.language;
  const events: ScriptEvent[] = [];
  let messages = 0;
  let at = 0;
  const say = (
    track: Track,
    direction: 'IN' | 'OUT',
    content: string,
    extra: { gated?: boolean; metadata?: Record<string, unknown> } = {},
  ) => {
    const sid = waSidFor(`${key}:${messages++}`);
    for (const e of messageEvents(restaurant, customer, direction, content, sid, extra.metadata)) {
      events.push({ at, track, ...(extra.gated ? { gated: true } : {}), ...e } as ScriptEvent);
    }
  };
  const later = (min: number, max: number) => {
    at += between(min, max, rng);
  };

  say('chat', 'IN', options.kind === 'question' ? pick(LINES.question[lang], rng) : LINES.hello[lang]);
  later(15_000, 50_000);
  let orderId: string | null = null;
  let revenue = 0;
  if (options.kind === 'question') {
    say('chat', 'OUT', LINES.answer[lang]);
    later(1 * MINUTE, 3 * MINUTE);
    say('chat', 'IN', LINES.thanks[lang]);
    later(5 * MINUTE, 15 * MINUTE);
  } else {
    say('chat', 'OUT', LINES.welcome[lang](restaurant));
    later(40_000, 3 * MINUTE);
    const items = [pick(restaurant.menu, rng), pick(restaurant.menu, rng)].filter(
      (item, i, all) => all.indexOf(item) === i,
    );
    const amounts = items.map(() => between(1, 2, rng));
    const total = items.reduce((sum, item, i) => sum + item.price * amounts[i]!, 0);
    const itemText = items
      .map((item, i) => (amounts[i]! > 1 ? `${amounts[i]} × ${item[lang]}` : item[lang]))
      .join(lang === 'ar' ? ' و' : ' and ');
    say('chat', 'IN', LINES.want[lang](itemText));
    later(8_000, 25_000);
    say('chat', 'OUT', LINES.summary[lang](itemText, `${total} ${restaurant.currency[lang]}`));
    later(20_000, 90_000);
    say('chat', 'IN', LINES.yes[lang]);
    later(5_000, 15_000);
    orderId = `${restaurant.slug}-${createHash('sha256').update(key).digest('hex').slice(0, 10)}`;
    const syrveId = orderId;
    events.push({
      at,
      track: 'order',
      event: 'order.created',
      data: {
        customer_identifier: identifierOf(customer),
        syrve_order_id: syrveId,
        external_number: options.orderNumber,
        items: items.map((item, i) => ({ name: item[lang], amount: amounts[i]!, price: item.price })),
        total,
        delivery_address: lang === 'ar' ? 'حي النخيل، شارع ١٢' : '12 Palm Street',
        payment_method: pick(['cash', 'card', 'card', 'apple_pay'], rng),
        restaurant: restaurant.name,
        channel: customer.channel,
      },
    });
    say('order', 'OUT', LINES.confirmed[lang](options.orderNumber));
    const status = (s: 'confirmed' | 'cooking' | 'delivering' | 'delivered' | 'cancelled', line?: string) => {
      events.push({
        at,
        track: 'order',
        event: 'order.status',
        data: { syrve_order_id: syrveId, status: s },
      });
      if (line) say('order', 'OUT', line);
    };
    later(1 * MINUTE, 4 * MINUTE);
    status('confirmed');
    if (options.kind === 'cancelled') {
      later(1 * MINUTE, 3 * MINUTE);
      say('chat', 'IN', LINES.cancel[lang]);
      later(20_000, 60_000);
      status('cancelled', LINES.cancelled[lang]);
      later(2 * MINUTE, 8 * MINUTE);
    } else {
      revenue = total;
      later(3 * MINUTE, 8 * MINUTE);
      status('cooking', LINES.cooking[lang]);
      later(12 * MINUTE, 22 * MINUTE);
      status('delivering', LINES.delivering[lang]);
      const deliveringAt = at;
      if (options.escalation !== 'none') {
        // The order is late: the customer asks for a person while it is on its way.
        later(15 * MINUTE, 22 * MINUTE);
        say('chat', 'IN', LINES.human[lang]);
        events.push({
          at,
          track: 'chat',
          event: 'escalation.created',
          data: {
            customer_identifier: identifierOf(customer),
            reason: 'Customer asked for a human: the order is late',
            metadata: { channel: customer.channel, demo_customer: customer.id },
          },
        });
        later(10_000, 30_000);
        say('chat', 'OUT', LINES.handoff[lang]);
        const gated = options.escalation === 'waits';
        if (!gated) events.push(...operatorAnswer(restaurant, customer, rng, at, key, messages++));
        at = events.at(-1)!.at;
        later(1 * MINUTE, 3 * MINUTE);
        say('chat', 'IN', LINES.thanks[lang], { gated });
      }
      at = Math.max(at, deliveringAt + between(options.escalation === 'none' ? 15 : 32, 40, rng) * MINUTE);
      status('delivered', LINES.delivered[lang]);
      later(3 * MINUTE, 15 * MINUTE);
    }
  }
  events.sort((a, b) => a.at - b.at);
  const close: ScriptEvent<'conversation.closed'> = {
    at: Math.max(at, events.at(-1)!.at),
    track: 'chat',
    event: 'conversation.closed',
    data: { customer_identifier: identifierOf(customer), bot: botOf(restaurant, customer) },
  };
  return { restaurant, customer, events, close, orderId, revenue };
}

/**
 * A named operator answers the customer, then resolves the escalation: what the demo's own staff
 * do in the history, and live for an escalation nobody in the dashboard took for a long time.
 */
export function operatorAnswer(
  restaurant: Restaurant,
  customer: DemoCustomer,
  rng: Rng,
  from: number,
  key: string,
  messageIndex: number,
): ScriptEvent[] {
  const operator = pick(OPERATORS[customer.language], rng);
  const answeredAt = from + between(1, 6, rng) * MINUTE;
  const message = messageEvents(
    restaurant,
    customer,
    'OUT',
    LINES.operator[customer.language](operator),
    waSidFor(`${key}:${messageIndex}`),
    { sender: 'operator', operator_name: operator },
  ).map((e) => ({ at: answeredAt, track: 'chat' as const, ...e }) as ScriptEvent);
  return [
    ...message,
    {
      at: answeredAt + between(1, 4, rng) * MINUTE,
      track: 'chat',
      event: 'escalation.resolved',
      data: {
        customer_identifier: identifierOf(customer),
        resolution_summary: 'Told the customer when the delivery arrives',
        metadata: { operator_name: operator },
      },
    },
  ];
}
