import type { SyncEventName } from '@syncdeck/core';
import { bindMethods } from './bind.ts';
import { CustomerSeenDebounce, DEFAULT_CUSTOMER_SEEN_DEBOUNCE_OPTIONS } from './debounce.ts';
import { DEFAULT_DELIVERY_LOOP_OPTIONS, DeliveryLoop } from './delivery.ts';
import type { SyncdeckError } from './errors.ts';
import { ingestUrl, storedEvent } from './events.ts';
import { USER_AGENT } from './http.ts';
import { consoleLogger, log, type SyncdeckLogger } from './logger.ts';
import type { EventData, SendOptions, SendOutcome, SyncClientOptions, SyncStats } from './types.ts';
import { uuidv7 } from './uuid.ts';

/**
 * The defaults of the {@link SyncClient}'s options (`url`, `apiKey`, `tenant`, `outboxPath` have
 * none; `fetch` defaults to the global one). Frozen: pass your own values in the options instead.
 *
 * @example
 * ```ts
 * const sync = new SyncClient({ url, apiKey, batchSize: DEFAULT_SYNC_CLIENT_OPTIONS.batchSize * 2 });
 * ```
 */
export const DEFAULT_SYNC_CLIENT_OPTIONS: Readonly<
  Required<Omit<SyncClientOptions, 'url' | 'apiKey' | 'tenant' | 'outboxPath' | 'fetch'>>
> = Object.freeze({
  ...DEFAULT_DELIVERY_LOOP_OPTIONS,
  ...DEFAULT_CUSTOMER_SEEN_DEBOUNCE_OPTIONS,
  logger: consoleLogger,
});

/** How long `flush()` and `close()` wait for the queue to drain by default. */
const FLUSH_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 5000;

const resolved = (outcome: SendOutcome) => Promise.resolve(outcome);

/**
 * The bot's sync client — the seed's `DashboardSyncService`, made safe to lose the network. Every
 * method returns at once, never throws, and hands back a promise that resolves (never rejects)
 * when the event was delivered or given up. Without `url` or `apiKey` every call is a no-op.
 *
 * Each event gets a UUIDv7 `event_id` when it is created and waits in a bounded queue (kept in
 * `outboxPath` when given); batches of up to `batchSize` go out one request at a time. Network
 * errors, timeouts, 5xx and 429 are retried with exponential backoff and jitter, honouring
 * `Retry-After`; other 4xx, and events a batch answers `rejected`, are reported and not retried.
 * When the queue is full the oldest `customer.seen` make room first, then the oldest events.
 * Methods are bound: `const { orderStatus } = sync` works.
 *
 * @example
 * ```ts
 * import { mapSyrveStatus, SyncClient } from '@syncdeck/sdk';
 *
 * const sync = new SyncClient({
 *   url: process.env.SYNCDECK_URL,        // no url or key: every call is a no-op
 *   apiKey: process.env.SYNCDECK_API_KEY,
 *   outboxPath: './data/syncdeck-outbox.jsonl',
 *   logger,                               // your pino logger
 * });
 *
 * sync.customerSeen({ whatsapp_phone: '+966501234567', display_name: 'Sara', preferred_language: 'ar' });
 * sync.orderStatus({ syrve_order_id: 'A-1001', status: mapSyrveStatus('CookingStarted') });
 *
 * process.on('SIGTERM', async () => {
 *   await sync.close();
 *   process.exit(0);
 * });
 * ```
 */
export class SyncClient {
  /** Whether the client has a usable url and key; when false every call is a no-op. */
  readonly enabled: boolean;
  /** Whether a url and key were given (a url that cannot be used still fails each call). */
  private readonly configured: boolean;
  private readonly configError: SyncdeckError | null = null;
  private readonly logger: SyncdeckLogger;
  private readonly delivery: DeliveryLoop;
  private readonly debounce: CustomerSeenDebounce;
  private closed = false;

