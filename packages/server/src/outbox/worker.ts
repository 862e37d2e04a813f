import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import type { Db, Queryable } from '../db/index.ts';
import { type BackoffOptions, DEFAULT_BACKOFF, retryDelayMs } from './backoff.ts';
import { claimDue, OUTBOX_CHANNEL, recordOutcome } from './store.ts';
import type { ClaimedDelivery, DeliveryHandler, DeliveryKind, DeliveryOutcome, SendResult } from './types.ts';

export interface OutboxOptions {
  /** How often the worker looks for due deliveries without being woken: the bound on a lost NOTIFY. */
  pollIntervalMs: number;
  /** Most deliveries claimed by one query. */
  batchSize: number;
  /** Most deliveries this worker sends at once. */
  concurrency: number;
  /** How long a claim holds a delivery; a worker that dies mid-send gives it up after this. */
  leaseMs: number;
  /** An attempt running longer is abandoned as a transient failure. Keep it well under `leaseMs`. */
  sendTimeoutMs: number;
  backoff: BackoffOptions;
  /** Wake on NOTIFY from every process's enqueues (both engines deliver them at COMMIT). */
  listen: boolean;
}

export const DEFAULT_OUTBOX_OPTIONS: OutboxOptions = {
  pollIntervalMs: 1_000,
  batchSize: 20,
  concurrency: 16,
  leaseMs: 60_000,
  sendTimeoutMs: 30_000,
  backoff: DEFAULT_BACKOFF,
  listen: true,
};

/**
 * Runs in the transaction that records an attempt's outcome, so whatever mirrors the delivery
 * (the message's delivery status, a feed entry) commits with it.
 */
export type OutcomeHook = (
  tx: Queryable,
  delivery: ClaimedDelivery,
  outcome: DeliveryOutcome,
) => Promise<void>;

export interface OutboxWorkerSetup {
  options?: Partial<OutboxOptions>;
  onOutcome?: OutcomeHook;
  logger?: Pick<FastifyBaseLogger, 'error' | 'warn'>;
  /** Names this worker in claims and the attempt log; host, pid and a random tag by default. */
  workerId?: string;
  /** The jitter's source; tests pass `() => 1` for exact schedules. */
  random?: () => number;
}

const silent = { error() {}, warn() {} };

/** Recording an outcome after the provider accepted is retried this often before the lease decides. */
const RECORD_ATTEMPTS = 4;

/**
 * This process's sender of the outbox. It claims due deliveries (`FOR UPDATE SKIP LOCKED`, so
 * any number of processes share the work), hands each to the handler of its kind, and records
 * the outcome: sent, retried with exponential backoff and full jitter, or failed. It wakes at
 * once when anything is enqueued (NOTIFY at COMMIT, or `wake()`), when a retry it scheduled is
 * due, and every `pollIntervalMs` regardless.
 *
 * @example
 * ```ts
 * const worker = new OutboxWorker(db, { logger: app.log })
 *   .register('twilio', (delivery, signal) => twilio.sendMessage({ ...credentials, ...delivery.payload }, signal))
 *   .register('webhook', sendBotWebhook);
 * await worker.start();
 * // on shutdown: waits for the sends under way
 * await worker.stop();
 * ```
 */
export class OutboxWorker {
  readonly workerId: string;
  readonly options: OutboxOptions;
  private readonly handlers = new Map<DeliveryKind, DeliveryHandler>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly onOutcome: OutcomeHook | undefined;
  private readonly logger: Pick<FastifyBaseLogger, 'error' | 'warn'>;
  private readonly random: () => number;
  private running = false;
  private draining: Promise<void> | null = null;
  private drainAgain = false;
  // The last claim filled its batch, or there was no room: more may be due when a send ends.
  private moreDue = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | null = null;

  constructor(
    private readonly db: Db,
    setup: OutboxWorkerSetup = {},
  ) {
    this.options = { ...DEFAULT_OUTBOX_OPTIONS, ...setup.options };
    this.onOutcome = setup.onOutcome;
    this.logger = setup.logger ?? silent;
    this.random = setup.random ?? Math.random;
    this.workerId = setup.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  }

