import type { Db, Queryable } from './db.ts';

// Deadlock and serialisation failures: nothing was written, so the transaction can run again.
const RETRYABLE = new Set(['40P01', '40001']);

/** How many times a transaction aborted by a concurrent writer runs in all, by default. */
export const DEFAULT_TRANSACTION_ATTEMPTS = 4;

/**
 * Runs `attempt` (one whole transaction) again, after a short random pause, when PostgreSQL
 * aborted it for a deadlock or a serialisation failure; any other error is thrown at once.
 *
 * @example
 * ```ts
 * const outcomes = await retryOnConflict(() => applyChangeBatch(db, changes), 5);
 * ```
 */
export async function retryOnConflict<T>(
  attempt: () => Promise<T>,
  attempts = DEFAULT_TRANSACTION_ATTEMPTS,
): Promise<T> {
  for (let run = 1; ; run++) {
    try {
      return await attempt();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (run >= attempts || !code || !RETRYABLE.has(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * run));
    }
  }
}

/** A transaction retried a few times when PostgreSQL aborts it for a deadlock with a concurrent writer. */
export function retryingTransaction<T>(
  db: Db,
  work: (tx: Queryable) => Promise<T>,
  attempts = DEFAULT_TRANSACTION_ATTEMPTS,
): Promise<T> {
  return retryOnConflict(() => db.transaction(work), attempts);
}
