import type { Queryable } from '../db/index.ts';
import { AppError } from '../lib/errors.ts';
import {
  decodeCursor,
  type Page,
  type PageQuery,
  sqlMicros,
  timeKeySchema,
  toPage,
} from '../lib/pagination.ts';
import { iso } from '../lib/time.ts';
import { DEFAULT_MAX_AGE_MS } from './backoff.ts';
import type {
  AttemptView,
  ClaimedDelivery,
  DeliveryKind,
  DeliveryOutcome,
  DeliveryStatus,
  DeliveryView,
  SendResult,
} from './types.ts';

/** Told at the COMMIT of every enqueue and requeue, in every process (migration 0017's trigger). */
export const OUTBOX_CHANNEL = 'syncdeck_outbox';

/** At most this much of a provider's answer is kept per attempt. */
const RESPONSE_LIMIT = 2_000;

export interface NewDelivery {
  tenantId: string;
  kind: DeliveryKind;
  /** What the handler needs to send it. Never credentials: handlers look those up when they send. */
  payload: unknown;
  botId?: string | null;
  messageId?: string | null;
  /** Transient failures are retried until this long after now. */
  maxAgeMs?: number;
  /** Not sent before this long from now. */
  delayMs?: number;
}

/**
 * Queues a delivery inside the caller's transaction, so it exists exactly when what it delivers
 * does. Workers in every process are woken at COMMIT.
 *
 * @example
 * ```ts
 * await db.transaction(async (tx) => {
 *   const message = await insertReply(tx, ...);
 *   await enqueueDelivery(tx, { tenantId, kind: 'twilio', botId, messageId: message.id, payload: { to, body } });
 * });
 * ```
 */
export async function enqueueDelivery(tx: Queryable, delivery: NewDelivery): Promise<{ id: string }> {
  const result = await tx.query<{ id: string }>(
    `INSERT INTO outbox_deliveries (tenant_id, kind, bot_id, message_id, payload, give_up_at, next_attempt_at)
     VALUES ($1, $2, $3, $4, $5::jsonb, now() + $6::bigint * interval '1 millisecond',
             now() + $7::bigint * interval '1 millisecond')
     RETURNING id`,
    [
      delivery.tenantId,
      delivery.kind,
      delivery.botId ?? null,
      delivery.messageId ?? null,
      JSON.stringify(delivery.payload ?? null),
      Math.round(delivery.maxAgeMs ?? DEFAULT_MAX_AGE_MS),
      Math.round(delivery.delayMs ?? 0),
    ],
  );
  return result.rows[0]!;
}

interface ClaimedRow {
  tenant_id: string;
  id: string;
  kind: DeliveryKind;
  bot_id: string | null;
  message_id: string | null;
  payload: unknown;
  attempts: number;
  created_at: Date;
  claim_token: string;
}

/**
 * Claims up to `limit` due deliveries of `kinds` for `leaseMs`, oldest first, and opens an
 * attempt for each. Rows another worker is claiming are skipped, not waited for; a row whose
 * lease ran out (its worker died mid-send) is due again.
 */
export async function claimDue(
  q: Queryable,
  claim: { kinds: readonly DeliveryKind[]; limit: number; leaseMs: number; workerId: string },
): Promise<ClaimedDelivery[]> {
  const result = await q.query<ClaimedRow>(
    `WITH due AS (
       SELECT tenant_id, id FROM outbox_deliveries
       WHERE status IN ('queued', 'sending') AND next_attempt_at <= now() AND kind = ANY($1::text[])
       ORDER BY next_attempt_at
       LIMIT $2
       FOR UPDATE SKIP LOCKED
     ), claimed AS (
       UPDATE outbox_deliveries d
       SET status = 'sending', attempts = d.attempts + 1, claim_token = gen_random_uuid(), claimed_by = $3,
           next_attempt_at = now() + $4::bigint * interval '1 millisecond', updated_at = now()
       FROM due WHERE d.tenant_id = due.tenant_id AND d.id = due.id
       RETURNING d.tenant_id, d.id, d.kind, d.bot_id, d.message_id, d.payload, d.attempts, d.created_at, d.claim_token
     ), opened AS (
       INSERT INTO outbox_attempts (tenant_id, delivery_id, attempt, claimed_by)
       SELECT tenant_id, id, attempts, $3 FROM claimed
     )
     SELECT * FROM claimed`,
    [[...claim.kinds], claim.limit, claim.workerId, Math.round(claim.leaseMs)],
  );
  return result.rows.map((row) => ({
    id: row.id,
    tenantId: row.tenant_id,
    kind: row.kind,
    botId: row.bot_id,
    messageId: row.message_id,
    payload: row.payload,
    attempt: row.attempts,
    createdAt: row.created_at,
    claimToken: row.claim_token,
  }));
}

