import type { SyncResult } from '@syncdeck/core';
import { SyncdeckError } from './errors.ts';
import type { HttpAnswer } from './http.ts';
import { log, type SyncdeckLogger } from './logger.ts';
import { FileOutbox, type StoredEvent } from './outbox.ts';
import type { SendOutcome, SyncClientOptions, SyncStats } from './types.ts';

/** One queued event: what is sent, how often it was tried, and the caller's promise to settle. */
export interface QueueEntry {
  stored: StoredEvent;
  json: string;
  attempts: number;
  settle: ((outcome: SendOutcome) => void) | null;
}

/**
 * Options of {@link EventQueue}: the sync client's options of the same names, and its logger.
 *
 * @example
 * ```ts
 * const options: EventQueueOptions = { maxQueue: 1000, outboxPath: './outbox.jsonl', logger };
 * ```
 */
export type EventQueueOptions = Pick<SyncClientOptions, 'maxQueue' | 'outboxPath'> & {
  logger: SyncdeckLogger;
};

/**
 * The defaults of {@link EventQueue}: at most 10,000 events.
 *
 * @example
 * ```ts
 * DEFAULT_EVENT_QUEUE_OPTIONS.maxQueue; // 10000
 * ```
 */
export const DEFAULT_EVENT_QUEUE_OPTIONS: Readonly<Required<Pick<EventQueueOptions, 'maxQueue'>>> =
  Object.freeze({ maxQueue: 10_000 });

/** The outcome counters the queue keeps (the delivery loop counts retries itself). */
export type QueueCounters = Pick<SyncStats, 'delivered' | 'duplicates' | 'rejected' | 'dropped' | 'failed'>;

/**
 * The sync client's bounded queue of events, kept in a {@link FileOutbox} when given a path: it
 * holds the events waiting and in flight, makes room when full (the oldest `customer.seen` first,
 * then the oldest event), settles each caller's promise with its outcome, and counts the outcomes.
 * The delivery loop takes batches from it and puts back those to send again.
 *
 * @example
 * ```ts
 * const queue = new EventQueue({ maxQueue: 100, logger: silentLogger });
 * const outcome = queue.push(stored, JSON.stringify(stored));
 * const batch = queue.take(10);
 * queue.landed();
 * queue.finish(batch, (entry) => ({ status: 'delivered', eventId: entry.stored.event_id, duplicate: false }));
 * ```
 */
export class EventQueue {
  readonly maxQueue: number;
  /** Waiting to be sent, oldest first. */
  queued: QueueEntry[] = [];
  /** The batch whose request is under way. */
  inFlight: QueueEntry[] = [];
  readonly counters: QueueCounters = { delivered: 0, duplicates: 0, rejected: 0, dropped: 0, failed: 0 };
  lastError: SyncStats['lastError'] = null;
  private readonly logger: SyncdeckLogger;
  private outbox: FileOutbox | null = null;
  private readonly idleWaiters = new Set<() => void>();

  constructor(options: EventQueueOptions) {
    this.logger = options.logger;
    this.maxQueue = Math.max(1, options.maxQueue ?? DEFAULT_EVENT_QUEUE_OPTIONS.maxQueue);
    if (options.outboxPath) this.resume(options.outboxPath);
  }

  /** Whether nothing is queued or in flight. */
  get idle(): boolean {
    return this.queued.length === 0 && this.inFlight.length === 0;
  }

  get outboxPath(): string | null {
    return this.outbox?.path ?? null;
  }

  get outboxErrors(): number {
    return this.outbox?.errors ?? 0;
  }

  /** Records the error `stats().lastError` reports. */
  recordError(error: SyncdeckError): void {
    this.lastError = { code: error.code, message: error.message, at: new Date().toISOString() };
  }

  /** Counts an event that could not be queued at all (unusable config or data) as failed. */
  countFailure(error?: SyncdeckError): void {
    this.counters.failed++;
    if (error) this.recordError(error);
  }

  /**
   * Queues an event (written to the outbox first); the promise settles when it is finished.
   * A full queue makes room first; when everything held is in flight the event is dropped.
   */
  push(stored: StoredEvent, json: string): Promise<SendOutcome> {
    while (this.queued.length + this.inFlight.length >= this.maxQueue) {
      if (!this.evictOne()) {
        const error = new SyncdeckError('queue_full', `the queue is full (${this.maxQueue})`);
        this.counters.dropped++;
        this.recordError(error);
        return Promise.resolve({ status: 'dropped', eventId: stored.event_id, error });
      }
    }
    return new Promise<SendOutcome>((settle) => {
      this.outbox?.add(stored);
      this.queued.push({ stored, json, attempts: 0, settle });
    });
  }

  /** Moves up to `count` of the oldest events in flight and returns them. */
  take(count: number): QueueEntry[] {
    this.inFlight = this.queued.splice(0, count);
    this.outbox?.syncSoon();
    return this.inFlight;
  }

  /** The request of the batch in flight has ended, one way or another. */
  landed(): void {
    this.inFlight = [];
  }

  /** Puts events back at the front of the queue, to be sent next. */
  requeue(entries: QueueEntry[]): void {
    this.queued.unshift(...entries);
  }

  /** Removes events from the outbox, counts their outcomes and settles their promises. */
  finish(entries: QueueEntry[], outcome: (entry: QueueEntry) => SendOutcome): void {
    this.outbox?.remove(entries.map((entry) => entry.stored.event_id));
    for (const entry of entries) {
      const result = outcome(entry);
      if (result.status === 'delivered') {
        this.counters.delivered++;
        if (result.duplicate) this.counters.duplicates++;
      } else if (result.status === 'rejected') this.counters.rejected++;
      else if (result.status === 'dropped') this.counters.dropped++;
      else if (result.status === 'failed') this.counters.failed++;
      entry.settle?.(result);
      entry.settle = null;
    }
  }

