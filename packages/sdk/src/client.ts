import type { SyncEventData, SyncEventName, SyncResult } from '@syncdeck/core';
import { SyncdeckError } from './errors.ts';
import {
  backoffMs,
  type FetchLike,
  type HttpAnswer,
  errorMessage,
  joinPath,
  parseUrl,
  request,
  retryAfterMs,
  retryableStatus,
  USER_AGENT,
} from './http.ts';
import { consoleLogger, log, type SyncdeckLogger } from './logger.ts';
import { FileOutbox, type StoredEvent } from './outbox.ts';
import { uuidv7 } from './uuid.ts';

/**
 * Options of {@link createSyncClient}. Only `url` and `apiKey` matter for most bots.
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
 * The bot's sync client: every method returns at once, never throws, and hands back a promise
 * that resolves (never rejects) when the event was delivered or given up.
 *
 * @example
 * ```ts
 * const sync: SyncClient = createSyncClient({ url, apiKey });
 * sync.escalationCreated({ customer_identifier: { telegram_chat_id: 123 }, reason: 'wants a human' });
 * await sync.flush(); // optional: wait until everything queued is delivered
 * ```
 */
export interface SyncClient {
  /** Whether the client has a url and key; when false every call is a no-op. */
  readonly enabled: boolean;
  /** A customer wrote: debounced per chat. */
  customerSeen(data: EventData<'customer.seen'>, options?: SendOptions): Promise<SendOutcome>;
  orderCreated(data: EventData<'order.created'>, options?: SendOptions): Promise<SendOutcome>;
  orderStatus(data: EventData<'order.status'>, options?: SendOptions): Promise<SendOutcome>;
  escalationCreated(data: EventData<'escalation.created'>, options?: SendOptions): Promise<SendOutcome>;
  escalationResolved(data: EventData<'escalation.resolved'>, options?: SendOptions): Promise<SendOutcome>;
  messageCreated(data: EventData<'message.created'>, options?: SendOptions): Promise<SendOutcome>;
  conversationClosed(data: EventData<'conversation.closed'>, options?: SendOptions): Promise<SendOutcome>;
  /** Any event by name. `customer.seen` is debounced here too. */
  send<E extends SyncEventName>(event: E, data: EventData<E>, options?: SendOptions): Promise<SendOutcome>;
  /** Sends what is queued now (skipping a retry wait); true when nothing is left, false on timeout. */
  flush(options?: { timeoutMs?: number }): Promise<boolean>;
  /**
   * Stops taking events, flushes (default 5 s), stops timers and closes the outbox. Events still
   * queued resolve `pending`: with an outbox they are sent after the restart, without one they are lost.
   */
  close(options?: { timeoutMs?: number }): Promise<SyncStats>;
  stats(): SyncStats;
}

interface Entry {
  stored: StoredEvent;
  json: string;
  attempts: number;
  settle: ((outcome: SendOutcome) => void) | null;
}

const INGEST_PATHS = ['/functions/v1/sync', '/api/sync/events'];

/** The ingest URL for a base or full URL. */
function ingestUrl(url: string): string {
  const parsed = parseUrl(url, 'url');
  const path = parsed.pathname.replace(/\/+$/, '');
  return INGEST_PATHS.some((p) => path.endsWith(p)) ? parsed.toString() : joinPath(parsed, INGEST_PATHS[0]!);
}

/** The chat a `customer.seen` is about, for the debounce. */
function chatKey(data: Record<string, unknown>): string | null {
  for (const field of [
    'telegram_chat_id',
    'whatsapp_phone',
    'web_session_id',
    'phone',
    'syrve_customer_id',
  ]) {
    const value = data[field];
    if (value !== undefined && value !== null && value !== '') return `${field}:${String(value)}`;
  }
  return null;
}

const resolved = (outcome: SendOutcome) => Promise.resolve(outcome);

