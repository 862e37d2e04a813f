import { Worker } from 'node:worker_threads';
import type { Db, Queryable, QueryOptions, QueryResult } from './db.ts';
import { preparePgliteDir } from './pglite-files.ts';
import { type PipelinedSession, runPipelinedTransaction } from './pipelined-transaction.ts';

/** What the server asks of the PGlite thread (pglite-thread.ts). */
type PgliteCall =
  | { op: 'query'; sql: string; params?: unknown[]; prepared?: boolean }
  | { op: 'exec'; sql: string }
  | { op: 'commit' }
  | { op: 'listen' | 'unlisten'; channel: string }
  | { op: 'close' };
export type PgliteRequest = PgliteCall & { id: number };

/** Its answer to request `id`: the rows, or the error with PostgreSQL's fields (`code`…). */
type PgliteRows = { id: number; rows: unknown[]; affectedRows: number; command?: string };
export type PgliteReply = PgliteRows | { id: number; error: Record<string, unknown> };

type Message = PgliteReply | { channel: string; payload: string } | { ready: true };

/**
 * PGlite on a thread of its own. It executes SQL synchronously in WebAssembly, so on the
 * server's thread a statement held up every request and WebSocket until it finished (under
 * single-event ingest the requests' p99 was about a second); here they go on while it runs. It
 * answers one request at a time, in the order sent.
 */
class PgliteThread {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (reply: PgliteRows) => void; reject: (error: Error) => void }
  >();
  private readonly listeners = new Map<string, Set<(payload: string) => void>>();
  private failure: Error | null = null;
  private closing = false;
  readonly ready: Promise<void>;

  constructor(dataDir: string) {
    this.worker = new Worker(new URL('./pglite-worker.js', import.meta.url), { workerData: { dataDir } });
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (message: Message) => {
        if ('ready' in message) {
          if (this.pending.size === 0) this.worker.unref();
          resolve();
        } else if ('channel' in message) {
          for (const listener of this.listeners.get(message.channel) ?? []) listener(message.payload);
        } else this.settle(message);
      });
      const fail = (error: Error) => {
        this.failure ??= error;
        reject(error);
        for (const { reject: rejectRequest } of this.pending.values()) rejectRequest(error);
        this.pending.clear();
      };
      this.worker.on('error', fail);
      this.worker.on('exit', (code) => fail(new Error(`the PGlite thread exited (code ${code})`)));
    });
    this.ready.catch(() => {});
  }

  request(body: PgliteCall): Promise<PgliteRows> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing && body.op !== 'close') return Promise.reject(new Error('the database is closed'));
    const id = this.nextId++;
    // Referenced only while it owes an answer: an idle database keeps no process alive.
    if (this.pending.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...body, id } as PgliteRequest);
    });
  }

  private settle(reply: PgliteReply) {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if ('error' in reply) {
      const { message, ...fields } = reply.error;
      waiting.reject(Object.assign(new Error(String(message)), fields));
    } else waiting.resolve(reply);
  }

  async listen(channel: string, listener: (payload: string) => void): Promise<() => Promise<void>> {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      await this.request({ op: 'listen', channel });
    }
    set.add(listener);
    return async () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(channel) === set) {
        this.listeners.delete(channel);
        await this.request({ op: 'unlisten', channel });
      }
    };
  }

  /** Closes PGlite after the requests already sent; later ones are refused. */
  async close(): Promise<void> {
    this.closing = true;
    if (!this.failure) await this.request({ op: 'close' });
    await this.worker.terminate();
  }
}

/**
 * Opens PGlite: `dataDir` on disk, or in memory when `dataDir` is `memory://`. PGlite is one
 * session: while a transaction is open, every other statement waits for it to end.
 */
export async function openPglite(dataDir: string): Promise<Db> {
  if (!dataDir.startsWith('memory://')) await preparePgliteDir(dataDir);
  const thread = new PgliteThread(dataDir);
  await thread.ready;
  // Settles when the open transaction (if any) ends; statements from outside wait for it.
  let transactionEnded: Promise<void> | null = null;
  // The transactions asked for, one after another in that order; close waits for them all.
  let transactions: Promise<unknown> = Promise.resolve();

  const send: PipelinedSession = {
    async query<Row>(sql: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult<Row>> {
      const result = await thread.request({ op: 'query', sql, params, prepared: options?.prepared });
      const rows = result.rows as Row[];
      return { rows, rowCount: Math.max(rows.length, result.affectedRows) };
    },
    async exec(sql: string): Promise<void> {
      await thread.request({ op: 'exec', sql });
    },
    async commit(): Promise<string> {
      return (await thread.request({ op: 'commit' })).command ?? '';
    },
  };
  const outside = async <T>(work: () => Promise<T>): Promise<T> => {
    while (transactionEnded) await transactionEnded;
    return work();
  };

  return {
    kind: 'pglite',
    query: (sql, params, options) => outside(() => send.query(sql, params, options)),
    exec: (sql) => outside(() => send.exec(sql)),
    transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
      const run = transactions.then(() =>
        outside(async () => {
          let end!: () => void;
          transactionEnded = new Promise((resolve) => {
            end = resolve;
          });
          try {
            return await runPipelinedTransaction(send, work);
          } finally {
            transactionEnded = null;
            end();
          }
        }),
      );
      transactions = run.catch(() => {});
      return run;
    },
    // LISTEN inside another's transaction would end with it: these wait their turn too.
    async listen(channel, onNotify) {
      const stop = await outside(() => thread.listen(channel, onNotify));
      return () => outside(stop);
    },
    async close() {
      await transactions;
      await outside(() => thread.close());
    },
  };
}