  /** Sends deliveries of `kind` with `handler`; a worker claims only kinds it has a handler for. */
  register<Payload>(kind: DeliveryKind, handler: DeliveryHandler<Payload>): this {
    this.handlers.set(kind, handler as DeliveryHandler);
    return this;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    if (this.options.listen) this.unlisten = await this.db.listen(OUTBOX_CHANNEL, () => this.wake());
    this.pollTimer = setInterval(() => this.wake(), this.options.pollIntervalMs);
    this.pollTimer.unref();
    this.wake();
  }

  /** Claims no more, and resolves once every send under way has finished and been recorded. */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.pollTimer);
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    await this.unlisten?.();
    this.unlisten = null;
    await this.draining;
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  /** Something may be due: look now (once more, if a look is already running). */
  wake(): void {
    if (!this.running) return;
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = this.drain()
      .catch((error) => this.logger.error({ err: error }, 'claiming outbox deliveries failed'))
      .finally(() => {
        this.draining = null;
      });
  }

  private async drain(): Promise<void> {
    do {
      this.drainAgain = false;
      const kinds = [...this.handlers.keys()];
      while (this.running && kinds.length > 0) {
        const room = this.options.concurrency - this.inFlight.size;
        if (room <= 0) {
          this.moreDue = true;
          break;
        }
        const limit = Math.min(room, this.options.batchSize);
        const claimed = await claimDue(this.db, {
          kinds,
          limit,
          leaseMs: this.options.leaseMs,
          workerId: this.workerId,
        });
        for (const delivery of claimed) this.launch(delivery);
        this.moreDue = claimed.length === limit;
        if (!this.moreDue) break;
      }
    } while (this.drainAgain && this.running);
  }

  private launch(delivery: ClaimedDelivery): void {
    const sending: Promise<void> = this.send(delivery)
      .catch((error) => this.logger.error({ err: error, deliveryId: delivery.id }, 'outbox send failed'))
      .finally(() => {
        this.inFlight.delete(sending);
        if (this.moreDue) this.wake();
      });
    this.inFlight.add(sending);
  }

  private async send(delivery: ClaimedDelivery): Promise<void> {
    const result = await this.attempt(delivery);
    const delay =
      result.ok || result.permanent
        ? 0
        : retryDelayMs(delivery.attempt, this.options.backoff, result.retryAfterMs, this.random);
    const outcome = await this.record(delivery, result, delay);
    if (outcome?.status === 'queued') this.wakeIn(delay);
    if (outcome === null)
      this.logger.warn(
        { deliveryId: delivery.id, attempt: delivery.attempt },
        'an outbox delivery was claimed again before its attempt finished; its lease is too short',
      );
  }

  /** The handler's answer, bounded by sendTimeoutMs whether or not the handler heeds its signal. */
  private async attempt(delivery: ClaimedDelivery): Promise<SendResult> {
    const handler = this.handlers.get(delivery.kind)!;
    const signal = AbortSignal.timeout(this.options.sendTimeoutMs);
    let abandon: (() => void) | undefined;
    const timedOut = new Promise<SendResult>((resolve) => {
      abandon = () =>
        resolve({ ok: false, permanent: false, code: 'timeout', reason: 'The attempt took too long' });
      signal.addEventListener('abort', abandon, { once: true });
    });
    try {
      return await Promise.race([handler(delivery, signal), timedOut]);
    } catch (error) {
      return {
        ok: false,
        permanent: false,
        code: 'handler_error',
        reason: error instanceof Error ? error.message : String(error),
      };
    } finally {
      signal.removeEventListener('abort', abandon!);
    }
  }

  /**
   * The provider has answered; if this is lost the lease runs out and the delivery is sent
   * again, so a failing database gets a few tries first.
   */
  private async record(
    delivery: ClaimedDelivery,
    result: SendResult,
    delay: number,
  ): Promise<DeliveryOutcome | null> {
    for (let run = 1; ; run++) {
      try {
        const onOutcome = this.onOutcome;
        if (!onOutcome) return await recordOutcome(this.db, delivery, result, delay);
        return await this.db.transaction(async (tx) => {
          const outcome = await recordOutcome(tx, delivery, result, delay);
          if (outcome) await onOutcome(tx, delivery, outcome);
          return outcome;
        });
      } catch (error) {
        if (run >= RECORD_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** run));
      }
    }
  }

  /** A retry this worker scheduled wakes it when due, rather than at the next poll. */
  private wakeIn(delayMs: number): void {
    if (!this.running) return;
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.wake();
    }, delayMs + 5);
    timer.unref();
    this.retryTimers.add(timer);
  }
}