/**
 * Records what an attempt did: on the attempt always, and on the delivery only while `claimed`
 * still holds the row (a worker whose lease ran out must not overwrite its successor's state).
 * A transient failure is queued again `retryDelayMs` from now, unless the delivery's time is up.
 * Answers null when the claim had been lost.
 */
export async function recordOutcome(
  q: Queryable,
  claimed: Pick<ClaimedDelivery, 'tenantId' | 'id' | 'attempt' | 'claimToken'>,
  result: SendResult,
  retryDelayMs: number,
): Promise<DeliveryOutcome | null> {
  const failure = result.ok ? null : result;
  const rows = await q.query<{
    status: 'sent' | 'queued' | 'failed';
    next_attempt_at: Date;
    provider_id: string | null;
    last_code: string | null;
    last_error: string | null;
  }>(
    `WITH d AS (
       UPDATE outbox_deliveries SET
         status = CASE WHEN $4::boolean THEN 'sent' WHEN $5::boolean OR now() >= give_up_at THEN 'failed' ELSE 'queued' END,
         next_attempt_at = CASE WHEN $4::boolean OR $5::boolean OR now() >= give_up_at THEN next_attempt_at
                                ELSE LEAST(now() + $6::bigint * interval '1 millisecond', give_up_at) END,
         provider_id = COALESCE($7::text, provider_id),
         last_code = $8::text,
         last_error = CASE WHEN $4::boolean OR $5::boolean OR now() < give_up_at THEN $9::text
                           ELSE 'Gave up after ' || attempts || ' attempts: ' || $9::text END,
         completed_at = CASE WHEN $4::boolean OR $5::boolean OR now() >= give_up_at THEN now() END,
         claim_token = NULL, claimed_by = NULL, updated_at = now()
       WHERE tenant_id = $1 AND id = $2 AND claim_token = $3
       RETURNING status, next_attempt_at, provider_id, last_code, last_error
     ), a AS (
       UPDATE outbox_attempts SET finished_at = now(),
         outcome = CASE WHEN $4::boolean THEN 'sent' WHEN $5::boolean OR (SELECT status FROM d) = 'failed' THEN 'failed' ELSE 'retry' END,
         provider_id = $7::text, code = $8::text, reason = $9::text, http_status = $11::integer, response = $12::text, retry_after_ms = $13::integer
       WHERE tenant_id = $1 AND delivery_id = $2 AND attempt = $10::integer
     )
     SELECT * FROM d`,
    [
      claimed.tenantId,
      claimed.id,
      claimed.claimToken,
      result.ok,
      failure?.permanent ?? false,
      Math.round(retryDelayMs),
      result.ok ? (result.providerId ?? null) : null,
      failure?.code ?? null,
      failure?.reason ?? null,
      claimed.attempt,
      result.httpStatus ?? null,
      result.response?.slice(0, RESPONSE_LIMIT) ?? null,
      failure?.retryAfterMs === undefined ? null : Math.min(Math.round(failure.retryAfterMs), 2 ** 31 - 1),
    ],
  );
  const row = rows.rows[0];
  if (!row) return null;
  return {
    status: row.status,
    providerId: row.provider_id,
    code: row.last_code,
    reason: row.last_error,
    nextAttemptAt: row.status === 'queued' ? row.next_attempt_at : null,
    gaveUp: row.status === 'failed' && failure !== null && !failure.permanent,
  };
}

interface DeliveryRow {
  tenant_id: string;
  id: string;
  kind: DeliveryKind;
  bot_id: string | null;
  message_id: string | null;
  payload: unknown;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date;
  give_up_at: Date;
  provider_id: string | null;
  last_code: string | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
  created_us: number;
}

const COLUMNS = `tenant_id, id, kind, bot_id, message_id, payload, status, attempts, next_attempt_at, give_up_at,
  provider_id, last_code, last_error, created_at, updated_at, completed_at, ${sqlMicros('created_at')} AS created_us`;

function toView(row: DeliveryRow): DeliveryView {
  const final = row.status === 'sent' || row.status === 'failed';
  return {
    id: row.id,
    tenantId: row.tenant_id,
    kind: row.kind,
    botId: row.bot_id,
    messageId: row.message_id,
    payload: row.payload,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: final ? null : iso(row.next_attempt_at),
    giveUpAt: iso(row.give_up_at),
    providerId: row.provider_id,
    lastCode: row.last_code,
    lastError: row.last_error,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    completedAt: iso(row.completed_at),
  };
}

