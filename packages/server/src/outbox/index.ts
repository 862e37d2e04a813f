/**
 * The durable outbox: a delivery (a reply through Twilio or Telegram, a bot's webhook) is a row
 * written in the transaction that makes it necessary; OutboxWorkers in every process claim due
 * rows, send them through the handler of their kind, and record the outcome with retries. See
 * docs/outbox.md.
 */
export {
  type BackoffOptions,
  DEFAULT_BACKOFF,
  DEFAULT_MAX_AGE_MS,
  parseRetryAfter,
  retryDelayMs,
} from './backoff.ts';
export {
  type DeliveryFilter,
  enqueueDelivery,
  getDelivery,
  listAttempts,
  listDeliveries,
  type NewDelivery,
  OUTBOX_CHANNEL,
  pruneOutbox,
  requeueDelivery,
} from './store.ts';
export {
  type AttemptView,
  type ClaimedDelivery,
  type DeliveryHandler,
  type DeliveryKind,
  type DeliveryOutcome,
  type DeliveryStatus,
  type DeliveryView,
  deliveryKinds,
  type SendResult,
} from './types.ts';
export {
  DEFAULT_OUTBOX_OPTIONS,
  type OutboxOptions,
  OutboxWorker,
  type OutboxWorkerSetup,
  type OutcomeHook,
} from './worker.ts';
