/*
 * The delivery status of an outbound message, and how reports about it combine.
 *
 * Reports come from two places that race each other: the outbox (the provider accepted the send:
 * `sent`; it refused for good: `failed`) and Twilio's status callbacks, which are separate HTTP
 * requests Twilio does not promise to deliver in order (and which may beat the outbox's own
 * `sent`, since Twilio can call back before its API answer reaches us). So a report is not a
 * transition to follow but evidence to merge: the stored status is the strongest evidence seen.
 *
 * The statuses form one total order, and the next status is the greater of the two. A maximum
 * is commutative, associative and idempotent, so any set of reports, in any order, repeated any
 * number of times, ends in the same status. The order:
 *
 *   queued < sending < sent < failed < undelivered < delivered < read
 *
 * - Progress never goes back: a late `sent` never overwrites `delivered` or `read`.
 * - A failure beats every status before delivery: `failed` after `sent` is the normal WhatsApp
 *   story (sent to WhatsApp, refused there, e.g. 63016 outside the 24-hour window).
 * - `undelivered` sits above `failed`: in Twilio's lifecycle `failed` means the message never
 *   left Twilio and `undelivered` that the carrier or WhatsApp reported it not delivered, a later
 *   stage; the order between the two only matters for which code is shown, and it must be fixed
 *   for the result not to depend on arrival order.
 * - Delivery beats failure: `delivered` or `read` is a receipt from the customer's device, which
 *   nothing sends for a message that did not arrive. A failure reported with or after such a
 *   receipt is the report that is wrong (a timeout on Twilio's side, a stale callback), so
 *   `failed` after `delivered` is ignored, and `read` after `failed` is taken. The operator then
 *   sees what the customer saw.
 *
 * A person pressing "send again" on a failed message is not a report: it starts a new delivery,
 * and the caller sets `queued` directly (see `restartDelivery`), outside this order.
 */
import { messageDeliveryStatuses } from '@syncdeck/core';

/** Every delivery status of an outbound message, weakest evidence first (core's list, in that order). */
export const deliveryStatuses = messageDeliveryStatuses;
export type MessageDeliveryStatus = (typeof deliveryStatuses)[number];

/** Each status's place in the order; greater is stronger evidence. */
export const DELIVERY_STATUS_RANK: Readonly<Record<MessageDeliveryStatus, number>> = Object.freeze(
  Object.fromEntries(deliveryStatuses.map((status, rank) => [status, rank])) as Record<
    MessageDeliveryStatus,
    number
  >,
);

const known = new Set<string>(deliveryStatuses);

/**
 * Whether `value` is one of `deliveryStatuses`: for a status read back from the database.
 *
 * @example
 * ```ts
 * isDeliveryStatus('read'); // true
 * isDeliveryStatus('received'); // false
 * ```
 */
export function isDeliveryStatus(value: unknown): value is MessageDeliveryStatus {
  return typeof value === 'string' && known.has(value);
}

/**
 * A status that means the message did not reach the customer (unless a receipt later says it did).
 *
 * @example
 * ```ts
 * isFailedDelivery('undelivered'); // true
 * ```
 */
export function isFailedDelivery(status: MessageDeliveryStatus): boolean {
  return status === 'failed' || status === 'undelivered';
}

/**
 * The status after `incoming` is reported on a message whose status is `current`: the stronger
 * of the two. `current` null (a message with no status yet) takes `incoming`.
 *
 * @example
 * ```ts
 * nextDeliveryStatus('read', 'sent');         // 'read'   (a late callback)
 * nextDeliveryStatus('sent', 'failed');       // 'failed'
 * nextDeliveryStatus('delivered', 'failed');  // 'delivered'
 * nextDeliveryStatus('failed', 'read');       // 'read'
 * ```
 */
export function nextDeliveryStatus(
  current: MessageDeliveryStatus | null,
  incoming: MessageDeliveryStatus,
): MessageDeliveryStatus {
  if (current === null) return incoming;
  return DELIVERY_STATUS_RANK[incoming] > DELIVERY_STATUS_RANK[current] ? incoming : current;
}

/** A message's delivery status with what the provider said about a failure. */
export interface DeliveryState {
  status: MessageDeliveryStatus;
  /** The provider's error code (Twilio's `ErrorCode`, Telegram's error code), for a failure. */
  errorCode: string | null;
  /** A readable reason, for a failure. */
  errorReason: string | null;
}

/** A report about a message's delivery: a status callback, or the outbox's outcome. */
export interface DeliveryReport {
  status: MessageDeliveryStatus;
  errorCode?: string | null;
  errorReason?: string | null;
}

/**
 * Merges a report into a message's delivery state: `changed` false means there is nothing to
 * write (and nothing to put on the feed). The error travels with the status it came with: a
 * report that does not win leaves the stored error alone, and a receipt that overrules a failure
 * clears it, since the message did arrive.
 *
 * @example
 * ```ts
 * const { changed, state } = applyDeliveryReport(stored, { status: 'undelivered', errorCode: '30008' });
 * if (changed) await saveDeliveryState(tx, messageId, state);
 * ```
 */
export function applyDeliveryReport(
  current: DeliveryState | null,
  report: DeliveryReport,
): { changed: boolean; state: DeliveryState } {
  const status = nextDeliveryStatus(current?.status ?? null, report.status);
  if (current && status === current.status) {
    // The same failure reported again may bring the code the first report lacked.
    const fills =
      status === report.status && isFailedDelivery(status) && !current.errorCode && report.errorCode;
    if (!fills) return { changed: false, state: current };
  }
  const failed = isFailedDelivery(status);
  return {
    changed: true,
    state: {
      status,
      errorCode: failed ? (report.errorCode ?? null) : null,
      errorReason: failed ? (report.errorReason ?? null) : null,
    },
  };
}

/**
 * The state a message starts a new delivery in when a person sends it again: `queued`, its old
 * failure cleared. Only a failed message may be sent again; anything else answers null.
 *
 * @example
 * ```ts
 * restartDelivery({ status: 'failed', errorCode: '63016', errorReason: '…' });
 * // { status: 'queued', errorCode: null, errorReason: null }
 * ```
 */
export function restartDelivery(current: DeliveryState): DeliveryState | null {
  if (!isFailedDelivery(current.status)) return null;
  return { status: 'queued', errorCode: null, errorReason: null };
}

/**
 * The rank of `column` as an SQL expression, so a store can apply a report in one statement,
 * race-free across processes: `UPDATE messages SET delivery_status = $1 WHERE id = $2 AND
 * ${deliveryStatusRankSql('delivery_status')} < ${DELIVERY_STATUS_RANK[incoming]}`. A NULL or
 * unknown status ranks −1, below everything. `column` is the caller's own identifier, never input.
 *
 * @example
 * ```ts
 * deliveryStatusRankSql('m.delivery_status');
 * // "CASE m.delivery_status WHEN 'queued' THEN 0 … WHEN 'read' THEN 6 ELSE -1 END"
 * ```
 */
export function deliveryStatusRankSql(column: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(column))
    throw new Error(`Not a column name: ${column}`);
  const cases = deliveryStatuses.map((s) => `WHEN '${s}' THEN ${DELIVERY_STATUS_RANK[s]}`).join(' ');
  return `CASE ${column} ${cases} ELSE -1 END`;
}