/** One delivery of the tenant, or null (another tenant's looks exactly like a missing one). */
export async function getDelivery(q: Queryable, tenantId: string, id: string): Promise<DeliveryView | null> {
  const result = await q.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM outbox_deliveries WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return result.rows[0] ? toView(result.rows[0]) : null;
}

export interface DeliveryFilter {
  botId?: string | undefined;
  messageId?: string | undefined;
  kind?: DeliveryKind | undefined;
  status?: DeliveryStatus | undefined;
}

/** The tenant's deliveries, newest first: a bot's delivery log with `botId`. */
export async function listDeliveries(
  q: Queryable,
  tenantId: string,
  page: PageQuery & DeliveryFilter,
): Promise<Page<DeliveryView>> {
  const [beforeUs, beforeId] = page.cursor
    ? decodeCursor(page.cursor, timeKeySchema)
    : [Number.MAX_SAFE_INTEGER, 'ffffffff-ffff-ffff-ffff-ffffffffffff'];
  const result = await q.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM outbox_deliveries
     WHERE tenant_id = $1 AND ($2::uuid IS NULL OR bot_id = $2) AND ($3::uuid IS NULL OR message_id = $3)
       AND ($4::text IS NULL OR kind = $4) AND ($5::text IS NULL OR status = $5)
       AND (${sqlMicros('created_at')}, id) < ($6::bigint, $7::uuid)
     ORDER BY created_at DESC, id DESC LIMIT $8`,
    [
      tenantId,
      page.botId ?? null,
      page.messageId ?? null,
      page.kind ?? null,
      page.status ?? null,
      beforeUs,
      beforeId,
      page.limit + 1,
    ],
  );
  return toPage(result.rows, page.limit, toView, (row) => [row.created_us, row.id]);
}

/** A delivery's attempts, first to last. */
export async function listAttempts(
  q: Queryable,
  tenantId: string,
  deliveryId: string,
): Promise<AttemptView[]> {
  const result = await q.query<{
    attempt: number;
    claimed_by: string;
    started_at: Date;
    finished_at: Date | null;
    outcome: AttemptView['outcome'];
    provider_id: string | null;
    code: string | null;
    reason: string | null;
    http_status: number | null;
    response: string | null;
    retry_after_ms: number | null;
  }>(
    `SELECT attempt, claimed_by, started_at, finished_at, outcome, provider_id, code, reason, http_status,
            response, retry_after_ms
     FROM outbox_attempts WHERE tenant_id = $1 AND delivery_id = $2 ORDER BY attempt`,
    [tenantId, deliveryId],
  );
  return result.rows.map((row) => ({
    attempt: row.attempt,
    claimedBy: row.claimed_by,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    outcome: row.outcome,
    providerId: row.provider_id,
    code: row.code,
    reason: row.reason,
    httpStatus: row.http_status,
    response: row.response,
    retryAfterMs: row.retry_after_ms,
  }));
}

/**
 * "Send again": a failed delivery is queued for now, with a fresh `maxAgeMs` of retries. Its
 * attempts so far stay in the log. Throws not_found (also for another tenant's) or conflict
 * (it has not failed).
 */
export async function requeueDelivery(
  q: Queryable,
  tenantId: string,
  id: string,
  options: { maxAgeMs?: number } = {},
): Promise<DeliveryView> {
  const result = await q.query<DeliveryRow>(
    `WITH r AS (
       UPDATE outbox_deliveries SET status = 'queued', next_attempt_at = now(),
         give_up_at = now() + $3::bigint * interval '1 millisecond', completed_at = NULL, updated_at = now()
       WHERE tenant_id = $1 AND id = $2 AND status = 'failed'
       RETURNING ${COLUMNS}
     )
     SELECT r.*, pg_notify('${OUTBOX_CHANNEL}', '') FROM r`,
    [tenantId, id, Math.round(options.maxAgeMs ?? DEFAULT_MAX_AGE_MS)],
  );
  if (result.rows[0]) return toView(result.rows[0]);
  const existing = await getDelivery(q, tenantId, id);
  if (!existing) throw AppError.notFound('Delivery');
  throw AppError.conflict(`Only a failed delivery can be sent again; this one is ${existing.status}`);
}

/** Removes deliveries that finished before `before`, with their attempts; answers how many. */
export async function pruneOutbox(q: Queryable, before: Date): Promise<number> {
  const result = await q.query('DELETE FROM outbox_deliveries WHERE completed_at < $1', [before]);
  return result.rowCount;
}
