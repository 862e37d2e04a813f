/**
 * The thread PGlite runs in (see pglite.ts; pglite-worker.js starts it). PGlite executes SQL
 * synchronously in WebAssembly: on the server's own thread every statement would hold up the
 * HTTP and WebSocket traffic until it finished. Here it runs beside them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, types } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type { PgliteReply, PgliteRequest } from './pglite.ts';

const port = parentPort!;

const pglite = await PGlite.create(workerData.dataDir as string, {
  // Loaded so migrations can create it: the search indexes are trigram indexes, as on a PostgreSQL server.
  extensions: { pg_trgm },
  parsers: {
    [types.INT8]: (value: string) => Number(value),
    [types.NUMERIC]: (value: string) => Number(value),
  },
});

const unlisten = new Map<string, () => Promise<void>>();

/** What an error carries across the thread boundary: its message and PostgreSQL's fields (code, detail…). */
function serialiseError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const fields: Record<string, unknown> = { message: error.message };
  for (const [key, value] of Object.entries(error))
    if (value === undefined || ['string', 'number', 'boolean'].includes(typeof value)) fields[key] = value;
  return fields;
}

async function handle(request: PgliteRequest): Promise<PgliteReply> {
  switch (request.op) {
    case 'query': {
      const result = await pglite.query(request.sql, request.params);
      return { id: request.id, rows: result.rows, affectedRows: result.affectedRows ?? 0 };
    }
    case 'exec':
      await pglite.exec(request.sql);
      return { id: request.id, rows: [], affectedRows: 0 };
    case 'commit':
      // A transaction a statement failed in answers COMMIT by rolling back, without an error:
      // asking first makes that an error, as on PostgreSQL (pipelined-transaction.ts).
      try {
        await pglite.query('SELECT 1');
      } catch (error) {
        await pglite.exec('ROLLBACK');
        throw new Error(`the transaction ended with ROLLBACK: ${(error as Error).message}`);
      }
      await pglite.exec('COMMIT');
      return { id: request.id, rows: [], affectedRows: 0 };
    case 'listen':
      if (!unlisten.has(request.channel))
        unlisten.set(
          request.channel,
          await pglite.listen(request.channel, (payload) =>
            port.postMessage({ channel: request.channel, payload }),
          ),
        );
      return { id: request.id, rows: [], affectedRows: 0 };
    case 'unlisten':
      await unlisten.get(request.channel)?.();
      unlisten.delete(request.channel);
      return { id: request.id, rows: [], affectedRows: 0 };
    case 'close':
      await pglite.close();
      return { id: request.id, rows: [], affectedRows: 0 };
  }
}

// One request at a time, in the order sent: a request's reply comes after those of all before it.
let queue: Promise<unknown> = Promise.resolve();
port.on('message', (request: PgliteRequest) => {
  queue = queue.then(() =>
    handle(request).then(
      (reply) => port.postMessage(reply),
      (error: unknown) => port.postMessage({ id: request.id, error: serialiseError(error) }),
    ),
  );
});
port.postMessage({ ready: true });
