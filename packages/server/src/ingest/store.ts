import type { ErrorDetail } from '@syncdeck/core';
import { PREPARED, type Queryable } from '../db/index.ts';
import { type FeedEntry, recordChange } from '../feed/index.ts';
import { EventRejected, type PreparedEvent } from './prepare.ts';
import { type ConversationRow, conversationObject } from './shapes.ts';

export type ApplyOutcome = 'accepted' | 'duplicate';

/** What became of one event of a batch: applied (or a duplicate), or refused with the reasons. */
export type BatchOutcome = { status: ApplyOutcome } | { status: 'rejected'; details: ErrorDetail[] };

/**
 * The one event applied alone: it splits its batch (batch.ts), so that a message after it opens a
 * new conversation. The others go set-based (batch.ts, orders.ts, escalations.ts).
 */
export type OneByOneEvent = Extract<PreparedEvent, { name: 'conversation.closed' }>;

export const CONVERSATION_COLUMNS = `c.tenant_id, c.id, c.bot_id, c.customer_id, c.status, c.is_bot_active, c.unread_count,
  c.message_count, c.last_message_at, c.last_message_preview, c.created_at, c.updated_at, c.closed_at,
  cu.whatsapp_phone AS customer_phone, cu.display_name AS customer_name`;

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

/**
 * Runs `WITH ${ctes}` as one statement and returns the rows of two of its CTEs, `first` and
 * `second`, with the database's types: FULL JOIN ON false gives each row of either a row of its
 * own, the second's columns (`secondFields`, which must include `id`) renamed apart. Two result
 * sets for one round trip.
 */
export async function selectBoth<First, Second>(
  tx: Queryable,
  ctes: string,
  first: string,
  second: string,
  secondFields: readonly string[],
  params: unknown[],
): Promise<{ first: First[]; second: Second[] }> {
  const result = await tx.query<Record<string, unknown>>(
    `WITH ${ctes}
     SELECT a.*, ${secondFields.map((f) => `b.${f} AS b_${f}`).join(', ')}
     FROM ${first} a FULL JOIN ${second} b ON false`,
    params,
    PREPARED,
  );
  const rows = { first: [] as First[], second: [] as Second[] };
  for (const row of result.rows) {
    if (row.b_id === null) rows.first.push(row as First);
    else rows.second.push(Object.fromEntries(secondFields.map((f) => [f, row[`b_${f}`]])) as Second);
  }
  return rows;
}

export function pushConversation(feed: FeedEntry[], row: ConversationRow) {
  recordChange(feed, 'conversation.updated', conversationObject(row));
}

async function applyConversationClosed(
  tx: Queryable,
  event: Extract<PreparedEvent, { name: 'conversation.closed' }>,
  feed: FeedEntry[],
  customerId: string | undefined,
  botId: string | undefined,
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
    const active = await tx.query<{ id: string }>(
      `SELECT id FROM conversations WHERE tenant_id = $1 AND bot_id = $2 AND customer_id = $3 AND status = 'active'`,
      [tenantId, requireBot(botId), requireCustomer(customerId)],
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

function requireBot(botId: string | undefined): string {
  if (!botId) throw new Error('the event names a bot the batch did not resolve');
  return botId;
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
  /** The event's customer and bot, which the caller resolves set-based (batch.ts). */
  customerId: string | undefined,
  botId: string | undefined,
): Promise<ApplyOutcome> {
  try {
    return await applyConversationClosed(tx, event, feed, customerId, botId);
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