/**
 * Creates the bot's sync client — the seed's `DashboardSyncService`, made safe to lose the network.
 *
 * Each event gets a UUIDv7 `event_id` when it is created and waits in a bounded queue (kept in
 * `outboxPath` when given); batches of up to `batchSize` go out one request at a time. Network
 * errors, timeouts, 5xx and 429 are retried with exponential backoff and jitter, honouring
 * `Retry-After`; other 4xx, and events a batch answers `rejected`, are reported and not retried.
 * When the queue is full the oldest `customer.seen` make room first, then the oldest events.
 *
 * @example
 * ```ts
 * import { createSyncClient, mapSyrveStatus } from '@syncdeck/sdk';
 *
 * const sync = createSyncClient({
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
export function createSyncClient(options: SyncClientOptions = {}): SyncClient {
  const logger = options.logger ?? consoleLogger;
  const timeoutMs = options.timeoutMs ?? 3000;
  const debounceMs = options.customerSeenDebounceMs ?? 5 * 60 * 1000;
  const debounceMax = Math.max(1, options.debounceMaxEntries ?? 10_000);
  const maxQueue = Math.max(1, options.maxQueue ?? 10_000);
  const batchSize = Math.min(1000, Math.max(1, options.batchSize ?? 100));
  const retryBaseMs = options.retryBaseMs ?? 500;
  const retryMaxMs = options.retryMaxMs ?? 60_000;
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  const fetchFn: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  const counters = {
    delivered: 0,
    duplicates: 0,
    rejected: 0,
    dropped: 0,
    failed: 0,
    debounced: 0,
    retries: 0,
    consecutiveFailures: 0,
  };
  let lastError: SyncStats['lastError'] = null;
  let lastDeliveredAt: string | null = null;

  const enabled = Boolean(options.url && options.apiKey);
  let configError: SyncdeckError | null = null;
  let endpoint = '';
  if (enabled) {
    try {
      endpoint = ingestUrl(options.url!);
    } catch (error) {
      configError = error as SyncdeckError;
      log(logger, 'error', { url: options.url }, `Syncdeck sync is off: ${configError.message}`);
    }
  }
  const headers: Record<string, string> = {
    authorization: `Bearer ${options.apiKey ?? ''}`,
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    ...(options.tenant ? { 'x-restaurant-id': options.tenant } : {}),
  };

  const queue: Entry[] = [];
  let inFlight: Entry[] = [];
  let closed = false;
  let stopped = false;
  let pumping = false;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let kickTimer: ReturnType<typeof setTimeout> | null = null;
  /** Halved after a 413 so a batch of large events gets through; restored after a success. */
  let currentBatch = batchSize;
  const idleWaiters = new Set<() => void>();
  const abort = new AbortController();

  let outbox: FileOutbox | null = null;
  if (enabled && !configError && options.outboxPath) {
    outbox = new FileOutbox(options.outboxPath, logger);
    try {
      const stored = outbox.open();
      for (const event of stored) {
        queue.push({ stored: event, json: JSON.stringify(event), attempts: 0, settle: null });
      }
      while (queue.length > maxQueue) evictOne();
      if (stored.length > 0) {
        log(logger, 'info', { path: options.outboxPath, events: stored.length }, 'outbox: resuming events');
        kick();
      }
    } catch (error) {
      outbox.close(); // releases the lock if this process took it
      outbox.errors++;
      log(
        logger,
        'error',
        { path: options.outboxPath, err: error },
        'outbox: cannot be used; events are kept in memory only',
      );
      outbox = null;
    }
  }

  // The debounce: chat → when its customer.seen was last sent and what it said. Map order is
  // recency order (entries are re-inserted on every send), so the sweep stops at the first fresh one.
  const seen = new Map<string, { at: number; fingerprint: string }>();
  const sweep = () => {
    const horizon = Date.now() - debounceMs;
    for (const [key, entry] of seen) {
      if (entry.at > horizon) break;
      seen.delete(key);
    }
  };
  const sweepTimer = setInterval(sweep, options.debounceSweepMs ?? 60_000);
  sweepTimer.unref?.();

  function recordError(error: SyncdeckError) {
    lastError = { code: error.code, message: error.message, at: new Date().toISOString() };
  }

  function finish(entries: Entry[], outcome: (entry: Entry) => SendOutcome) {
    outbox?.remove(entries.map((entry) => entry.stored.event_id));
    for (const entry of entries) {
      const result = outcome(entry);
      if (result.status === 'delivered') {
        counters.delivered++;
        if (result.duplicate) counters.duplicates++;
      } else if (result.status === 'rejected') counters.rejected++;
      else if (result.status === 'dropped') counters.dropped++;
      else if (result.status === 'failed') counters.failed++;
      entry.settle?.(result);
      entry.settle = null;
    }
  }

  /** Makes room: the oldest queued customer.seen, else the oldest queued event. */
  function evictOne(): boolean {
    if (queue.length === 0) return false;
    let index = queue.findIndex((entry) => entry.stored.event === 'customer.seen');
    if (index < 0) index = 0;
    const [victim] = queue.splice(index, 1);
    const error = new SyncdeckError('queue_full', `the queue is full (${maxQueue}); dropped the oldest`);
    recordError(error);
    finish([victim!], (entry) => ({ status: 'dropped', eventId: entry.stored.event_id, error }));
    if (counters.dropped === 1 || counters.dropped % 1000 === 0) {
      log(
        logger,
        'warn',
        { dropped: counters.dropped, event: victim!.stored.event, maxQueue },
        'Syncdeck queue full: dropping the oldest events',
      );
    }
    return true;
  }

  function notifyIdle() {
    if (queue.length > 0 || inFlight.length > 0) return;
    for (const wake of idleWaiters) wake();
    idleWaiters.clear();
  }

  /** Sends soon: after the current turn, so the calls a bot makes together share one request. */
  function kick() {
    if (kickTimer || stopped) return;
    kickTimer = setTimeout(() => {
      kickTimer = null;
      void pump();
    }, 0);
  }

  async function pump(): Promise<void> {
    if (pumping || stopped || retryTimer) return;
    pumping = true;
    try {
      while (queue.length > 0 && !stopped && !retryTimer) {
        inFlight = queue.splice(0, currentBatch);
        outbox?.syncSoon();
        await deliver(inFlight);
        inFlight = [];
      }
    } finally {
      pumping = false;
      inFlight = [];
      notifyIdle();
    }
  }

  async function deliver(batch: Entry[]) {
    const single = batch.length === 1;
    const body = single ? batch[0]!.json : `{"events":[${batch.map((entry) => entry.json).join(',')}]}`;
    let answer: HttpAnswer;
    try {
      answer = await request(fetchFn, endpoint, { method: 'POST', headers, body }, timeoutMs, abort.signal);
      inFlight = [];
    } catch (error) {
      inFlight = [];
      const failure =
        error instanceof SyncdeckError
          ? error
          : new SyncdeckError('network', String(error), { cause: error });
      if (failure.code === 'closed') {
        queue.unshift(...batch);
        return;
      }
      return retry(batch, failure, undefined);
    }

    if (answer.status >= 200 && answer.status < 300) {
      succeeded();
      if (single) {
        const duplicate = (answer.body as { status?: unknown } | null)?.status === 'duplicate';
        return finish(batch, (entry) => ({ status: 'delivered', eventId: entry.stored.event_id, duplicate }));
      }
      return settleBatch(batch, answer);
    }
    if (retryableStatus(answer.status)) {
      const error = new SyncdeckError(
        'server_error',
        `the server answered ${answer.status}: ${errorMessage(answer)}`,
        {
          status: answer.status,
          body: answer.body,
        },
      );
      return retry(batch, error, retryAfterMs(answer.headers.get('retry-after')));
    }
    if (answer.status === 413 && batch.length > 1) {
      currentBatch = Math.max(1, Math.floor(batch.length / 2));
      queue.unshift(...batch);
      return;
    }
    const code =
      answer.status === 400 || answer.status === 413 || answer.status === 422 ? 'invalid_event' : 'rejected';
    const error = new SyncdeckError(
      code,
      `the server refused the event (${answer.status}): ${errorMessage(answer)}`,
      {
        status: answer.status,
        body: answer.body,
      },
    );
    recordError(error);
    log(
      logger,
      'warn',
      { status: answer.status, events: batch.map((entry) => entry.stored.event), error: answer.body },
      'Syncdeck refused events; they are not retried',
    );
    finish(batch, (entry) => ({ status: 'rejected', eventId: entry.stored.event_id, error }));
  }

  function succeeded() {
    if (counters.consecutiveFailures > 0) {
      log(logger, 'info', { after: counters.consecutiveFailures }, 'Syncdeck reachable again; delivering');
    }
    counters.consecutiveFailures = 0;
    // A batch halved after a 413 stays small until the backlog that met it is sent.
    if (queue.length === 0) currentBatch = batchSize;
    lastDeliveredAt = new Date().toISOString();
  }

  function settleBatch(batch: Entry[], answer: HttpAnswer) {
    const results = (answer.body as { results?: SyncResult[] } | null)?.results;
    const resultOf = new Map<Entry, SyncResult>();
    if (Array.isArray(results)) {
      for (const result of results) if (batch[result.index]) resultOf.set(batch[result.index]!, result);
    }
    // An event the server could not store (a database error, not its data) is answered
    // rejected with `retryable`: it is retried as a 5xx would be (alone, the server answers it 500).
    const transient = (result: SyncResult) =>
      result.status === 'rejected' && result.error?.retryable === true;
    const again = batch.filter((entry) => resultOf.has(entry) && transient(resultOf.get(entry)!));
    const answered = batch.filter((entry) => resultOf.has(entry) && !again.includes(entry));
    const rejected = answered.filter((entry) => resultOf.get(entry)!.status === 'rejected');
    finish(answered, (entry) => {
      const result = resultOf.get(entry)!;
      if (result.status === 'rejected') {
        const error = new SyncdeckError(
          'invalid_event',
          `the server rejected ${entry.stored.event}: ${result.error?.message ?? 'invalid'}`,
          { status: answer.status, body: result },
        );
        recordError(error);
        return { status: 'rejected', eventId: entry.stored.event_id, error };
      }
      return {
        status: 'delivered',
        eventId: entry.stored.event_id,
        duplicate: result.status === 'duplicate',
      };
    });
    if (rejected.length > 0) {
      log(
        logger,
        'warn',
        {
          rejected: rejected.map((entry) => ({
            event: entry.stored.event,
            event_id: entry.stored.event_id,
            error: resultOf.get(entry)!.error,
          })),
        },
        'Syncdeck rejected events of a batch; they are not retried',
      );
    }
    // An answer without a result for an event: send it again; its event_id makes that safe.
    const unanswered = batch.filter((entry) => !resultOf.has(entry));
    if (unanswered.length > 0) queue.unshift(...unanswered);
    if (again.length > 0) {
      const error = new SyncdeckError('server_error', 'the server could not store some events of a batch', {
        status: answer.status,
        body: again.map((entry) => resultOf.get(entry)),
      });
      retry(again, error, undefined);
    }
  }

  function retry(
    batch: Entry[],
    error: SyncdeckError,
    retryAfter: number | undefined,
    attemptLimit = maxAttempts,
  ) {
    counters.retries++;
    counters.consecutiveFailures++;
    recordError(error);
    const exhausted: Entry[] = [];
    const again: Entry[] = [];
    for (const entry of batch) {
      entry.attempts++;
      (entry.attempts >= maxAttempts ? exhausted : again).push(entry);
    }
    if (exhausted.length > 0) {
      const gaveUp = new SyncdeckError(
        'gave_up',
        `gave up after ${attemptLimit} attempts: ${error.message}`,
        {
          cause: error,
          ...(error.status === undefined ? {} : { status: error.status }),
        },
      );
      finish(exhausted, (entry) => ({ status: 'failed', eventId: entry.stored.event_id, error: gaveUp }));
    }
    queue.unshift(...again);
    const delay = Math.min(
      retryMaxMs,
      retryAfter ?? backoffMs(counters.consecutiveFailures, retryBaseMs, retryMaxMs),
    );
    log(
      logger,
      counters.consecutiveFailures === 1 ? 'warn' : 'debug',
      { code: error.code, status: error.status, queued: queue.length, retryInMs: delay },
      `Syncdeck sync failed (${error.message}); retrying`,
    );
    if (queue.length > 0 && !stopped) {
      retryTimer = setTimeout(() => {
        retryTimer = null;
        void pump();
      }, delay);
    }
  }

  function enqueue(event: string, data: unknown, sendOptions: SendOptions | undefined): Promise<SendOutcome> {
    if (closed) return resolved({ status: 'skipped', reason: 'closed' });
    if (!enabled) return resolved({ status: 'skipped', reason: 'disabled' });
    const eventId = sendOptions?.eventId ?? uuidv7();
    if (configError) {
      counters.failed++;
      return resolved({ status: 'failed', eventId, error: configError });
    }
    let stored: StoredEvent;
    let json: string;
    try {
      const occurred = sendOptions?.occurredAt ?? new Date();
      stored = {
        event,
        data,
        event_id: eventId,
        occurred_at: typeof occurred === 'string' ? occurred : occurred.toISOString(),
      };
      json = JSON.stringify(stored);
    } catch (cause) {
      const error = new SyncdeckError('invalid_event', `${event}: the data cannot be sent as JSON`, {
        cause,
      });
      counters.failed++;
      recordError(error);
      log(logger, 'warn', { event, err: cause }, 'Syncdeck: event not sent');
      return resolved({ status: 'failed', eventId, error });
    }
    if (event === 'customer.seen' && data && typeof data === 'object') {
      const key = chatKey(data as Record<string, unknown>);
      if (key) {
        const now = Date.now();
        const fingerprint = JSON.stringify(data);
        const last = seen.get(key);
        if (last && now - last.at < debounceMs && last.fingerprint === fingerprint) {
          counters.debounced++;
          return resolved({ status: 'skipped', reason: 'debounced' });
        }
        seen.delete(key);
        seen.set(key, { at: now, fingerprint });
        if (seen.size > debounceMax) seen.delete(seen.keys().next().value!);
      }
    }
    while (queue.length + inFlight.length >= maxQueue) {
      if (!evictOne()) {
        const error = new SyncdeckError('queue_full', `the queue is full (${maxQueue})`);
        counters.dropped++;
        recordError(error);
        return resolved({ status: 'dropped', eventId, error });
      }
    }
    return new Promise<SendOutcome>((settle) => {
      const entry: Entry = { stored, json, attempts: 0, settle };
      outbox?.add(stored);
      queue.push(entry);
      kick();
    });
  }

  // A typed method per event: the same path, so each is as safe as `send`.
  const method =
    <E extends SyncEventName>(event: E) =>
    (data: EventData<E>, sendOptions?: SendOptions) =>
      enqueue(event, data, sendOptions);

  function stats(): SyncStats {
    return {
      enabled: enabled && !configError,
      queued: queue.length,
      inFlight: inFlight.length,
      ...counters,
      lastError,
      lastDeliveredAt,
      debounceEntries: seen.size,
      outboxPath: outbox?.path ?? null,
      outboxErrors: outbox?.errors ?? 0,
    };
  }

  async function flush(flushOptions: { timeoutMs?: number } = {}): Promise<boolean> {
    if (queue.length === 0 && inFlight.length === 0) return true;
    if (retryTimer && !stopped) {
      clearTimeout(retryTimer);
      retryTimer = null;
    }
    void pump();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wake: () => void = () => {};
    const idle = new Promise<boolean>((resolve) => {
      wake = () => resolve(true);
      idleWaiters.add(wake);
    });
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), flushOptions.timeoutMs ?? 10_000);
    });
    const done = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    idleWaiters.delete(wake);
    return done;
  }

  return {
    enabled: enabled && !configError,
    customerSeen: method('customer.seen'),
    orderCreated: method('order.created'),
    orderStatus: method('order.status'),
    escalationCreated: method('escalation.created'),
    escalationResolved: method('escalation.resolved'),
    messageCreated: method('message.created'),
    conversationClosed: method('conversation.closed'),
    send: (event, data, sendOptions) => enqueue(event, data, sendOptions),
    flush,
    stats,
    async close(closeOptions = {}) {
      if (closed) return stats();
      closed = true;
      if (queue.length > 0 || inFlight.length > 0) await flush({ timeoutMs: closeOptions.timeoutMs ?? 5000 });
      stopped = true;
      abort.abort();
      clearInterval(sweepTimer);
      if (retryTimer) clearTimeout(retryTimer);
      if (kickTimer) clearTimeout(kickTimer);
      retryTimer = null;
      kickTimer = null;
      // Let a request the abort just cut short put its events back.
      while (pumping) await new Promise((resolve) => setTimeout(resolve, 5));
      for (const entry of queue) entry.settle?.({ status: 'pending', eventId: entry.stored.event_id });
      if (queue.length > 0) {
        log(
          logger,
          outbox ? 'info' : 'warn',
          { queued: queue.length, outbox: outbox?.path ?? null },
          outbox
            ? 'Syncdeck closed; queued events stay in the outbox'
            : 'Syncdeck closed; queued events are lost',
        );
      }
      outbox?.close();
      return stats();
    },
  };
}
