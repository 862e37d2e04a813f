import type { Queryable } from '../db/index.ts';
import { type BotRef, EventRejected, type PreparedEvent } from './prepare.ts';
import { type ConversationRow, conversationObject, type EscalationRow, escalationObject } from './shapes.ts';

/** One change to append to the feed when the transaction commits. */
export interface FeedEntry {
  tenantId: string;
  /** `<entity>.<what happened>`, e.g. `order.updated`. */
  type: string;
  entityId: string;
  payload: unknown;
}

/** Queues a change for the feed. Every wire object carries its id and tenant (`restaurantId`). */
export function recordChange(
  feed: FeedEntry[],
  type: string,
  payload: { id: string; restaurantId: string },
): void {
  feed.push({ tenantId: payload.restaurantId, type, entityId: payload.id, payload });
}

export type ApplyOutcome = 'accepted' | 'duplicate';

/** Events applied one at a time; messages, customers (batch.ts) and orders (orders.ts) go set-based. */
export type OneByOneEvent = Exclude<
  PreparedEvent,
  { name: 'message.created' | 'customer.seen' | 'order.created' | 'order.status' }
>;

export const CONVERSATION_COLUMNS = `c.tenant_id, c.id, c.bot_id, c.customer_id, c.status, c.is_bot_active, c.unread_count,
  c.message_count, c.last_message_at, c.last_message_preview, c.created_at, c.updated_at, c.closed_at,
  cu.whatsapp_phone AS customer_phone, cu.display_name AS customer_name`;

async function resolveBot(tx: Queryable, tenantId: string, ref: BotRef, path: string): Promise<string> {
  if (ref.id) {
    const bot = await tx.query<{ id: string }>('SELECT id FROM bots WHERE tenant_id = $1 AND id = $2', [
      tenantId,
      ref.id,
    ]);
    if (!bot.rows[0])
      throw new EventRejected([{ path: `${path}.id`, message: 'no such bot in this tenant' }]);
    return bot.rows[0].id;
  }
  // A sender that pushes before an admin registered it is registered on the spot.
  const inserted = await tx.query<{ id: string }>(
    `INSERT INTO bots (tenant_id, channel, address, name) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, channel, address) DO NOTHING RETURNING id`,
    [tenantId, ref.channel, ref.address, `${ref.channel} ${ref.address}`],
  );
  if (inserted.rows[0]) return inserted.rows[0].id;
  const existing = await tx.query<{ id: string }>(
    'SELECT id FROM bots WHERE tenant_id = $1 AND channel = $2 AND address = $3',
    [tenantId, ref.channel, ref.address],
  );
  return existing.rows[0]!.id;
}

async function conversationById(
  tx: Queryable,
  tenantId: string,
  id: string,
): Promise<ConversationRow | null> {
  const result = await tx.query<ConversationRow>(
    `SELECT ${CONVERSATION_COLUMNS} FROM conversations c
     JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id
     WHERE c.tenant_id = $1 AND c.id = $2`,
    [tenantId, id],
  );
  return result.rows[0] ?? null;
}

export function pushConversation(feed: FeedEntry[], row: ConversationRow) {
  recordChange(feed, 'conversation.updated', conversationObject(row));
}

/**
 * A CTE named `bot_switch` that flips the bot on or off ($3) in customer $2's most recently
 * active conversation, returning the row as the feed shows it (with the customer's name and
 * phone). Part of the escalation's own statement: every round trip in the writer costs latency.
 */
const BOT_SWITCH_CTE = `bot_switch AS (
  UPDATE conversations c SET is_bot_active = $3, updated_at = now()
  FROM customers cu
  WHERE c.tenant_id = $1 AND c.id = (
    SELECT id FROM conversations WHERE tenant_id = $1 AND customer_id = $2 AND status = 'active'
    ORDER BY last_message_at DESC NULLS LAST, created_at DESC LIMIT 1)
    AND cu.tenant_id = c.tenant_id AND cu.id = c.customer_id
  RETURNING ${CONVERSATION_COLUMNS})`;

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
const ESCALATION_COLUMNS = ESCALATION_FIELDS.join(', ');

