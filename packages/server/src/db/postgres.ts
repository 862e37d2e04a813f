import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Db, Queryable, QueryOptions, QueryResult } from './db.ts';
import { type PipelinedSession, runPipelinedTransaction } from './pipelined-transaction.ts';
import { parseTimestamptz, TIMESTAMPTZ_OID } from './timestamps.ts';

const INT8_OID = 20;
const NUMERIC_OID = 1700;

const parsers: Record<number, (value: string) => unknown> = {
  // Counts and sequence numbers stay far below 2^53; numbers serialise to JSON, bigints do not.
  [INT8_OID]: (value) => Number(value),
  [NUMERIC_OID]: (value) => Number(value),
  [TIMESTAMPTZ_OID]: parseTimestamptz,
};

const types = {
  getTypeParser: ((oid: number, format?: string) =>
    parsers[oid] ?? pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

const statementNames = new Map<string, string>();

/** A prepared statement's name: the same text gets the same name on every connection. */
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `s_${createHash('sha1').update(sql).digest('hex')}`;
    // Bounded: texts built from many table names must not grow this without end.
    if (statementNames.size >= 1000) statementNames.clear();
    statementNames.set(sql, name);
  }
  return name;
}

function queryConfig(sql: string, params: unknown[] | undefined, options: QueryOptions | undefined) {
  return options?.prepared
    ? { name: statementName(sql), text: sql, values: params }
    : { text: sql, values: params };
}

function resultOf<Row>(result: pg.QueryResult): QueryResult<Row> {
  return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
}

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<Row>(sql: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult<Row>> {
      return resultOf<Row>(await client.query(queryConfig(sql, params, options)));
    },
    async exec(sql: string): Promise<void> {
      await client.query(sql);
    },
  };
}

export function openPostgres(url: string, poolSize: number): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    types,
    // Statements are prepared only where they are written for index access (db/index.ts's
    // PREPARED): planning them again for each call's values cost a third of a page's time and
    // now and then picked another plan.
    options: '-c plan_cache_mode=force_generic_plan',
    // Statements sent without waiting for the previous answer go out at once (BEGIN and COMMIT
    // in runPipelinedTransaction); each still has its own Sync, so an error stops only its own.
    pipeline: true,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  // Nor may one in use: when the database ends a connection (a restart, pg_terminate_backend),
  // the statements on it fail and answer their callers, and the client also emits 'error',
  // which pg-pool listens for only while the client is idle. Unheard, it crashed the server.
  // A client that failed is not queryable, and the pool discards it when it is released.
  pool.on('connect', (client) => client.on('error', () => {}));
  const base = wrap(pool);
  return {
    kind: 'postgres',
    query: base.query,
    exec: base.exec,
    async transaction(work) {
      const client = await pool.connect();
      try {
        const session: PipelinedSession = {
          ...wrap(client),
          commit: async () => (await client.query('COMMIT')).command,
        };
        return await runPipelinedTransaction(session, work);
      } finally {
        client.release();
      }
    },
    listen: (channel, onNotify) => listen(url, channel, onNotify),
    close: () => pool.end(),
  };
}

const RECONNECT_DELAY_MS = 1_000;

/** LISTEN needs a connection of its own, outside the pool, kept open and re-opened when it drops. */
async function listen(url: string, channel: string, onNotify: (payload: string) => void) {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a plain channel name: ${channel}`);
  let client: pg.Client | null = null;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const reconnectLater = () => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect().catch(reconnectLater);
    }, RECONNECT_DELAY_MS);
  };
  const connect = async () => {
    const next = new pg.Client({ connectionString: url, types });
    next.on('error', () => {});
    next.on('end', () => {
      if (client === next) client = null;
      reconnectLater();
    });
    next.on('notification', (message) => onNotify(message.payload ?? ''));
    try {
      await next.connect();
      await next.query(`LISTEN ${channel}`);
    } catch (error) {
      next.removeAllListeners('end');
      await next.end().catch(() => {});
      throw error;
    }
    if (stopped) {
      await next.end();
      return;
    }
    client = next;
    onNotify('');
  };

  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    const last = client;
    client = null;
    await last?.end();
  };
}
