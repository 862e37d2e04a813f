/** Where a delivery goes; each kind has one handler per worker. */
export const deliveryKinds = ['twilio', 'telegram', 'webhook'] as const;
export type DeliveryKind = (typeof deliveryKinds)[number];

export type DeliveryStatus = 'queued' | 'sending' | 'sent' | 'failed';

/** What the provider said about one attempt, beyond the outcome: kept in the attempt log. */
interface AttemptEvidence {
  /** The HTTP status the provider answered with, when it answered. */
  httpStatus?: number;
  /** The start of the provider's answer (a few KB at most). */
  response?: string;
}

/**
 * What a handler answers for one attempt. A transient failure (network, timeout, 429, 5xx) is
 * retried with backoff, no sooner than `retryAfterMs` when the provider said how long to wait;
 * a permanent one fails the delivery at once with the provider's `code` and a readable `reason`.
 */
export type SendResult =
  | ({ ok: true; providerId?: string } & AttemptEvidence)
  | ({
      ok: false;
      permanent: boolean;
      code?: string;
      reason: string;
      retryAfterMs?: number;
    } & AttemptEvidence);

/** A delivery as a worker holds it while sending. */
export interface ClaimedDelivery<Payload = unknown> {
  id: string;
  tenantId: string;
  kind: DeliveryKind;
  botId: string | null;
  messageId: string | null;
  payload: Payload;
  /** 1 for the first attempt; counts every claim, including ones a crashed worker never finished. */
  attempt: number;
  createdAt: Date;
  /** Proves this claim on the row; a later claim (after the lease ran out) replaces it. */
  claimToken: string;
}

/**
 * Sends one delivery. `signal` is aborted when the attempt has run too long (before the lease
 * ends, so another worker does not send it meanwhile); pass it on to fetch. A throw counts as a
 * transient failure.
 */
export type DeliveryHandler<Payload = unknown> = (
  delivery: ClaimedDelivery<Payload>,
  signal: AbortSignal,
) => Promise<SendResult>;

/** What a recorded attempt did to its delivery. */
export interface DeliveryOutcome {
  status: 'sent' | 'queued' | 'failed';
  providerId: string | null;
  code: string | null;
  reason: string | null;
  /** When it is tried again (status `queued`). */
  nextAttemptAt: Date | null;
  /** A transient failure that ran out of time: failed rather than retried. */
  gaveUp: boolean;
}

/** A delivery as the delivery log shows it. */
export interface DeliveryView {
  id: string;
  tenantId: string;
  kind: DeliveryKind;
  botId: string | null;
  messageId: string | null;
  payload: unknown;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  giveUpAt: string;
  providerId: string | null;
  lastCode: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

export interface AttemptView {
  attempt: number;
  claimedBy: string;
  startedAt: string;
  finishedAt: string | null;
  /** null: never finished (the worker crashed or lost its lease). */
  outcome: 'sent' | 'retry' | 'failed' | null;
  providerId: string | null;
  code: string | null;
  reason: string | null;
  httpStatus: number | null;
  response: string | null;
  retryAfterMs: number | null;
}