  constructor(options: SyncClientOptions = {}) {
    this.logger = options.logger ?? DEFAULT_SYNC_CLIENT_OPTIONS.logger;
    this.configured = Boolean(options.url && options.apiKey);
    let endpoint = '';
    if (this.configured) {
      try {
        endpoint = ingestUrl(options.url!);
      } catch (error) {
        this.configError = error as SyncdeckError;
        log(this.logger, 'error', { url: options.url }, `Syncdeck sync is off: ${this.configError.message}`);
      }
    }
    this.enabled = this.configured && !this.configError;
    this.delivery = new DeliveryLoop({
      endpoint,
      headers: {
        authorization: `Bearer ${options.apiKey ?? ''}`,
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        ...(options.tenant ? { 'x-restaurant-id': options.tenant } : {}),
      },
      logger: this.logger,
      timeoutMs: options.timeoutMs,
      maxQueue: options.maxQueue,
      batchSize: options.batchSize,
      retryBaseMs: options.retryBaseMs,
      retryMaxMs: options.retryMaxMs,
      maxAttempts: options.maxAttempts,
      outboxPath: this.enabled ? options.outboxPath : undefined,
      fetch: options.fetch,
    });
    this.debounce = new CustomerSeenDebounce(options);
    bindMethods(this, [
      'customerSeen',
      'orderCreated',
      'orderStatus',
      'escalationCreated',
      'escalationResolved',
      'messageCreated',
      'conversationClosed',
      'send',
      'flush',
      'close',
      'stats',
    ]);
  }

  /**
   * A customer wrote: `customer.seen`, debounced per chat, so call it on every message.
   *
   * @example
   * ```ts
   * sync.customerSeen({ whatsapp_phone: message.from, display_name: 'Sara', primary_channel: 'whatsapp' });
   * ```
   */
  customerSeen(data: EventData<'customer.seen'>, options?: SendOptions): Promise<SendOutcome> {
    return this.enqueue('customer.seen', data, options);
  }

  /**
   * A new order: `order.created`.
   *
   * @example
   * ```ts
   * sync.orderCreated({ customer_identifier: { whatsapp_phone }, syrve_order_id: 'A-1', items, total: 36 });
   * ```
   */
  orderCreated(data: EventData<'order.created'>, options?: SendOptions): Promise<SendOutcome> {
    return this.enqueue('order.created', data, options);
  }

  /**
   * An order moved on: `order.status`.
   *
   * @example
   * ```ts
   * sync.orderStatus({ syrve_order_id: 'A-1', status: mapSyrveStatus(webhook.status) });
   * ```
   */
  orderStatus(data: EventData<'order.status'>, options?: SendOptions): Promise<SendOutcome> {
    return this.enqueue('order.status', data, options);
  }

  /**
   * The customer asked for a human: `escalation.created`.
   *
   * @example
   * ```ts
   * sync.escalationCreated({ customer_identifier: { telegram_chat_id: 42 }, reason: 'asks for a human' });
   * ```
   */
  escalationCreated(data: EventData<'escalation.created'>, options?: SendOptions): Promise<SendOutcome> {
    return this.enqueue('escalation.created', data, options);
  }

  /**
   * A human handled it: `escalation.resolved`.
   *
   * @example
   * ```ts
   * sync.escalationResolved({ customer_identifier: { telegram_chat_id: 42 }, resolution_summary: 'done' });
   * ```
   */
  escalationResolved(data: EventData<'escalation.resolved'>, options?: SendOptions): Promise<SendOutcome> {
    return this.enqueue('escalation.resolved', data, options);
  }

  /**
   * A message in or out: `message.created`. An OUT message a person wrote (an operator answering
   * through the bot) says so with `sender: { type: 'agent', name }`; the dashboard shows the name.
   *
   * @example
   * ```ts
   * sync.messageCreated({ customer_identifier, bot: { telegram_bot_id: 7 }, direction: 'IN', content: 'hi' });
   * sync.messageCreated({ customer_identifier, bot, direction: 'OUT', content: 'On its way!', sender: { type: 'agent', name: 'Sara' } });
   * ```
   */
  messageCreated(data: EventData<'message.created'>, options?: SendOptions): Promise<SendOutcome> {
    return this.enqueue('message.created', data, options);
  }

  /**
   * The conversation ended: `conversation.closed`.
   *
   * @example
   * ```ts
   * sync.conversationClosed({ customer_identifier: { telegram_chat_id: 42 }, bot: { telegram_bot_id: 7 } });
   * ```
   */
  conversationClosed(data: EventData<'conversation.closed'>, options?: SendOptions): Promise<SendOutcome> {
    return this.enqueue('conversation.closed', data, options);
  }

