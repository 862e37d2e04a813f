import { SyncdeckError } from './errors.ts';
import {
  backoffMs,
  defaultFetch,
  errorMessage,
  type FetchLike,
  type HttpAnswer,
  request,
  retryAfterMs,
  retryableStatus,
} from './http.ts';
import { log, type SyncdeckLogger } from './logger.ts';
import type { StoredEvent } from './outbox.ts';
import { DEFAULT_EVENT_QUEUE_OPTIONS, EventQueue, type QueueEntry } from './queue.ts';
import type { SendOutcome, SyncClientOptions, SyncStats } from './types.ts';

type Tunables = 'timeoutMs' | 'maxQueue' | 'batchSize' | 'retryBaseMs' | 'retryMaxMs' | 'maxAttempts';

/**
 * Options of {@link DeliveryLoop}: where to send and with which headers, and the sync client's
 * options of the same names.
 *
 * @example
 * ```ts
 * const options: DeliveryLoopOptions = { endpoint, headers, logger, batchSize: 50 };
 * ```
 */
export type DeliveryLoopOptions = Pick<SyncClientOptions, Tunables | 'outboxPath' | 'fetch'> & {
  /** The ingest URL. */
  endpoint: string;
  /** Sent with every request: authorization, content type, tenant. */
  headers: Record<string, string>;
  logger: SyncdeckLogger;
};

/**
 * The defaults of {@link DeliveryLoop}: 3 s per request, batches of 100, retries from 500 ms
 * doubling up to 60 s and never given up, 10,000 events held.
 *
 * @example
 * ```ts
 * DEFAULT_DELIVERY_LOOP_OPTIONS.batchSize; // 100
 * ```
 */
export const DEFAULT_DELIVERY_LOOP_OPTIONS: Readonly<Required<Pick<DeliveryLoopOptions, Tunables>>> =
  Object.freeze({
    timeoutMs: 3000,
    ...DEFAULT_EVENT_QUEUE_OPTIONS,
    batchSize: 100,
    retryBaseMs: 500,
    retryMaxMs: 60_000,
    maxAttempts: Number.POSITIVE_INFINITY,
  });

/**
 * Sends an {@link EventQueue} to the server: batches of up to `batchSize`, one request at a time,
 * in order. Network errors, timeouts, 5xx and 429 are retried with exponential backoff and jitter,
 * honouring `Retry-After`; other 4xx, and events a batch answers `rejected`, are finished
 * `rejected`. A 413 halves the batch until the backlog that met it is sent.
 *
 * @example
 * ```ts
 * const delivery = new DeliveryLoop({ endpoint: 'https://hub.example.com/functions/v1/sync', headers, logger });
 * const outcome = delivery.enqueue(stored, JSON.stringify(stored));
 * await delivery.flush({ timeoutMs: 5000 });
 * await delivery.close();
 * ```
 */
export class DeliveryLoop {
  readonly queue: EventQueue;
  /** Requests that failed and were retried. */
  retries = 0;
  /** Failed requests since the last successful one. */
  consecutiveFailures = 0;
  lastDeliveredAt: string | null = null;
  private readonly endpoint: string;
  private readonly headers: Record<string, string>;
  private readonly logger: SyncdeckLogger;
  private readonly fetch: FetchLike;
  private readonly timeoutMs: number;
  private readonly batchSize: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly maxAttempts: number;
  private stopped = false;
  private pumping = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private kickTimer: ReturnType<typeof setTimeout> | null = null;
  /** Halved after a 413 so a batch of large events gets through; restored after a success. */
  private currentBatch: number;
  private readonly abort = new AbortController();

  constructor(options: DeliveryLoopOptions) {
    const defaults = DEFAULT_DELIVERY_LOOP_OPTIONS;
    this.endpoint = options.endpoint;
    this.headers = options.headers;
    this.logger = options.logger;
    this.fetch = options.fetch ?? defaultFetch;
    this.timeoutMs = options.timeoutMs ?? defaults.timeoutMs;
    this.batchSize = Math.min(1000, Math.max(1, options.batchSize ?? defaults.batchSize));
    this.retryBaseMs = options.retryBaseMs ?? defaults.retryBaseMs;
    this.retryMaxMs = options.retryMaxMs ?? defaults.retryMaxMs;
    this.maxAttempts = options.maxAttempts ?? defaults.maxAttempts;
    this.currentBatch = this.batchSize;
    this.queue = new EventQueue({
      maxQueue: options.maxQueue,
      outboxPath: options.outboxPath,
      logger: options.logger,
    });
    if (this.queue.queued.length > 0) this.kick(); // events the outbox kept
  }

  /** Queues an event and sends it soon; the promise settles when it is finished. */
  enqueue(stored: StoredEvent, json: string): Promise<SendOutcome> {
    const outcome = this.queue.push(stored, json);
    // Nothing is queued only when the event was dropped: everything held is in flight.
    if (this.queue.queued.length > 0) this.kick();
    return outcome;
  }

