import type { ErrorDetail } from '@syncdeck/core';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/index.ts';
import { applyBatch } from './batch.ts';
import type { PreparedEvent } from './prepare.ts';
import { appendFeed, type FeedEntry } from './store.ts';

export type WriteOutcome =
  | { status: 'accepted' | 'duplicate' }
  | { status: 'rejected'; details: ErrorDetail[] }
  | { status: 'failed'; error: unknown };

interface Pending {
  event: PreparedEvent;
  resolve: (outcome: WriteOutcome) => void;
}

// Deadlock and serialisation failures: the whole batch is retried from the start.
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 5;

/**
 * Group commit, in a few lanes that commit independently: one tenant's events always take the
 * same lane, so they are written in the order they arrived, while another tenant's transaction
 * overlaps its round trips. Tenants share no rows, so lanes never wait on each other's locks;
 * only the feed counter, taken last, orders their COMMITs.
 */
export class GroupCommitWriter {
  private readonly lanes: Lane[];

  constructor(db: Db, logger: FastifyBaseLogger, maxBatch: number, lanes: number) {
    this.lanes = Array.from({ length: Math.max(1, lanes) }, () => new Lane(db, logger, maxBatch));
  }

  /** Writes one request's events, which all belong to one tenant. */
  write(events: PreparedEvent[]): Promise<WriteOutcome[]> {
    const tenantId = events[0]?.tenantId ?? '';
    // FNV-1a: cheap, and spreads similar ids.
    let hash = 0x811c9dc5;
    for (let i = 0; i < tenantId.length; i++) hash = Math.imul(hash ^ tenantId.charCodeAt(i), 0x01000193);
    return this.lanes[(hash >>> 0) % this.lanes.length]!.write(events);
  }

  /** Resolves when everything queued so far is committed (or failed). */
  async flush(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.flush()));
  }
}

/**
 * One lane: events from concurrent requests queue here, and one transaction at a time writes
 * everything queued (up to `maxBatch`). Each request's promise resolves only after the COMMIT
 * that made its events durable. While a transaction runs, the next batch gathers, so an idle
 * server adds no delay and a busy one amortises each COMMIT over many events.
 */
class Lane {
  private queue: Pending[] = [];
  private draining: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly logger: FastifyBaseLogger,
    private readonly maxBatch: number,
  ) {}

  write(events: PreparedEvent[]): Promise<WriteOutcome[]> {
    const outcomes = events.map(
      (event) => new Promise<WriteOutcome>((resolve) => this.queue.push({ event, resolve })),
    );
    // The first transaction starts on the next turn of the event loop, not at once: every
    // request that became ready in this turn (e.g. all those one key lookup answered) joins it.
    this.draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
    return Promise.all(outcomes);
  }

  /** Resolves when everything queued so far is committed (or failed). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          this.settle(batch, await this.commit(batch));
        } catch (error) {
          if (batch.length === 1) {
            this.logger.error({ err: error }, 'sync event could not be stored');
            batch[0]!.resolve({ status: 'failed', error });
            continue;
          }
          // Something in the batch breaks it: apply each event alone so only the culprit fails.
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
    } finally {
      this.draining = null;
    }
  }

  private settle(batch: Pending[], outcomes: WriteOutcome[]) {
    for (const [i, item] of batch.entries()) item.resolve(outcomes[i]!);
  }

  private async commit(batch: Pending[]): Promise<WriteOutcome[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        // appendFeed's NOTIFY tells every process's realtime feed about the commit.
        return await this.db.transaction(async (tx) => {
          const feed: FeedEntry[] = [];
          const outcomes: WriteOutcome[] = await applyBatch(
            tx,
            batch.map((item) => item.event),
            feed,
          );
          await appendFeed(tx, feed);
          return outcomes;
        });
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (attempt >= MAX_ATTEMPTS || !code || !RETRYABLE.has(code)) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
      }
    }
  }
}
