import type { Queryable } from '../db/index.ts';
import type { BatchOutcome } from './store.ts';
import type { PreparedEvent } from './prepare.ts';
import { type ConversationRow, type EscalationRow, escalationObject } from './shapes.ts';
import { type FeedEntry, recordChange } from '../feed/index.ts';
import { CONVERSATION_COLUMNS, pushConversation, selectBoth } from './store.ts';

type Opened = Extract<PreparedEvent, { name: 'escalation.created' }>;
type Resolved = Extract<PreparedEvent, { name: 'escalation.resolved' }>;

const ESCALATION_FIELDS = [
  'tenant_id',
  'id',
  'customer_id',
  'conversation_id',
  'status',
  'reason',
  'resolution_summary',
  'resolved_by',
  'metadata',
  'opened_at',
  'resolved_at',
] as const;

/**
 * CTEs over `reported` (tenant_id, customer_id, ...): `target`, each customer's most recently
 * active conversation, and `bot_switch`, which turns the bot on or off there ($1) and returns
 * the conversation as the feed shows it (with the customer's name and phone).
 */
const BOT_SWITCH = `target AS (
    SELECT DISTINCT ON (c.tenant_id, c.customer_id) c.tenant_id, c.customer_id, c.id FROM conversations c
    JOIN reported r ON c.tenant_id = r.tenant_id AND c.customer_id = r.customer_id
    WHERE c.status = 'active'
    ORDER BY c.tenant_id, c.customer_id, c.last_message_at DESC NULLS LAST, c.created_at DESC),
  bot_switch AS (
    UPDATE conversations c SET is_bot_active = $1, updated_at = now()
    FROM target t, customers cu
    WHERE c.tenant_id = t.tenant_id AND c.id = t.id AND cu.tenant_id = c.tenant_id AND cu.id = c.customer_id
    RETURNING ${CONVERSATION_COLUMNS})`;

/**
 * Applies a segment's escalation events: `escalation.created` turns the bot off in the
 * customer's conversation and opens their escalation (a second report while one is open is
 * the same escalation); `escalation.resolved` resolves it and turns the bot back on. In rounds:
 * round k holds each customer's k-th event, so within a round no two events touch the same
 * customer and each kind takes one statement.
 */
export async function applyEscalations(
  tx: Queryable,
  events: PreparedEvent[],
  indexes: number[],
  customerOf: Map<number, string>,
  outcomes: (BatchOutcome | undefined)[],
  feed: FeedEntry[],
): Promise<void> {
  const rounds: number[][] = [];
  const eventsOf = new Map<string, number>();
  for (const index of indexes) {
    const customer = `${events[index]!.tenantId}\u0000${customerOf.get(index)}`;
    const round = eventsOf.get(customer) ?? 0;
    eventsOf.set(customer, round + 1);
    if (!rounds[round]) rounds[round] = [];
    rounds[round].push(index);
  }
  for (const round of rounds) {
    const opened = round.filter((i) => events[i]!.name === 'escalation.created');
    const resolved = round.filter((i) => events[i]!.name === 'escalation.resolved');
    if (opened.length > 0) await openEscalations(tx, events, opened, customerOf, feed);
    if (resolved.length > 0) await resolveEscalations(tx, events, resolved, customerOf, feed);
  }
  for (const index of indexes) outcomes[index] = { status: 'accepted' };
}

async function openEscalations(
  tx: Queryable,
  events: PreparedEvent[],
  indexes: number[],
  customerOf: Map<number, string>,
  feed: FeedEntry[],
) {
  const list = indexes.map((index) => ({ index, event: events[index] as Opened }));
  const rows = await switchBotAnd(
    tx,
    `reported AS (
       SELECT * FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::jsonb[], $6::timestamptz[])
         AS r(tenant_id, customer_id, reason, metadata, at)),
     ${BOT_SWITCH},
     escalation AS (
       INSERT INTO escalations (tenant_id, customer_id, conversation_id, reason, metadata, opened_at)
       SELECT r.tenant_id, r.customer_id, t.id, r.reason, r.metadata, r.at FROM reported r
       LEFT JOIN target t ON t.tenant_id = r.tenant_id AND t.customer_id = r.customer_id
       ON CONFLICT (tenant_id, customer_id) WHERE status = 'open' DO NOTHING
       RETURNING ${ESCALATION_FIELDS.join(', ')})`,
    [
      false,
      list.map(({ event }) => event.tenantId),
      list.map(({ index }) => customerOf.get(index)),
      list.map(({ event }) => event.data.reason ?? null),
      list.map(({ event }) => JSON.stringify(event.data.metadata ?? {})),
      list.map(({ event }) => event.occurredAt),
    ],
  );
  // Cause first: the bot went quiet, then the escalation opened.
  for (const conversation of rows.conversations) pushConversation(feed, conversation);
  for (const escalation of rows.escalations)
    recordChange(feed, 'escalation.created', escalationObject(escalation));
}

async function resolveEscalations(
  tx: Queryable,
  events: PreparedEvent[],
  indexes: number[],
  customerOf: Map<number, string>,
  feed: FeedEntry[],
) {
  const list = indexes.map((index) => ({ index, event: events[index] as Resolved }));
  const rows = await switchBotAnd(
    tx,
    `reported AS (
       SELECT * FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::jsonb[], $7::timestamptz[])
         AS r(tenant_id, customer_id, summary, operator, metadata, at)),
     ${BOT_SWITCH},
     escalation AS (
       UPDATE escalations e SET status = 'resolved', resolution_summary = r.summary, resolved_by = r.operator,
         resolved_at = r.at, metadata = e.metadata || r.metadata
       FROM reported r
       WHERE e.tenant_id = r.tenant_id AND e.customer_id = r.customer_id AND e.status = 'open'
       RETURNING ${ESCALATION_FIELDS.map((f) => `e.${f}`).join(', ')})`,
    [
      true,
      list.map(({ event }) => event.tenantId),
      list.map(({ index }) => customerOf.get(index)),
      list.map(({ event }) => event.data.resolution_summary ?? null),
      list.map(({ event }) => {
        const operator = event.data.metadata?.operator_name;
        return typeof operator === 'string' ? operator : null;
      }),
      list.map(({ event }) => JSON.stringify(event.data.metadata ?? {})),
      list.map(({ event }) => event.occurredAt),
    ],
  );
  // Cause first: the escalation was resolved, then the bot speaks again.
  for (const escalation of rows.escalations)
    recordChange(feed, 'escalation.resolved', escalationObject(escalation));
  for (const conversation of rows.conversations) pushConversation(feed, conversation);
}

/** Runs CTEs ending in `bot_switch` and `escalation` as one statement and returns both. */
async function switchBotAnd(tx: Queryable, ctes: string, params: unknown[]) {
  const { first, second } = await selectBoth<ConversationRow, EscalationRow>(
    tx,
    ctes,
    'bot_switch',
    'escalation',
    ESCALATION_FIELDS,
    params,
  );
  return { conversations: first, escalations: second };
}
