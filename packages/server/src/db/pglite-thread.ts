/**
 * The thread PGlite runs in (see pglite.ts; pglite-worker.js starts it). PGlite executes SQL
 * synchronously in WebAssembly: on the server's own thread every statement would hold up the
 * HTTP and WebSocket traffic until it finished. Here it runs beside them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, parse, protocol, types } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type { PgliteReply, PgliteRequest } from './pglite.ts';
import { keepPgliteFilesPrivate } from './pglite-files.ts';

const port = parentPort!;

keepPgliteFilesPrivate();

const pglite = await PGlite.create(workerData.dataDir as string, {
  // Loaded so migrations can create it: the search indexes are trigram indexes, as on a PostgreSQL server.
  extensions: { pg_trgm },
  parsers: {
    [types.INT8]: (value: string) => Number(value),
    [types.NUMERIC]: (value: string) => Number(value),
  },
});

// As on PostgreSQL (postgres.ts): statements marked prepared are written for their generic plan.
await pglite.exec('SET plan_cache_mode = force_generic_plan');

/** Named statements of this session by text, with their parameters' types; at most this many. */
const prepared = new Map<string, { name: string; paramTypes: number[] }>();
const MAX_PREPARED = 1000;
let statementsNamed = 0;

/**
 * Runs a statement by name, prepared the first time its text comes: PGlite's query() parses and
 * plans every statement anew, in five calls into PostgreSQL, which cost as much as running most
 * of the writer's statements. Bind, execute and sync then go in one call.
 */
async function queryPrepared(sql: string, params: unknown[]) {
  let statement = prepared.get(sql);
  if (!statement) {
    if (prepared.size >= MAX_PREPARED) {
      const names = [...prepared.values()].map(({ name }) => name);
      prepared.clear();
      await pglite.execProtocol(
        Buffer.concat([
          ...names.map((name) => protocol.serialize.close({ type: 'S', name })),
          protocol.serialize.sync(),
        ]),
      );
    }
    // Never reused, so a statement a failed Close left behind cannot clash with a new one.
    const name = `syncdeck_${++statementsNamed}`;
    const described = await pglite.execProtocol(
      Buffer.concat([
        protocol.serialize.parse({ name, text: sql }),
        protocol.serialize.describe({ type: 'S', name }),
        protocol.serialize.sync(),
      ]),
    );
    statement = { name, paramTypes: parse.parseDescribeStatementResults(described.messages) };
    prepared.set(sql, statement);
  }
  const { name, paramTypes } = statement;
  const values = params.map((value, i) => {
    if (value === null || value === undefined) return null;
    const serialise = pglite.serializers[paramTypes[i]!];
    return serialise ? serialise(value) : String(value);
  });
  const { messages } = await pglite.execProtocol(
    Buffer.concat([
      protocol.serialize.bind({ statement: name, values }),
      protocol.serialize.describe({ type: 'P' }),
      protocol.serialize.execute({}),
      protocol.serialize.sync(),
    ]),
  );
  return parse.parseResults(messages, pglite.parsers)[0]!;
}

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
      const result = request.prepared
        ? await queryPrepared(request.sql, request.params ?? [])
        : await pglite.query(request.sql, request.params);
      return { id: request.id, rows: result.rows, affectedRows: result.affectedRows ?? 0 };
    }
    case 'exec':
      await pglite.exec(request.sql);
      return { id: request.id, rows: [], affectedRows: 0 };
    case 'commit': {
      // A transaction a statement failed in answers COMMIT with the tag ROLLBACK, not an error.
      const [done] = await pglite.exec('COMMIT');
      return { id: request.id, rows: [], affectedRows: 0, command: done?.command ?? '' };
    }
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
