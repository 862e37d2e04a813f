import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/index.ts';
import { applyChangeBatch, type ChangeOutcome, type QueuedChange } from './store.ts';

interface Pending {
  change: QueuedChange;
  resolve: (outcome: ChangeOutcome) => void;
  reject: (error: unknown) => void;
}

// Deadlock and serialisation failures (two processes' batches touching the same rows): retried.
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 5;

/**
 * Group commit for single-row changes: what arrives while a transaction runs is written by
 * the next one, set-based, so a COMMIT is shared by many webhooks. Each webhook is answered
 * only after the COMMIT that made its change durable. A batch that fails is retried one
 * change at a time, so only the culprit fails.
 */
export class RowChangeWriter {
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

  private async commit(batch: Pending[]): Promise<ChangeOutcome[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await applyChangeBatch(
          this.db,
          batch.map((item) => item.change),
        );
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (attempt >= MAX_ATTEMPTS || !code || !RETRYABLE.has(code)) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
      }
    }
  }
}