  /**
   * Any event by name; `customer.seen` is debounced here too.
   *
   * @example
   * ```ts
   * sync.send('order.status', { syrve_order_id: 'A-1', status: 'delivered' }, { eventId: webhook.id });
   * ```
   */
  send<E extends SyncEventName>(event: E, data: EventData<E>, options?: SendOptions): Promise<SendOutcome> {
    return this.enqueue(event, data, options);
  }

  /**
   * Sends what is queued now (skipping a retry wait); true when nothing is left, false when
   * `timeoutMs` (default 10 s) passed first.
   *
   * @example
   * ```ts
   * if (!(await sync.flush({ timeoutMs: 2000 }))) logger.warn(sync.stats(), 'Syncdeck is behind');
   * ```
   */
  flush(options: { timeoutMs?: number } = {}): Promise<boolean> {
    return this.delivery.flush(options.timeoutMs ?? FLUSH_TIMEOUT_MS);
  }

  /**
   * Stops taking events, flushes (default 5 s), stops timers and closes the outbox. Events still
   * queued resolve `pending`: with an outbox they are sent after the restart, without one they are
   * lost. Resolves to the final stats; closing again only returns them.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', async () => {
   *   const stats = await sync.close({ timeoutMs: 3000 });
   *   logger.info(stats, 'Syncdeck closed');
   *   process.exit(0);
   * });
   * ```
   */
  async close(options: { timeoutMs?: number } = {}): Promise<SyncStats> {
    if (this.closed) return this.stats();
    this.closed = true;
    if (!this.delivery.queue.idle) await this.flush({ timeoutMs: options.timeoutMs ?? CLOSE_TIMEOUT_MS });
    this.debounce.stop();
    await this.delivery.close();
    return this.stats();
  }

  /**
   * Counters since the client was created.
   *
   * @example
   * ```ts
   * app.get('/health', () => ({ ok: true, syncdeck: sync.stats() }));
   * ```
   */
  stats(): SyncStats {
    const delivery = this.delivery.stats();
    return {
      enabled: this.enabled,
      queued: delivery.queued,
      inFlight: delivery.inFlight,
      delivered: delivery.delivered,
      duplicates: delivery.duplicates,
      rejected: delivery.rejected,
      dropped: delivery.dropped,
      failed: delivery.failed,
      debounced: this.debounce.skipped,
      retries: delivery.retries,
      consecutiveFailures: delivery.consecutiveFailures,
      lastError: delivery.lastError,
      lastDeliveredAt: delivery.lastDeliveredAt,
      debounceEntries: this.debounce.size,
      outboxPath: delivery.outboxPath,
      outboxErrors: delivery.outboxErrors,
    };
  }

  /** The one path of every method: each returns at once and never throws. */
  private enqueue(event: string, data: unknown, options: SendOptions | undefined): Promise<SendOutcome> {
    if (this.closed) return resolved({ status: 'skipped', reason: 'closed' });
    if (!this.configured) return resolved({ status: 'skipped', reason: 'disabled' });
    const eventId = options?.eventId ?? uuidv7();
    const { queue } = this.delivery;
    if (this.configError) {
      queue.countFailure(); // reported once, when the client was made
      return resolved({ status: 'failed', eventId, error: this.configError });
    }
    let prepared: ReturnType<typeof storedEvent>;
    try {
      prepared = storedEvent(event, data, eventId, options);
    } catch (error) {
      const failure = error as SyncdeckError;
      queue.countFailure(failure);
      log(this.logger, 'warn', { event, err: failure.cause }, 'Syncdeck: event not sent');
      return resolved({ status: 'failed', eventId, error: failure });
    }
    if (event === 'customer.seen' && this.debounce.skip(data)) {
      return resolved({ status: 'skipped', reason: 'debounced' });
    }
    return this.delivery.enqueue(prepared.stored, prepared.json);
  }
}

/**
 * Creates a {@link SyncClient}: the same as `new SyncClient(options)`, kept for the bots that
 * already call it.
 *
 * @example
 * ```ts
 * import { createSyncClient } from '@syncdeck/sdk';
 *
 * const sync = createSyncClient({ url: process.env.SYNCDECK_URL, apiKey: process.env.SYNCDECK_API_KEY });
 * sync.escalationCreated({ customer_identifier: { telegram_chat_id: 123 }, reason: 'wants a human' });
 * await sync.flush(); // optional: wait until everything queued is delivered
 * ```
 */
export function createSyncClient(options: SyncClientOptions = {}): SyncClient {
  return new SyncClient(options);
}
