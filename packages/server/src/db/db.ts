/** What both database engines answer with. */
export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * A statement sent again and again (a hot path's), parsed and planned once per connection
   * instead of on every call. Engines without a plan cache ignore it.
   */
  prepared?: boolean;
  /**
   * Inside a transaction, its last statement: COMMIT goes out with it, in the same round trip,
   * and the query resolves once both are done. Engines without round trips commit when the
   * transaction's work returns, as always.
   */
  commit?: boolean;
}

/** Something SQL can be sent to: the database itself or an open transaction. */
export interface Queryable {
  query<Row = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<Row>>;
  /** Runs one or more statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/**
 * The database, whichever engine holds it: PGlite in `DATA_DIR` or a PostgreSQL
 * server. Both speak the same SQL, so stores are written once.
 */
export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Calls `onNotify` for each NOTIFY on `channel`, and once more whenever the listening
   * connection is (re)established, since notifications sent while it was down are lost.
   * Resolves to a function that stops listening.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Stable key for `pg_advisory_xact_lock`, so concurrent processes serialise one job. */
export const advisoryLocks = {
  migrate: 7_301_001,
  initialise: 7_301_002,
} as const;

/**
 * Query options for a hot path's statement: the same text on every call, so each connection
 * parses and plans it once. Planning a CTE or a join often costs more than running it.
 */
export const PREPARED = { prepared: true } as const;
