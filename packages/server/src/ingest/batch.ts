import { randomUUID } from 'node:crypto';
import { PREPARED, type Queryable } from '../db/index.ts';
import { applyEscalations } from './escalations.ts';
import { applyOrderStatuses, createOrders } from './orders.ts';
import {
  type BotRef,
  type CustomerRef,
  EventRejected,
  type Identity,
  type PreparedEvent,
} from './prepare.ts';
import {
  type ConversationRow,
  type CustomerRow,
  customerObject,
  type MessageRow,
  messageObject,
} from './shapes.ts';
import { type FeedEntry, recordChange } from '../feed/index.ts';
import {
  type BatchOutcome,
  applyEventBody,
  CONVERSATION_COLUMNS,
  type OneByOneEvent,
  pushConversation,
  selectBoth,
} from './store.ts';

type MessageEvent = Extract<PreparedEvent, { name: 'message.created' }>;
/** Events that name a bot: messages, and a conversation.closed that names its conversation by bot. */
type WithBot = { tenantId: string; eventId: string | null; bot: BotRef };
/** The events whose customer is resolved set-based (a conversation.closed only when it names one). */
type WithCustomer = Extract<PreparedEvent, { customer: CustomerRef }>;
/** The customer columns events fill; the set-based merge updates them all in one statement. */
const CUSTOMER_FIELDS = [
  'display_name',
  'phone',
  'whatsapp_phone',
  'telegram_chat_id',
  'telegram_topic_id',
  'telegram_group_id',
  'syrve_customer_id',
  'web_session_id',
  'primary_channel',
  'preferred_language',
  'trust_level',
] as const;
type CustomerField = (typeof CUSTOMER_FIELDS)[number];

const key = (...parts: string[]) => parts.join('\u0000');

/** A message row's columns, as MessageRow has them. */
const MESSAGE_FIELDS = [
  'tenant_id',
  'id',
  'conversation_id',
  'direction',
  'message_type',
  'content',
  'media_url',
  'wa_sid',
  'metadata',
  'created_at',
] as const;

/**
 * Applies a batch in one transaction with set-based SQL: the event ids, bots, customers,
 * conversations and messages of all its `message.created` and `customer.seen` events take a
 * fixed number of statements whatever the batch's size. The rarer events (orders,
 * escalations) follow one by one, in order; a `conversation.closed` splits the batch, so a
 * message after it opens a new conversation exactly as it would have alone.
 */
export async function applyBatch(
  tx: Queryable,
  events: PreparedEvent[],
  feed: FeedEntry[],
): Promise<BatchOutcome[]> {
  const outcomes: (BatchOutcome | undefined)[] = new Array(events.length);
  const lookup = await recordIdsAndLookUp(tx, events, outcomes);
  const fresh = events.map((_, index) => index).filter((index) => outcomes[index] === undefined);
  let segment: number[] = [];
  const flush = async () => {
    if (segment.length > 0) await applySegment(tx, events, segment, outcomes, feed, lookup);
    segment = [];
  };
  for (const index of fresh) {
    const event = events[index]!;
    if (event.name === 'conversation.closed') {
      await flush();
      const customerOf = event.customer
        ? await resolveCustomers(tx, events, [index], feed, lookup.take())
        : new Map<number, string>();
      let botId: string | undefined;
      if (!event.data.conversation_id && event.bot) {
        botId = (await resolveBots(tx, events, [index], outcomes, null)).get(index);
        if (outcomes[index]) continue; // an unknown bot id: rejected, its event id freed
      }
      outcomes[index] = await applyOne(tx, event, feed, customerOf.get(index), botId);
    } else {
      segment.push(index);
    }
  }
  await flush();
  // Array.from, not map: map would skip the holes of a sparse array.
  return Array.from(outcomes, (outcome) => outcome ?? { status: 'accepted' });
}

/** What the batch's first statement found, keyed as `key(...)` builds keys. */
interface Found {
  /** Bots named by id that exist in their tenant. */
  botIds: Set<string>;
  /** Bot ids by tenant, channel and address. */
  botsByAddress: Map<string, string>;
  /** Customer ids by tenant, identity kind and value. */
  identityOwners: Map<string, string>;
}

