import type { Queryable, QueryOptions } from './db.ts';

/** A database session that answers statements in the order they were sent, without waiting between them. */
export interface PipelinedSession extends Queryable {
  /** Sends COMMIT and answers its command tag: ROLLBACK, not an error, when the transaction had failed. */
  commit(): Promise<string>;
}

/**
 * Runs `work` in one transaction on a pipelining session (a PostgreSQL connection, the PGlite
 * thread): BEGIN is written together with the first statement, and COMMIT with a statement
 * marked `commit`, so neither costs a round trip of its own. Every statement still waits for
 * BEGIN's answer, so none can run outside the transaction, and once the transaction has ended
 * (committed, or failed and rolled back) the work cannot send more.
 */
export async function runPipelinedTransaction<T>(
  session: PipelinedSession,
  work: (tx: Queryable) => Promise<T>,
): Promise<T> {
  const began = session.exec('BEGIN');
  began.catch(() => {});
  let ended: string | null = null;
  const commit = async () => {
    const tag = await session.commit();
    if (tag !== 'COMMIT') throw new Error(`the transaction ended with ${tag}`);
  };
  const stillOpen = () => {
    if (ended) throw new Error(`the transaction has already ${ended}`);
  };
  const tx: Queryable = {
    async query<Row>(sql: string, params?: unknown[], options?: QueryOptions) {
      stillOpen();
      const statement = session.query<Row>(sql, params, options);
      if (!options?.commit) return (await Promise.all([statement, began]))[0];
      ended = 'committed';
      return (await Promise.all([statement, began, commit()]))[0];
    },
    async exec(sql: string) {
      stillOpen();
      await Promise.all([session.exec(sql), began]);
    },
  };
  try {
    const result = await work(tx);
    if (!ended) {
      ended = 'committed';
      await commit();
    }
    return result;
  } catch (error) {
    if (!ended) {
      ended = 'rolled back';
      await session.exec('ROLLBACK').catch(() => {});
    }
    throw error;
  }
}
