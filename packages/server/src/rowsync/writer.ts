import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/index.ts';
import { retryOnConflict } from '../db/retry.ts';
import { applyChangeBatch, type ChangeOutcome, type QueuedChange } from './changes.ts';

interface Pending {
  change: QueuedChange;
  resolve: (outcome: ChangeOutcome) => void;
  reject: (error: unknown) => void;
}

// Two processes' batches touching the same rows may deadlock: the batch is retried whole.
const MAX_ATTEMPTS = 5;

/**
 * Group commit for single-row changes, in a few lanes that commit independently (so one
 * batch's COMMIT wait overlaps the next batch's work). A row always goes to the same lane,
 * so changes to one row are written in the order they arrived.
 */
export class RowChangeWriter {
  /**
   * How many lanes a server runs: on PostgreSQL two batches in flight (one commits while the
   * next is written), leaving pool connections for the rest; more lanes made smaller batches and
   * cost more per change (docs/performance.md). PGlite runs one transaction at a time: one lane.
   */
  static lanesFor(kind: 'pglite' | 'postgres', poolSize: number): number {
    return kind === 'postgres' ? Math.max(1, Math.min(2, Math.floor(poolSize / 2))) : 1;
  }

  private readonly lanes: Lane[];

  constructor(db: Db, logger: FastifyBaseLogger, maxBatch: number, lanes: number) {
    this.lanes = Array.from({ length: Math.max(1, lanes) }, () => new Lane(db, logger, maxBatch));
  }

  write(change: QueuedChange): Promise<ChangeOutcome> {
    const key = `${change.target.schema}.${change.target.table}:${change.target.tenantId}:${change.id}`;
    // FNV-1a: cheap, and spreads similar keys.
    let hash = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
    return this.lanes[(hash >>> 0) % this.lanes.length]!.write(change);
  }
}

/**
 * One lane: what arrives while its transaction runs is written by the next one, set-based,
 * so a COMMIT is shared by many webhooks. Each webhook is answered only after the COMMIT that
 * made its change durable. A batch that fails is retried one change at a time, so only the
 * culprit fails.
 */
class Lane {
  private queue: Pending[] = [];
  private draining: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly logger: FastifyBaseLogger,
    private readonly maxBatch: number,
  ) {}

  write(change: QueuedChange): Promise<ChangeOutcome> {
    const outcome = new Promise<ChangeOutcome>((resolve, reject) =>
      this.queue.push({ change, resolve, reject }),
    );
    this.draining ??= this.drain();
    return outcome;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          this.settle(batch, await this.commit(batch));
        } catch (error) {
          if (batch.length === 1) {
            batch[0]!.reject(error);
            continue;
          }
          this.logger.warn(
            { err: error, changes: batch.length },
            'row-sync batch failed; applying its changes one by one',
          );
          for (const item of batch) {
            try {
              this.settle([item], await this.commit([item]));
            } catch (itemError) {
              item.reject(itemError);
            }
          }
        }
      }
    } finally {
      this.draining = null;
    }
  }

  private settle(batch: Pending[], outcomes: ChangeOutcome[]): void {
    for (const [i, item] of batch.entries()) item.resolve(outcomes[i]!);
  }

  private commit(batch: Pending[]): Promise<ChangeOutcome[]> {
    return retryOnConflict(
      () =>
        applyChangeBatch(
          this.db,
          batch.map((item) => item.change),
        ),
      MAX_ATTEMPTS,
    );
  }
}