/**
 * The batch's bots and the owners of its customers' identities, as they were before the batch
 * wrote anything. Only the first segment may use them: after that the batch's own writes have
 * made them stale, and the lookups query again.
 */
class BatchLookup {
  private used = false;
  constructor(private readonly found: Found) {}

  /** The first caller gets what was found; later ones get null and look it up themselves. */
  take(): Found | null {
    if (this.used) return null;
    this.used = true;
    return this.found;
  }
}

/**
 * Records every event id and looks up the batch's bots and customer identities, all in one
 * statement: each round trip inside the writer's transaction costs latency. Duplicates get
 * their outcome; the others stay undefined.
 */
async function recordIdsAndLookUp(
  tx: Queryable,
  events: PreparedEvent[],
  outcomes: (BatchOutcome | undefined)[],
): Promise<BatchLookup> {
  const firstOfId = new Map<string, number>();
  events.forEach((event, index) => {
    if (!event.eventId) return;
    const id = key(event.tenantId, event.eventId);
    if (firstOfId.has(id)) outcomes[index] = { status: 'duplicate' };
    else firstOfId.set(id, index);
  });
  const ids = [...firstOfId.values()];
  const messages = events.filter((event): event is MessageEvent => event.name === 'message.created');
  const byId = messages.filter((event) => event.bot.id);
  const byAddress = messages.filter((event) => !event.bot.id);
  const identities = events.flatMap((event) =>
    'customer' in event && event.customer
      ? event.customer.identities.map((identity) => ({ tenantId: event.tenantId, identity }))
      : [],
  );
  // JSON rows: a, b, c are the columns each list needs, all text.
  type Rows = { tenant_id: string; a: string; b: string; c: string }[];
  const result = await tx.query<{ fresh: Rows; bots_by_id: Rows; bots_by_address: Rows; identities: Rows }>(
    `WITH fresh AS (
       INSERT INTO idempotency_keys (tenant_id, event_id)
       SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT DO NOTHING RETURNING tenant_id, event_id)
     SELECT
       (SELECT coalesce(json_agg(json_build_object('tenant_id', tenant_id, 'a', event_id)), '[]') FROM fresh) AS fresh,
       (SELECT coalesce(json_agg(json_build_object('tenant_id', b.tenant_id, 'a', b.id)), '[]')
        FROM bots b JOIN unnest($3::uuid[], $4::uuid[]) AS w(tenant_id, id)
        ON b.tenant_id = w.tenant_id AND b.id = w.id) AS bots_by_id,
       (SELECT coalesce(json_agg(json_build_object('tenant_id', b.tenant_id, 'a', b.channel, 'b', b.address, 'c', b.id)), '[]')
        FROM bots b JOIN unnest($5::uuid[], $6::text[], $7::text[]) AS w(tenant_id, channel, address)
        ON b.tenant_id = w.tenant_id AND b.channel = w.channel AND b.address = w.address) AS bots_by_address,
       (SELECT coalesce(json_agg(json_build_object('tenant_id', i.tenant_id, 'a', i.kind, 'b', i.value, 'c', i.customer_id)), '[]')
        FROM customer_identities i JOIN unnest($8::uuid[], $9::text[], $10::text[]) AS w(tenant_id, kind, value)
        ON i.tenant_id = w.tenant_id AND i.kind = w.kind AND i.value = w.value) AS identities`,
    [
      ids.map((i) => events[i]!.tenantId),
      ids.map((i) => events[i]!.eventId),
      byId.map((event) => event.tenantId),
      byId.map((event) => event.bot.id),
      byAddress.map((event) => event.tenantId),
      byAddress.map((event) => event.bot.channel),
      byAddress.map((event) => event.bot.address),
      identities.map((i) => i.tenantId),
      identities.map((i) => i.identity.kind),
      identities.map((i) => i.identity.value),
    ],
    PREPARED,
  );
  const found = result.rows[0]!;
  const isFresh = new Set(found.fresh.map((row) => key(row.tenant_id, row.a)));
  for (const index of ids) {
    const event = events[index]!;
    if (!isFresh.has(key(event.tenantId, event.eventId!))) outcomes[index] = { status: 'duplicate' };
  }
  return new BatchLookup({
    botIds: new Set(found.bots_by_id.map((row) => key(row.tenant_id, row.a))),
    botsByAddress: new Map(found.bots_by_address.map((row) => [key(row.tenant_id, row.a, row.b), row.c])),
    identityOwners: new Map(found.identities.map((row) => [key(row.tenant_id, row.a, row.b), row.c])),
  });
}

