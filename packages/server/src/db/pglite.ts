import { PGlite, types } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type { Db, Queryable, QueryResult } from './db.ts';

interface PGliteLike {
  query<Row>(sql: string, params?: unknown[]): Promise<{ rows: Row[]; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
}

function wrap(target: PGliteLike): Queryable {
  return {
    async query<Row>(sql: string, params?: unknown[]): Promise<QueryResult<Row>> {
      const result = await target.query<Row>(sql, params);
      return { rows: result.rows, rowCount: Math.max(result.rows.length, result.affectedRows ?? 0) };
    },
    async exec(sql: string): Promise<void> {
      await target.exec(sql);
    },
  };
}

/**
 * Opens PGlite: `dataDir` on disk, or in memory when `dataDir` is `memory://`.
 * PGlite runs every query and transaction one at a time, so no extra locking is needed here.
 */
export async function openPglite(dataDir: string): Promise<Db> {
  const pglite = await PGlite.create(dataDir, {
    // Loaded so migrations can create it: the search indexes are trigram indexes, as on a PostgreSQL server.
    extensions: { pg_trgm },
    parsers: {
      [types.INT8]: (value: string) => Number(value),
      [types.NUMERIC]: (value: string) => Number(value),
    },
  });
  const base = wrap(pglite);
  return {
    kind: 'pglite',
    query: base.query,
    exec: base.exec,
    transaction: (work) => pglite.transaction((tx) => work(wrap(tx))),
    async listen(channel, onNotify) {
      // One process owns PGlite, so its connection never drops: nothing to reconnect.
      const unlisten = await pglite.listen(channel, onNotify);
      return () => unlisten();
    },
    close: () => pglite.close(),
  };
}