  /** Sends what is queued now (skipping a retry wait); true when nothing is left, false on timeout. */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.queue.idle) return true;
    if (this.retryTimer && !this.stopped) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    void this.pump();
    return this.queue.whenIdle(timeoutMs);
  }

  /** Stops sending (a request under way is aborted and its events put back), then closes the queue. */
  async close(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.kickTimer) clearTimeout(this.kickTimer);
    this.retryTimer = null;
    this.kickTimer = null;
    // Let a request the abort just cut short put its events back.
    while (this.pumping) await new Promise((resolve) => setTimeout(resolve, 5));
    this.queue.close();
  }

  /** The queue's and the loop's part of {@link SyncStats}. */
  stats(): Omit<SyncStats, 'enabled' | 'debounced' | 'debounceEntries'> {
    const { queue } = this;
    return {
      queued: queue.queued.length,
      inFlight: queue.inFlight.length,
      ...queue.counters,
      retries: this.retries,
      consecutiveFailures: this.consecutiveFailures,
      lastError: queue.lastError,
      lastDeliveredAt: this.lastDeliveredAt,
      outboxPath: queue.outboxPath,
      outboxErrors: queue.outboxErrors,
    };
  }

  /** Sends soon: after the current turn, so the calls a bot makes together share one request. */
  private kick() {
    if (this.kickTimer || this.stopped) return;
    this.kickTimer = setTimeout(() => {
      this.kickTimer = null;
      void this.pump();
    }, 0);
  }

  private async pump(): Promise<void> {
    if (this.pumping || this.stopped || this.retryTimer) return;
    this.pumping = true;
    try {
      while (this.queue.queued.length > 0 && !this.stopped && !this.retryTimer) {
        await this.deliver(this.queue.take(this.currentBatch));
        this.queue.landed();
      }
    } finally {
      this.pumping = false;
      this.queue.landed();
      this.queue.notifyIdle();
    }
  }

  private async deliver(batch: QueueEntry[]) {
    const { queue } = this;
    const single = batch.length === 1;
    const body = single ? batch[0]!.json : `{"events":[${batch.map((entry) => entry.json).join(',')}]}`;
    let answer: HttpAnswer;
    try {
      const init = { method: 'POST', headers: this.headers, body };
      answer = await request(this.fetch, this.endpoint, init, this.timeoutMs, this.abort.signal);
      queue.landed();
    } catch (error) {
      queue.landed();
      const failure =
        error instanceof SyncdeckError
          ? error
          : new SyncdeckError('network', String(error), { cause: error });
      if (failure.code === 'closed') return queue.requeue(batch);
      return this.retry(batch, failure, undefined);
    }

    if (answer.status >= 200 && answer.status < 300) {
      this.succeeded();
      if (!single) {
        const again = queue.finishResults(batch, answer);
        if (again) this.retry(again.entries, again.error, undefined);
        return;
      }
      const duplicate = (answer.body as { status?: unknown } | null)?.status === 'duplicate';
      return queue.finish(batch, (entry) => ({
        status: 'delivered',
        eventId: entry.stored.event_id,
        duplicate,
      }));
    }
    const details = { status: answer.status, body: answer.body };
    if (retryableStatus(answer.status)) {
      const message = `the server answered ${answer.status}: ${errorMessage(answer)}`;
      const error = new SyncdeckError('server_error', message, details);
      return this.retry(batch, error, retryAfterMs(answer.headers.get('retry-after')));
    }
    if (answer.status === 413 && batch.length > 1) {
      this.currentBatch = Math.max(1, Math.floor(batch.length / 2));
      return queue.requeue(batch);
    }
    const code = [400, 413, 422].includes(answer.status) ? 'invalid_event' : 'rejected';
    const message = `the server refused the event (${answer.status}): ${errorMessage(answer)}`;
    const error = new SyncdeckError(code, message, details);
    queue.recordError(error);
    log(
      this.logger,
      'warn',
      { status: answer.status, events: batch.map((entry) => entry.stored.event), error: answer.body },
      'Syncdeck refused events; they are not retried',
    );
    queue.finish(batch, (entry) => ({ status: 'rejected', eventId: entry.stored.event_id, error }));
  }

  private succeeded() {
    if (this.consecutiveFailures > 0) {
      log(this.logger, 'info', { after: this.consecutiveFailures }, 'Syncdeck reachable again; delivering');
    }
    this.consecutiveFailures = 0;
    // A batch halved after a 413 stays small until the backlog that met it is sent.
    if (this.queue.queued.length === 0) this.currentBatch = this.batchSize;
    this.lastDeliveredAt = new Date().toISOString();
  }

  /** Counts a failed request, gives up events out of attempts, and schedules the next try. */
  private retry(batch: QueueEntry[], error: SyncdeckError, retryAfter: number | undefined) {
    const { queue } = this;
    this.retries++;
    this.consecutiveFailures++;
    queue.recordError(error);
    const exhausted: QueueEntry[] = [];
    const again: QueueEntry[] = [];
    for (const entry of batch) {
      entry.attempts++;
      (entry.attempts >= this.maxAttempts ? exhausted : again).push(entry);
    }
    if (exhausted.length > 0) {
      const gaveUp = new SyncdeckError(
        'gave_up',
        `gave up after ${this.maxAttempts} attempts: ${error.message}`,
        {
          cause: error,
          ...(error.status === undefined ? {} : { status: error.status }),
        },
      );
      queue.finish(exhausted, (entry) => ({
        status: 'failed',
        eventId: entry.stored.event_id,
        error: gaveUp,
      }));
    }
    queue.requeue(again);
    const delay = Math.min(
      this.retryMaxMs,
      retryAfter ?? backoffMs(this.consecutiveFailures, this.retryBaseMs, this.retryMaxMs),
    );
    log(
      this.logger,
      this.consecutiveFailures === 1 ? 'warn' : 'debug',
      { code: error.code, status: error.status, queued: queue.queued.length, retryInMs: delay },
      `Syncdeck sync failed (${error.message}); retrying`,
    );
    if (queue.queued.length > 0 && !this.stopped) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        void this.pump();
      }, delay);
    }
  }
}