async function applyOne(
  tx: Queryable,
  event: OneByOneEvent,
  feed: FeedEntry[],
  customerId: string | undefined,
  botId: string | undefined,
): Promise<BatchOutcome> {
  try {
    return { status: await applyEventBody(tx, event, feed, customerId, botId) };
  } catch (error) {
    if (error instanceof EventRejected) return { status: 'rejected', details: error.details };
    throw error;
  }
}

async function applySegment(
  tx: Queryable,
  events: PreparedEvent[],
  indexes: number[],
  outcomes: (BatchOutcome | undefined)[],
  feed: FeedEntry[],
  lookup: BatchLookup,
) {
  const found = lookup.take();
  const messages = indexes.filter((i) => events[i]!.name === 'message.created');
  const botOf = await resolveBots(tx, events, messages, outcomes, found);
  // Every event that names a customer has them resolved together, up front.
  const withCustomer = indexes.filter(
    (i) =>
      outcomes[i] === undefined &&
      events[i]!.name !== 'order.status' &&
      events[i]!.name !== 'conversation.closed',
  );
  const { customerOf, merge: mergeCustomers } = await identifyCustomers(tx, events, withCustomer, found);
  const liveMessages = messages.filter((i) => outcomes[i] === undefined);
  const named = (name: PreparedEvent['name']) => indexes.filter((i) => events[i]!.name === name);
  const escalations = indexes.filter(
    (i) => events[i]!.name === 'escalation.created' || events[i]!.name === 'escalation.resolved',
  );
  // None of these needs an answer another gives: sent without waiting for each other, they share
  // a round trip. The database still runs them in this order, so the conversations the messages
  // return carry the names the merge wrote.
  await Promise.all([
    mergeCustomers(feed),
    insertMessages(tx, events, liveMessages, botOf, customerOf, outcomes, feed),
    createOrders(tx, events, named('order.created'), customerOf, outcomes, feed),
    applyOrderStatuses(tx, events, named('order.status'), outcomes, feed),
  ]);
  // After the messages: an escalation switches the bot of the conversation they may have opened.
  await applyEscalations(tx, events, escalations, customerOf, outcomes, feed);
}

/**
 * The bots events name: by id they must exist (else the event is rejected and its id freed);
 * by address they are registered on first sight. At most three statements for all of them.
 */