/**
 * Runs an escalation statement whose CTE `escalation` writes the escalation and whose CTE
 * `bot_switch` switches the bot, and queues what changed for the feed: one row, both results.
 */
async function escalationWithBotSwitch(
  tx: Queryable,
  sql: string,
  params: unknown[],
  type: 'escalation.created' | 'escalation.resolved',
  feed: FeedEntry[],
) {
  const result = await tx.query<Record<string, unknown>>(
    `WITH ${sql}
     SELECT s.*, ${ESCALATION_FIELDS.map((f) => `e.${f} AS e_${f}`).join(', ')}
     FROM (SELECT 1) AS one LEFT JOIN bot_switch s ON true LEFT JOIN escalation e ON true`,
    params,
  );
  const row = result.rows[0]!;
  // The feed tells it in cause order: the bot goes quiet, then the escalation opens; the
  // escalation is resolved, then the bot speaks again.
  const conversation = () => {
    if (row.id) pushConversation(feed, row as unknown as ConversationRow);
  };
  if (type === 'escalation.created') conversation();
  if (row.e_id) {
    const escalation = Object.fromEntries(ESCALATION_FIELDS.map((f) => [f, row[`e_${f}`]]));
    recordChange(feed, type, escalationObject(escalation as unknown as EscalationRow));
  }
  if (type === 'escalation.resolved') conversation();
}

async function applyEscalationCreated(
  tx: Queryable,
  event: Extract<PreparedEvent, { name: 'escalation.created' }>,
  feed: FeedEntry[],
  customerId: string,
) {
  const { tenantId, data } = event;
  // The bot goes quiet in the conversation, which the escalation points at. One open escalation
  // per customer: a second report while one is open is the same escalation.
  await escalationWithBotSwitch(
    tx,
    `${BOT_SWITCH_CTE},
     escalation AS (
       INSERT INTO escalations (tenant_id, customer_id, conversation_id, reason, metadata, opened_at)
       SELECT $1, $2, (SELECT id FROM bot_switch), $4::text, $5::jsonb, $6::timestamptz
       ON CONFLICT (tenant_id, customer_id) WHERE status = 'open' DO NOTHING RETURNING ${ESCALATION_COLUMNS})`,
    [tenantId, customerId, false, data.reason ?? null, JSON.stringify(data.metadata ?? {}), event.occurredAt],
    'escalation.created',
    feed,
  );
  return 'accepted' as const;
}

async function applyEscalationResolved(
  tx: Queryable,
  event: Extract<PreparedEvent, { name: 'escalation.resolved' }>,
  feed: FeedEntry[],
  customerId: string,
) {
  const { tenantId, data } = event;
  const operator = data.metadata?.operator_name;
  await escalationWithBotSwitch(
    tx,
    `${BOT_SWITCH_CTE},
     escalation AS (
       UPDATE escalations SET status = 'resolved', resolution_summary = $4, resolved_by = $5, resolved_at = $6,
         metadata = metadata || $7::jsonb
       WHERE tenant_id = $1 AND customer_id = $2 AND status = 'open' RETURNING ${ESCALATION_COLUMNS})`,
    [
      tenantId,
      customerId,
      true,
      data.resolution_summary ?? null,
      typeof operator === 'string' ? operator : null,
      event.occurredAt,
      JSON.stringify(data.metadata ?? {}),
    ],
    'escalation.resolved',
    feed,
  );
  return 'accepted' as const;
}

