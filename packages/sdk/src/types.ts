import type { SyncEventData, SyncEventName } from '@syncdeck/core';
import type { SyncdeckError } from './errors.ts';
import type { FetchLike } from './http.ts';
import type { SyncdeckLogger } from './logger.ts';

/**
 * Options of the `SyncClient`. Only `url` and `apiKey` matter for most bots; the defaults
 * of the others are in `DEFAULT_SYNC_CLIENT_OPTIONS`.
 *
 * @example
 * ```ts
 * const options: SyncClientOptions = {
 *   url: 'https://hub.example.com',
 *   apiKey: process.env.SYNCDECK_API_KEY,
 *   timeoutMs: 3000,
 *   outboxPath: '/var/lib/mybot/syncdeck-outbox.jsonl',
 * };
 * ```
 */
export interface SyncClientOptions {
  /**
   * The Syncdeck server (`https://hub.example.com`) or its ingest URL (`…/functions/v1/sync`,
   * `…/api/sync/events`). Missing: the client is a no-op.
   */
  url?: string | null | undefined;
  /** A tenant API key with scope `ingest`. Missing: the client is a no-op. */
  apiKey?: string | null | undefined;
  /** Sent as `X-Restaurant-Id`: only needed with a key that may act for several tenants. */
  tenant?: string | undefined;
  /** Per request, body included. Default 3000. */
  timeoutMs?: number;
  /** `customer.seen` for one chat is sent at most once per this window (unless its data changed). Default 5 minutes. */
  customerSeenDebounceMs?: number;
  /** How often remembered chats older than the window are forgotten. Default 60 s. */
  debounceSweepMs?: number;
  /** Most chats remembered for the debounce; the least recently seen go first. Default 10,000. */
  debounceMaxEntries?: number;
  /** Most events held (queued and in flight). Default 10,000. */
  maxQueue?: number;
  /** Most events per request. Default 100 (the server takes up to 1000). */
  batchSize?: number;
  /** First retry delay; it doubles per failed attempt, with jitter. Default 500 ms. */
  retryBaseMs?: number;
  /** Longest retry delay, `Retry-After` included. Default 60 s. */
  retryMaxMs?: number;
  /** Attempts per event before it is given up. Default: unlimited (the queue bound applies). */
  maxAttempts?: number;
  /** A file that keeps the queue across restarts of the bot. One process per file. */
  outboxPath?: string | undefined;
  /** pino-compatible; default: warnings and errors to `console`. */
  logger?: SyncdeckLogger;
  /** Replaces the global `fetch`. */
  fetch?: FetchLike;
}

/**
 * The data of one event, as `packages/core`'s schema accepts it.
 *
 * @example
 * ```ts
 * const status: EventData<'order.status'> = { syrve_order_id: 'A-1001', status: 'cooking' };
 * ```
 */
export type EventData<E extends SyncEventName> = SyncEventData<E>;

/**
 * Who wrote a `message.created`: `customer` (IN), `bot` or `agent` (OUT), with a name if known.
 *
 * @example
 * ```ts
 * const sender: MessageSender = { type: 'agent', name: 'Sara' };
 * ```
 */
export type MessageSender = NonNullable<EventData<'message.created'>['sender']>;

/**
 * Per-call options of the sync client's methods.
 *
 * @example
 * ```ts
 * // The provider's message id as the event id: a webhook the bot receives twice is stored once.
 * sync.messageCreated(data, { eventId: twilio.MessageSid, occurredAt: new Date(twilio.timestamp) });
 * ```
 */
export interface SendOptions {
  /** Your own idempotency key (e.g. the provider's message id). Default: a new UUIDv7. */
  eventId?: string;
  /** When it happened. Default: now. Late updates are ordered by this time on the server. */
  occurredAt?: Date | string;
}

/**
 * How a call ended. Awaiting it is optional; it never rejects.
 *
 * @example
 * ```ts
 * const outcome = await sync.orderCreated(order);
 * if (outcome.status === 'rejected') logger.warn({ err: outcome.error }, 'Syncdeck refused the order');
 * ```
 */
export type SendOutcome =
  | { status: 'delivered'; eventId: string /** The server had it already. */; duplicate: boolean }
  | { status: 'rejected' | 'dropped' | 'failed'; eventId: string; error: SyncdeckError }
  /** The client was closed with the event still queued; with an outbox it is sent after the restart. */
  | { status: 'pending'; eventId: string }
  | { status: 'skipped'; reason: 'disabled' | 'debounced' | 'closed' };

/**
 * Counters since the client was created, for a health endpoint or a metrics exporter.
 *
 * @example
 * ```ts
 * app.get('/health', () => ({ ok: true, syncdeck: sync.stats() }));
 * ```
 */
export interface SyncStats {
  enabled: boolean;
  /** Waiting to be sent (in flight not included). */
  queued: number;
  inFlight: number;
  delivered: number;
  /** Of `delivered`, those the server already had. */
  duplicates: number;
  /** Refused by the server (4xx, or rejected within a batch): not retried. */
  rejected: number;
  /** Pushed out of a full queue. */
  dropped: number;
  /** Given up after `maxAttempts`, or unsendable (invalid config or data). */
  failed: number;
  /** `customer.seen` calls skipped by the debounce. */
  debounced: number;
  /** Requests that failed and were retried. */
  retries: number;
  /** Failed requests since the last successful one. */
  consecutiveFailures: number;
  lastError: { code: string; message: string; at: string } | null;
  lastDeliveredAt: string | null;
  /** Chats the debounce currently remembers. */
  debounceEntries: number;
  outboxPath: string | null;
  outboxErrors: number;
}