async function resolveBots(
  tx: Queryable,
  events: PreparedEvent[],
  withBot: number[],
  outcomes: (BatchOutcome | undefined)[],
  found: Found | null,
): Promise<Map<number, string>> {
  const botOf = new Map<number, string>();
  const byId = withBot.filter((i) => (events[i] as WithBot).bot.id);
  if (byId.length > 0) {
    const known =
      found?.botIds ??
      new Set(
        (
          await tx.query<{ tenant_id: string; id: string }>(
            `SELECT b.tenant_id, b.id FROM bots b JOIN unnest($1::uuid[], $2::uuid[]) AS w(tenant_id, id)
             ON b.tenant_id = w.tenant_id AND b.id = w.id`,
            [byId.map((i) => events[i]!.tenantId), byId.map((i) => (events[i] as WithBot).bot.id)],
          )
        ).rows.map((row) => key(row.tenant_id, row.id)),
      );
    const refused: number[] = [];
    for (const index of byId) {
      const event = events[index] as WithBot;
      if (known.has(key(event.tenantId, event.bot.id!))) botOf.set(index, event.bot.id!);
      else {
        outcomes[index] = {
          status: 'rejected',
          details: [{ path: 'data.bot.id', message: 'no such bot in this tenant' }],
        };
        if (event.eventId) refused.push(index);
      }
    }
    await forgetEventIds(
      tx,
      refused.map((i) => events[i]!),
    );
  }
  const byAddress = withBot.filter((i) => !(events[i] as WithBot).bot.id);
  if (byAddress.length === 0) return botOf;
  const wanted = new Map<string, { tenantId: string; channel: string; address: string }>();
  for (const index of byAddress) {
    const { tenantId, bot } = events[index] as WithBot;
    wanted.set(key(tenantId, bot.channel!, bot.address!), {
      tenantId,
      channel: bot.channel!,
      address: bot.address!,
    });
  }
  const list = [...wanted.values()];
  const botKey = (row: { tenant_id: string; channel: string; address: string }) =>
    key(row.tenant_id, row.channel, row.address);
  const idOf = new Map<string, string>();
  const find = async (bots: typeof list) => {
    const found = await tx.query<{ tenant_id: string; channel: string; address: string; id: string }>(
      `SELECT b.tenant_id, b.channel, b.address, b.id FROM bots b
       JOIN unnest($1::uuid[], $2::text[], $3::text[]) AS w(tenant_id, channel, address)
       ON b.tenant_id = w.tenant_id AND b.channel = w.channel AND b.address = w.address`,
      [bots.map((b) => b.tenantId), bots.map((b) => b.channel), bots.map((b) => b.address)],
    );
    for (const row of found.rows) idOf.set(botKey(row), row.id);
  };
  const missing = () => list.filter((b) => !idOf.has(key(b.tenantId, b.channel, b.address)));
  if (found) {
    for (const b of list) {
      const id = found.botsByAddress.get(key(b.tenantId, b.channel, b.address));
      if (id) idOf.set(key(b.tenantId, b.channel, b.address), id);
    }
  } else {
    await find(list);
  }
  if (missing().length > 0) {
    // A sender that pushes before an admin registered it is registered on the spot.
    const unknown = missing();
    const registered = await tx.query<{ tenant_id: string; channel: string; address: string; id: string }>(
      `INSERT INTO bots (tenant_id, channel, address, name)
       SELECT tenant_id, channel, address, channel || ' ' || address FROM unnest($1::uuid[], $2::text[], $3::text[])
         AS w(tenant_id, channel, address)
       ON CONFLICT (tenant_id, channel, address) DO NOTHING RETURNING tenant_id, channel, address, id`,
      [unknown.map((b) => b.tenantId), unknown.map((b) => b.channel), unknown.map((b) => b.address)],
    );
    for (const row of registered.rows) idOf.set(botKey(row), row.id);
    // Another transaction registered some of them meanwhile: a new statement sees its rows.
    if (missing().length > 0) await find(missing());
  }
  for (const index of byAddress) {
    const { tenantId, bot } = events[index] as WithBot;
    botOf.set(index, idOf.get(key(tenantId, bot.channel!, bot.address!))!);
  }
  return botOf;
}

async function forgetEventIds(tx: Queryable, events: PreparedEvent[]) {
  if (events.length === 0) return;
  await tx.query(
    `DELETE FROM idempotency_keys k USING unnest($1::uuid[], $2::text[]) AS w(tenant_id, event_id)
     WHERE k.tenant_id = w.tenant_id AND k.event_id = w.event_id`,
    [events.map((e) => e.tenantId), events.map((e) => e.eventId)],
  );
}

function customerFields(event: WithCustomer): Partial<Record<CustomerField, string>> {
  // Only fields the event carries: in the fold below, an absent one must not erase an earlier value.
  const ref = event.customer;
  const fields: Partial<Record<CustomerField, string>> = {};
  if (ref.whatsappPhone) fields.whatsapp_phone = ref.whatsappPhone;
  if (ref.phone) fields.phone = ref.phone;
  for (const identity of ref.identities) {
    if (identity.kind === 'telegram') fields.telegram_chat_id = identity.value;
    if (identity.kind === 'syrve') fields.syrve_customer_id = identity.value;
    if (identity.kind === 'web') fields.web_session_id = identity.value;
  }
  if (event.name === 'message.created' && event.data.customer_name)
    fields.display_name = event.data.customer_name;
  if (event.name !== 'customer.seen') return fields;
  const data = event.data;
  for (const field of [
    'display_name',
    'telegram_topic_id',
    'telegram_group_id',
    'primary_channel',
    'preferred_language',
    'trust_level',
  ] as const) {
    const value = data[field];
    if (value !== undefined) fields[field] = value;
  }
  return fields;
}