  /**
   * Finishes the events of a batch as the server's per-event results say, and puts back those it
   * did not answer. Returns the events the server could not store (a database error, not their
   * data: `rejected` with `retryable`), to be retried as a 5xx would be, with their error.
   */
  finishResults(
    batch: QueueEntry[],
    answer: HttpAnswer,
  ): { entries: QueueEntry[]; error: SyncdeckError } | null {
    const results = (answer.body as { results?: SyncResult[] } | null)?.results;
    const resultOf = new Map<QueueEntry, SyncResult>();
    if (Array.isArray(results)) {
      for (const result of results) if (batch[result.index]) resultOf.set(batch[result.index]!, result);
    }
    const transient = (result: SyncResult) =>
      result.status === 'rejected' && result.error?.retryable === true;
    const again = batch.filter((entry) => resultOf.has(entry) && transient(resultOf.get(entry)!));
    const answered = batch.filter((entry) => resultOf.has(entry) && !again.includes(entry));
    const rejected = answered.filter((entry) => resultOf.get(entry)!.status === 'rejected');
    this.finish(answered, (entry) => {
      const result = resultOf.get(entry)!;
      if (result.status === 'rejected') {
        const error = new SyncdeckError(
          'invalid_event',
          `the server rejected ${entry.stored.event}: ${result.error?.message ?? 'invalid'}`,
          { status: answer.status, body: result },
        );
        this.recordError(error);
        return { status: 'rejected', eventId: entry.stored.event_id, error };
      }
      return {
        status: 'delivered',
        eventId: entry.stored.event_id,
        duplicate: result.status === 'duplicate',
      };
    });
    if (rejected.length > 0) {
      const details = rejected.map((entry) => ({
        event: entry.stored.event,
        event_id: entry.stored.event_id,
        error: resultOf.get(entry)!.error,
      }));
      log(
        this.logger,
        'warn',
        { rejected: details },
        'Syncdeck rejected events of a batch; they are not retried',
      );
    }
    // An answer without a result for an event: send it again; its event_id makes that safe.
    const unanswered = batch.filter((entry) => !resultOf.has(entry));
    if (unanswered.length > 0) this.requeue(unanswered);
    if (again.length === 0) return null;
    const error = new SyncdeckError('server_error', 'the server could not store some events of a batch', {
      status: answer.status,
      body: again.map((entry) => resultOf.get(entry)),
    });
    return { entries: again, error };
  }

  /** Resolves true once nothing is queued or in flight (see {@link notifyIdle}), false after `timeoutMs`. */
  async whenIdle(timeoutMs: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wake: () => void = () => {};
    const idle = new Promise<boolean>((resolve) => {
      wake = () => resolve(true);
      this.idleWaiters.add(wake);
    });
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const done = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    this.idleWaiters.delete(wake);
    return done;
  }

  /** Wakes {@link whenIdle} if the queue is empty; the delivery loop calls it when it pauses. */
  notifyIdle(): void {
    if (!this.idle) return;
    for (const wake of this.idleWaiters) wake();
    this.idleWaiters.clear();
  }

  /** Settles what is still queued `pending` (the outbox keeps it) and closes the outbox. */
  close(): void {
    for (const entry of this.queued) entry.settle?.({ status: 'pending', eventId: entry.stored.event_id });
    if (this.queued.length > 0) {
      log(
        this.logger,
        this.outbox ? 'info' : 'warn',
        { queued: this.queued.length, outbox: this.outbox?.path ?? null },
        this.outbox
          ? 'Syncdeck closed; queued events stay in the outbox'
          : 'Syncdeck closed; queued events are lost',
      );
    }
    this.outbox?.close();
  }

  /** Opens the outbox and queues the events it kept; without a usable file, memory only. */
  private resume(path: string) {
    const outbox = new FileOutbox(path, this.logger);
    this.outbox = outbox;
    try {
      const stored = outbox.open();
      for (const event of stored) {
        this.queued.push({ stored: event, json: JSON.stringify(event), attempts: 0, settle: null });
      }
      while (this.queued.length > this.maxQueue) this.evictOne();
      if (stored.length > 0) {
        log(this.logger, 'info', { path, events: stored.length }, 'outbox: resuming events');
      }
    } catch (error) {
      outbox.close(); // releases the lock if this process took it
      outbox.errors++;
      log(
        this.logger,
        'error',
        { path, err: error },
        'outbox: cannot be used; events are kept in memory only',
      );
      this.outbox = null;
    }
  }

  /** Makes room: the oldest queued customer.seen, else the oldest queued event. */
  private evictOne(): boolean {
    if (this.queued.length === 0) return false;
    let index = this.queued.findIndex((entry) => entry.stored.event === 'customer.seen');
    if (index < 0) index = 0;
    const [victim] = this.queued.splice(index, 1);
    const error = new SyncdeckError('queue_full', `the queue is full (${this.maxQueue}); dropped the oldest`);
    this.recordError(error);
    this.finish([victim!], (entry) => ({ status: 'dropped', eventId: entry.stored.event_id, error }));
    if (this.counters.dropped === 1 || this.counters.dropped % 1000 === 0) {
      log(
        this.logger,
        'warn',
        { dropped: this.counters.dropped, event: victim!.stored.event, maxQueue: this.maxQueue },
        'Syncdeck queue full: dropping the oldest events',
      );
    }
    return true;
  }
}
