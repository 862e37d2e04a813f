/** The customers a batch's events name, found or created and merged set-based. */
import { randomUUID } from 'node:crypto';
import { PREPARED, type Queryable } from '../db/index.ts';
import type { CustomerRef, Identity, PreparedEvent } from './prepare.ts';
import { type CustomerRow, customerObject } from './shapes.ts';
import { type FeedEntry, recordChange } from '../feed/index.ts';
import { type Found, key } from './lookup.ts';

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
export async function resolveCustomers(
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
export async function identifyCustomers(
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