/** Finds or creates the customers of many events at once, and merges into them what the events say. */
async function resolveCustomers(
  tx: Queryable,
  events: PreparedEvent[],
  indexes: number[],
  feed: FeedEntry[],
  found: Found | null,
): Promise<Map<number, string>> {
  const { customerOf, merge } = await identifyCustomers(tx, events, indexes, found);
  await merge(feed);
  return customerOf;
}

/**
 * Finds or creates the customers of many events at once. Within the batch, events naming
 * the same person share one new customer; across processes, the first identity row decides
 * who created a new customer, exactly as for a single event. `merge` then writes what the
 * events say about them (one statement); nothing else in the batch needs to wait for it.
 */
async function identifyCustomers(
  tx: Queryable,
  events: PreparedEvent[],
  indexes: number[],
  found: Found | null,
): Promise<{ customerOf: Map<number, string>; merge: (feed: FeedEntry[]) => Promise<void> }> {
  const customerOf = new Map<number, string>();
  if (indexes.length === 0) return { customerOf, merge: async () => {} };
  const identityKey = (tenantId: string, identity: Identity) => key(tenantId, identity.kind, identity.value);
  const allIdentities = new Map<string, { tenantId: string; identity: Identity }>();
  for (const index of indexes) {
    const event = events[index] as WithCustomer;
    for (const identity of event.customer.identities) {
      allIdentities.set(identityKey(event.tenantId, identity), { tenantId: event.tenantId, identity });
    }
  }
  const list = [...allIdentities.values()];
  const identityParams = [
    list.map((i) => i.tenantId),
    list.map((i) => i.identity.kind),
    list.map((i) => i.identity.value),
  ];
  const owner = new Map<string, string>();
  if (found) {
    for (const k of allIdentities.keys()) {
      const customerId = found.identityOwners.get(k);
      if (customerId) owner.set(k, customerId);
    }
  } else {
    const known = await tx.query<{ tenant_id: string; kind: string; value: string; customer_id: string }>(
      `SELECT i.tenant_id, i.kind, i.value, i.customer_id FROM customer_identities i
       JOIN unnest($1::uuid[], $2::text[], $3::text[]) AS w(tenant_id, kind, value)
       ON i.tenant_id = w.tenant_id AND i.kind = w.kind AND i.value = w.value`,
      identityParams,
    );
    for (const row of known.rows) owner.set(key(row.tenant_id, row.kind, row.value), row.customer_id);
  }

  // New people: one pending customer per person, claimed through their first identity.
  const pending = new Map<string, { tenantId: string; first: Identity; at: Date }>();
  for (const index of indexes) {
    const event = events[index] as WithCustomer;
    const keys = event.customer.identities.map((identity) => identityKey(event.tenantId, identity));
    let customerId = keys.map((k) => owner.get(k)).find(Boolean);
    if (!customerId) {
      customerId = randomUUID();
      pending.set(customerId, {
        tenantId: event.tenantId,
        first: event.customer.identities[0]!,
        at: event.occurredAt,
      });
    }
    for (const k of keys) if (!owner.has(k)) owner.set(k, customerId);
    customerOf.set(index, customerId);
  }
  const created = new Set<string>();
  if (pending.size > 0) {
    const claims = [...pending.entries()];
    // Each new person is claimed through their first identity and created in the same statement;
    // a claim another transaction won creates nothing.
    const claimed = await tx.query<{ customer_id: string }>(
      `WITH claimed AS (
         INSERT INTO customer_identities (tenant_id, kind, value, customer_id)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[])
         ON CONFLICT DO NOTHING RETURNING tenant_id, customer_id),
       made AS (
         INSERT INTO customers (tenant_id, id, first_seen_at, last_seen_at)
         SELECT w.tenant_id, w.id, w.at, w.at FROM unnest($1::uuid[], $4::uuid[], $5::timestamptz[]) AS w(tenant_id, id, at)
         JOIN claimed ON claimed.tenant_id = w.tenant_id AND claimed.customer_id = w.id
         RETURNING id)
       SELECT id AS customer_id FROM made`,
      [
        claims.map(([, p]) => p.tenantId),
        claims.map(([, p]) => p.first.kind),
        claims.map(([, p]) => p.first.value),
        claims.map(([id]) => id),
        claims.map(([, p]) => p.at),
      ],
      PREPARED,
    );
    for (const row of claimed.rows) created.add(row.customer_id);
    const lost = claims.filter(([id]) => !created.has(id));
    if (lost.length > 0) {
      // Another transaction created these people first: theirs are the customers.
      const winners = await tx.query<{ tenant_id: string; kind: string; value: string; customer_id: string }>(
        `SELECT i.tenant_id, i.kind, i.value, i.customer_id FROM customer_identities i
         JOIN unnest($1::uuid[], $2::text[], $3::text[]) AS w(tenant_id, kind, value)
         ON i.tenant_id = w.tenant_id AND i.kind = w.kind AND i.value = w.value`,
        [
          lost.map(([, p]) => p.tenantId),
          lost.map(([, p]) => p.first.kind),
          lost.map(([, p]) => p.first.value),
        ],
      );
      const winnerOf = new Map(
        winners.rows.map((row) => [key(row.tenant_id, row.kind, row.value), row.customer_id]),
      );
      const replace = new Map(lost.map(([id, p]) => [id, winnerOf.get(identityKey(p.tenantId, p.first))!]));
      for (const [index, id] of customerOf) if (replace.has(id)) customerOf.set(index, replace.get(id)!);
      for (const [k, id] of owner) if (replace.has(id)) owner.set(k, replace.get(id)!);
    }
  }

  // Fold each customer's events, oldest first: a newer value of a field wins, an absent one erases nothing.
  const merged = new Map<
    string,
    { tenantId: string; first: Date; last: Date; fields: Partial<Record<CustomerField, string>> }
  >();
  const byTime = [...indexes].sort(
    (a, b) => events[a]!.occurredAt.getTime() - events[b]!.occurredAt.getTime() || a - b,
  );
  for (const index of byTime) {
    const event = events[index] as WithCustomer;
    const id = customerOf.get(index)!;
    const entry = merged.get(id) ?? {
      tenantId: event.tenantId,
      first: event.occurredAt,
      last: event.occurredAt,
      fields: {},
    };
    entry.last = event.occurredAt;
    Object.assign(entry.fields, customerFields(event));
    merged.set(id, entry);
  }
  const rows = [...merged.entries()];
  const fieldArrays = CUSTOMER_FIELDS.map((field) => rows.map(([, m]) => m.fields[field] ?? null));
  // Identities seen for the first time join their customer (ones another customer holds stay
  // theirs), in the same statement as the merge.
  const identityArgs = CUSTOMER_FIELDS.length + 5;
  const merge = async (feed: FeedEntry[]) => {
    const result = await tx.query<CustomerRow & { changed: boolean }>(
      `WITH linked AS (
       INSERT INTO customer_identities (tenant_id, kind, value, customer_id)
       SELECT * FROM unnest($${identityArgs}::uuid[], $${identityArgs + 1}::text[], $${identityArgs + 2}::text[],
                            $${identityArgs + 3}::uuid[])
       ON CONFLICT DO NOTHING)
     UPDATE customers AS c SET
       ${CUSTOMER_FIELDS.map(
         (f) =>
           `${f} = CASE WHEN u.last_at >= old.last_seen_at THEN COALESCE(u.${f}, old.${f}) ELSE COALESCE(old.${f}, u.${f}) END`,
       ).join(',\n       ')},
       last_seen_at = GREATEST(old.last_seen_at, u.last_at),
       first_seen_at = LEAST(old.first_seen_at, u.first_at),
       updated_at = now()
     FROM customers AS old,
       unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[],
              ${CUSTOMER_FIELDS.map((_, i) => `$${i + 5}::text[]`).join(', ')})
       AS u(tenant_id, id, first_at, last_at, ${CUSTOMER_FIELDS.join(', ')})
     WHERE c.tenant_id = u.tenant_id AND c.id = u.id AND old.tenant_id = c.tenant_id AND old.id = c.id
     RETURNING c.*, (ROW(${CUSTOMER_FIELDS.map((f) => `old.${f}`).join(', ')}, old.last_seen_at)
       IS DISTINCT FROM ROW(${CUSTOMER_FIELDS.map((f) => `c.${f}`).join(', ')}, c.last_seen_at)) AS changed`,
      [
        rows.map(([, m]) => m.tenantId),
        rows.map(([id]) => id),
        rows.map(([, m]) => m.first),
        rows.map(([, m]) => m.last),
        ...fieldArrays,
        ...identityParams,
        list.map((i) => owner.get(identityKey(i.tenantId, i.identity))),
      ],
      PREPARED,
    );
    for (const { changed, ...customer } of result.rows) {
      if (changed || created.has(customer.id)) {
        recordChange(feed, 'customer.updated', customerObject(customer));
      }
    }
  };
  return { customerOf, merge };
}