async function applyConversationClosed(
  tx: Queryable,
  event: Extract<PreparedEvent, { name: 'conversation.closed' }>,
  feed: FeedEntry[],
  customerId: string | undefined,
) {
  const { tenantId, data } = event;
  let conversationId = data.conversation_id ?? null;
  if (conversationId) {
    if (!(await conversationById(tx, tenantId, conversationId))) {
      throw new EventRejected([
        { path: 'data.conversation_id', message: 'no such conversation in this tenant' },
      ]);
    }
  } else {
    const botId = await resolveBot(tx, tenantId, event.bot!, 'data.bot');
    const active = await tx.query<{ id: string }>(
      `SELECT id FROM conversations WHERE tenant_id = $1 AND bot_id = $2 AND customer_id = $3 AND status = 'active'`,
      [tenantId, botId, requireCustomer(customerId)],
    );
    conversationId = active.rows[0]?.id ?? null;
  }
  if (!conversationId) return 'accepted' as const;
  const closed = await tx.query<ConversationRow>(
    `UPDATE conversations c SET status = 'closed', closed_at = $3, updated_at = now()
     FROM customers cu
     WHERE c.tenant_id = $1 AND c.id = $2 AND c.status = 'active' AND cu.tenant_id = c.tenant_id AND cu.id = c.customer_id
     RETURNING ${CONVERSATION_COLUMNS}`,
    [tenantId, conversationId, event.occurredAt],
  );
  if (closed.rows[0]) pushConversation(feed, closed.rows[0]);
  return 'accepted' as const;
}

function requireCustomer(customerId: string | undefined): string {
  if (!customerId) throw new Error('the event names a customer the batch did not resolve');
  return customerId;
}

/**
 * Applies one event, whose id the caller has already recorded, inside the caller's transaction.
 * Validation against the database (an unknown bot or conversation) throws EventRejected before
 * this event writes anything, and frees the event's id again.
 */
export async function applyEventBody(
  tx: Queryable,
  event: OneByOneEvent,
  feed: FeedEntry[],
  /** The event's customer, which the caller resolves set-based (batch.ts) for every event naming one. */
  customerId: string | undefined,
): Promise<ApplyOutcome> {
  try {
    switch (event.name) {
      case 'escalation.created':
        return await applyEscalationCreated(tx, event, feed, requireCustomer(customerId));
      case 'escalation.resolved':
        return await applyEscalationResolved(tx, event, feed, requireCustomer(customerId));
      case 'conversation.closed':
        return await applyConversationClosed(tx, event, feed, customerId);
    }
  } catch (error) {
    // The event is refused whole: its id stays free for a corrected retry.
    if (error instanceof EventRejected && event.eventId) {
      await tx.query('DELETE FROM idempotency_keys WHERE tenant_id = $1 AND event_id = $2', [
        event.tenantId,
        event.eventId,
      ]);
    }
    throw error;
  }
}

/** Told the new last seq at each COMMIT that appended to the feed, in every process (LISTEN). */
export const FEED_CHANNEL = 'syncdeck_feed';

/**
 * Appends the transaction's changes to the feed, notifies FEED_CHANNEL (delivered at COMMIT),
 * and returns the last seq. Taking the numbers
 * locks the counter row until COMMIT, so sequence numbers become visible in order, across
 * processes. One statement: every round trip inside the writer's transaction costs latency.
 */
export async function appendFeed(tx: Queryable, entries: FeedEntry[]): Promise<number | null> {
  if (entries.length === 0) return null;
  // One JSON document rather than six arrays: serialising it is far cheaper than escaping array literals.
  const result = await tx.query<{ seq: number }>(
    `WITH counter AS (UPDATE feed_counter SET seq = seq + $2 WHERE id = 1 RETURNING seq),
     appended AS (
       INSERT INTO events (tenant_id, seq, type, entity, entity_id, payload)
       SELECT e.tenant_id, counter.seq - $2 + e.n, e.type, e.entity, e.entity_id, e.payload
       FROM counter,
         jsonb_to_recordset($1::jsonb) AS e(n bigint, tenant_id uuid, type text, entity text, entity_id uuid, payload jsonb)
       RETURNING seq)
     SELECT max(seq) AS seq, pg_notify('${FEED_CHANNEL}', max(seq)::text) FROM appended`,
    [
      JSON.stringify(
        entries.map((e, i) => ({
          n: i + 1,
          tenant_id: e.tenantId,
          type: e.type,
          entity: e.type.split('.')[0],
          entity_id: e.entityId,
          payload: e.payload,
        })),
      ),
      entries.length,
    ],
  );
  return result.rows[0]!.seq;
}
