/**
 * The batch's first statement: it records the event ids and finds the bots and customer
 * identities the events name, as they were before the batch wrote anything.
 */
import { PREPARED, type Queryable } from '../db/index.ts';
import type { BotRef, PreparedEvent } from './prepare.ts';
import type { BatchOutcome } from './store.ts';

export type MessageEvent = Extract<PreparedEvent, { name: 'message.created' }>;

/** Events that name a bot: messages, and a conversation.closed that names its conversation by bot. */
export type WithBot = { tenantId: string; eventId: string | null; bot: BotRef };

export const key = (...parts: string[]) => parts.join('\u0000');

/** What the batch's first statement found, keyed as `key(...)` builds keys. */
export interface Found {
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
export class BatchLookup {
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
export async function recordIdsAndLookUp(
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

export async function forgetEventIds(tx: Queryable, events: PreparedEvent[]) {
  if (events.length === 0) return;
  await tx.query(
    `DELETE FROM idempotency_keys k USING unnest($1::uuid[], $2::text[]) AS w(tenant_id, event_id)
     WHERE k.tenant_id = w.tenant_id AND k.event_id = w.event_id`,
    [events.map((e) => e.tenantId), events.map((e) => e.eventId)],
  );
}