/** A message about to be stored, with the conversation it belongs in named by its bot and customer. */
interface MessageRowDraft {
  index: number;
  id: string;
  botId: string;
  customerId: string;
  event: MessageEvent;
}

async function insertMessages(
  tx: Queryable,
  events: PreparedEvent[],
  indexes: number[],
  botOf: Map<number, string>,
  customerOf: Map<number, string>,
  outcomes: (BatchOutcome | undefined)[],
  feed: FeedEntry[],
) {
  // One row per provider message id: a redelivery inside the batch is a duplicate like any other.
  const seenSid = new Set<string>();
  let pending: MessageRowDraft[] = [];
  for (const index of indexes) {
    const event = events[index] as MessageEvent;
    if (event.data.wa_sid) {
      const sid = key(event.tenantId, event.data.wa_sid);
      if (seenSid.has(sid)) {
        outcomes[index] = { status: 'duplicate' };
        continue;
      }
      seenSid.add(sid);
    }
    pending.push({
      index,
      id: randomUUID(),
      botId: botOf.get(index)!,
      customerId: customerOf.get(index)!,
      event,
    });
  }
  // Most messages go to a conversation already active: the first round stores them in one
  // statement. The rest wait for their conversations to be opened, and go in the next round.
  // A conversation another transaction opened meanwhile is neither seen nor opened by
  // openConversations: the round after finds it.
  for (let round = 0; pending.length > 0; round++) {
    if (round === 4) throw new Error('could not find or open the conversations of a batch');
    if (round > 0) await openConversations(tx, pending);
    const placed = await insertIntoActiveConversations(tx, pending, outcomes, feed);
    pending = pending.filter((row) => !placed.has(row.id));
  }
}

