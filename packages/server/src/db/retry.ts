import type { Db, Queryable } from './db.ts';

// Deadlock and serialisation failures: nothing was written, so the transaction can run again.
const RETRYABLE = new Set(['40P01', '40001']);

/** A transaction retried a few times when PostgreSQL aborts it for a deadlock with a concurrent writer. */
export async function retryingTransaction<T>(
  db: Db,
  work: (tx: Queryable) => Promise<T>,
  attempts = 4,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(work);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= attempts || !code || !RETRYABLE.has(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}
