import type { ErrorDetail } from '@syncdeck/core';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/index.ts';
import { retryingTransaction } from '../db/retry.ts';
import { applyBatch } from './batch.ts';
import type { PreparedEvent } from './prepare.ts';
import { appendFeed, type FeedEntry } from '../feed/index.ts';

export type WriteOutcome =
  | { status: 'accepted' | 'duplicate' }
  | { status: 'rejected'; details: ErrorDetail[] }
  | { status: 'failed'; error: unknown };

interface Pending {
  event: PreparedEvent;
  resolve: (outcome: WriteOutcome) => void;
}

// A batch aborted by a deadlock is retried whole, from the start.
const MAX_ATTEMPTS = 5;

/**
 * Group commit: events from concurrent requests queue here per tenant, and each transaction
 * writes everything queued (up to `maxBatch`) for the tenants it takes. Each request's promise
 * resolves only after the COMMIT that made its events durable. While transactions run, the
 * next batches gather, so an idle server adds no delay and a busy one amortises each COMMIT
 * over many events.
 *
 * Up to `maxTransactions` run at once, each over tenants no other running one holds: a tenant's
 * events are written one transaction after another, in the order they arrived, while other
 * tenants' transactions overlap their round trips. A transaction beyond the first starts only
 * for a full batch of waiting events. Tenants share no rows, so concurrent
 * transactions never wait on each other's locks; only the feed counter, taken last, orders
 * their COMMITs.
 */
export class GroupCommitWriter {
  /** Queued events by tenant, tenants in the order they started waiting. */
  private readonly waiting = new Map<string, Pending[]>();
  /** Tenants a running transaction is writing. */
  private readonly busy = new Set<string>();
  private running = 0;
  private pumpScheduled = false;
  private drained: (() => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly logger: FastifyBaseLogger,
    private readonly maxBatch: number,
    private readonly maxTransactions: number,
  ) {}

  /** Writes one request's events, which all belong to one tenant. */
  write(events: PreparedEvent[]): Promise<WriteOutcome[]> {
    const outcomes = events.map(
      (event) =>
        new Promise<WriteOutcome>((resolve) => {
          const queue = this.waiting.get(event.tenantId);
          if (queue) queue.push({ event, resolve });
          else this.waiting.set(event.tenantId, [{ event, resolve }]);
        }),
    );
    // Transactions start on the next turn of the event loop, not at once: every request that
    // became ready in this turn (e.g. all those one key lookup answered) joins them.
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
    return Promise.all(outcomes);
  }

  /** Resolves when everything queued so far is committed (or failed). */
  flush(): Promise<void> {
    if (this.running === 0 && this.waiting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** Starts transactions while there are free ones and tenants waiting that none holds. */
  private pump(): void {
    while (this.running < this.maxTransactions) {
      const free = [...this.waiting.keys()].filter((tenant) => !this.busy.has(tenant));
      if (free.length === 0) break;
      // Every transaction pays for its own statements, so the waiting events go in as few as
      // possible: one, plus one more per full batch waiting. Overlapping transactions only pay
      // when each is full; splitting a handful of single events over two costs throughput
      // (docs/performance.md).
      let waitingEvents = 0;
      for (const tenant of free) waitingEvents += this.waiting.get(tenant)!.length;
      const starting = Math.min(
        this.maxTransactions - this.running,
        free.length,
        Math.max(this.running === 0 ? 1 : 0, Math.floor(waitingEvents / this.maxBatch)),
      );
      if (starting === 0) break;
      // Spread the waiting tenants over the transactions that start now.
      const share = Math.ceil(free.length / starting);
      const tenants: string[] = [];
      const batch: Pending[] = [];
      for (const tenant of free.slice(0, share)) {
        const queue = this.waiting.get(tenant)!;
        batch.push(...queue.splice(0, this.maxBatch - batch.length));
        if (queue.length === 0) this.waiting.delete(tenant);
        tenants.push(tenant);
        if (batch.length >= this.maxBatch) break;
      }
      for (const tenant of tenants) this.busy.add(tenant);
      this.running += 1;
      void this.writeBatch(batch).finally(() => {
        this.running -= 1;
        for (const tenant of tenants) this.busy.delete(tenant);
        this.pump();
        if (this.running === 0 && this.waiting.size === 0) {
          for (const resolve of this.drained.splice(0)) resolve();
        }
      });
    }
  }

  /** Commits one batch; a batch that fails is applied one event at a time, so only the culprit fails. */
  private async writeBatch(batch: Pending[]): Promise<void> {
    try {
      this.settle(batch, await this.commit(batch));
    } catch (error) {
      if (batch.length === 1) {
        this.logger.error({ err: error }, 'sync event could not be stored');
        batch[0]!.resolve({ status: 'failed', error });
        return;
      }
      for (const item of batch) {
        try {
          this.settle([item], await this.commit([item]));
        } catch (itemError) {
          this.logger.error({ err: itemError }, 'sync event could not be stored');
          item.resolve({ status: 'failed', error: itemError });
        }
      }
    }
  }

  private settle(batch: Pending[], outcomes: WriteOutcome[]) {
    for (const [i, item] of batch.entries()) item.resolve(outcomes[i]!);
  }

  private commit(batch: Pending[]): Promise<WriteOutcome[]> {
    // appendFeed's NOTIFY tells every process's realtime feed about the commit.
    return retryingTransaction(
      this.db,
      async (tx) => {
        const feed: FeedEntry[] = [];
        const outcomes: WriteOutcome[] = await applyBatch(
          tx,
          batch.map((item) => item.event),
          feed,
        );
        await appendFeed(tx, feed, { commit: true });
        return outcomes;
      },
      MAX_ATTEMPTS,
    );
  }
}