/** Opens an active conversation for each bot and customer of `rows` that has none. */
async function openConversations(tx: Queryable, rows: MessageRowDraft[]) {
  const pairs = new Map<string, { tenantId: string; botId: string; customerId: string }>();
  for (const { event, botId, customerId } of rows) {
    pairs.set(key(event.tenantId, botId, customerId), { tenantId: event.tenantId, botId, customerId });
  }
  const wanted = [...pairs.values()];
  await tx.query(
    `INSERT INTO conversations (tenant_id, bot_id, customer_id)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS w(tenant_id, bot_id, customer_id)
     ON CONFLICT (tenant_id, bot_id, customer_id) WHERE status = 'active' DO NOTHING`,
    [wanted.map((p) => p.tenantId), wanted.map((p) => p.botId), wanted.map((p) => p.customerId)],
    PREPARED,
  );
}

/**
 * Stores the messages whose customer has an active conversation with their bot, and moves
 * those conversations' counters and previews, in one statement. The conversations come back as
 * the feed shows them (with the customer's name and phone); a message already stored (same
 * wa_sid) counts nothing and answers duplicate. Returns the ids of the messages placed (stored
 * or duplicate); the others have no active conversation yet.
 */
async function insertIntoActiveConversations(
  tx: Queryable,
  rows: MessageRowDraft[],
  outcomes: (BatchOutcome | undefined)[],
  feed: FeedEntry[],
): Promise<Set<string>> {
  const { first: conversations, second: placed } = await selectBoth<
    ConversationRow,
    MessageRow & { stored: boolean }
  >(
    tx,
    `batch AS (
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[],
                            $8::text[], $9::text[], $10::jsonb[], $11::timestamptz[]) WITH ORDINALITY
         AS b(tenant_id, id, bot_id, customer_id, direction, message_type, content, media_url, wa_sid, metadata,
              created_at, n)),
     placed AS (
       SELECT b.*, c.id AS conversation_id FROM batch b
       JOIN conversations c ON c.tenant_id = b.tenant_id AND c.bot_id = b.bot_id AND c.customer_id = b.customer_id
         AND c.status = 'active'),
     inserted AS (
       INSERT INTO messages (tenant_id, id, conversation_id, direction, message_type, content, media_url, wa_sid, metadata, created_at)
       SELECT tenant_id, id, conversation_id, direction, message_type, content, media_url, wa_sid, metadata, created_at FROM placed
       ON CONFLICT (tenant_id, wa_sid) WHERE wa_sid IS NOT NULL DO NOTHING
       RETURNING ${MESSAGE_FIELDS.join(', ')}),
     outcome AS (
       SELECT ${MESSAGE_FIELDS.join(', ')}, true AS stored FROM inserted
       UNION ALL
       SELECT ${MESSAGE_FIELDS.map((f) => (f === 'id' ? 'id' : 'NULL')).join(', ')}, false
       FROM placed WHERE id NOT IN (SELECT id FROM inserted)),
     touched AS (
       SELECT i.tenant_id, i.conversation_id AS id, max(i.created_at) AS last_at,
         (array_agg(i.content ORDER BY i.created_at DESC, b.n DESC))[1] AS preview,
         count(*) FILTER (WHERE i.direction = 'IN') AS unread, count(*) AS count
       FROM inserted i JOIN batch b ON b.id = i.id
       GROUP BY i.tenant_id, i.conversation_id),
     updated AS (
       UPDATE conversations c SET
         last_message_at = GREATEST(c.last_message_at, u.last_at),
         last_message_preview = CASE WHEN c.last_message_at IS NULL OR u.last_at >= c.last_message_at
                                     THEN left(u.preview, 200) ELSE c.last_message_preview END,
         unread_count = c.unread_count + u.unread,
         message_count = c.message_count + u.count,
         updated_at = now()
       FROM touched u
       WHERE c.tenant_id = u.tenant_id AND c.id = u.id
       RETURNING c.*),
     -- Joined to their customers only once updated: each conversation is found by its key, a
     -- plan that stays right while the tables' statistics are still those of empty tables.
     updated_rows AS (
       SELECT ${CONVERSATION_COLUMNS} FROM updated c
       JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id)`,
    'updated_rows',
    'outcome',
    [...MESSAGE_FIELDS, 'stored'],
    [
      rows.map((r) => r.event.tenantId),
      rows.map((r) => r.id),
      rows.map((r) => r.botId),
      rows.map((r) => r.customerId),
      rows.map((r) => r.event.data.direction),
      rows.map((r) => r.event.data.message_type),
      rows.map((r) => r.event.data.content),
      rows.map((r) => r.event.data.media_url ?? null),
      rows.map((r) => r.event.data.wa_sid ?? null),
      rows.map((r) => JSON.stringify(r.event.data.metadata ?? {})),
      rows.map((r) => r.event.occurredAt),
    ],
  );
  const outcomeOf = new Map(placed.map((row) => [row.id, row]));
  for (const row of rows) {
    const message = outcomeOf.get(row.id);
    if (!message) continue;
    if (!message.stored) {
      outcomes[row.index] = { status: 'duplicate' };
      continue;
    }
    const { stored: _, ...stored } = message;
    outcomes[row.index] = { status: 'accepted' };
    recordChange(feed, 'message.created', messageObject(stored));
  }
  for (const row of conversations) pushConversation(feed, row);
  return new Set(outcomeOf.keys());
}
