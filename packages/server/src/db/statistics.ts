import type { Db, Queryable } from './db.ts';

/**
 * Whether PostgreSQL's autovacuum keeps planner statistics fresh here. PGlite runs PostgreSQL
 * in single-user mode, where no autovacuum runs, and a server may have it turned off.
 */
export async function autovacuumRuns(db: Db): Promise<boolean> {
  if (db.kind === 'pglite') return false;
  const result = await db.query<{ running: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'autovacuum launcher') AS running`,
  );
  return result.rows[0]?.running ?? false;
}

/**
 * Analyses the tables that changed enough since their last analysis, by autovacuum's own rule
 * (more than 50 rows plus 10% of the table), and returns their names. Without it, where no
 * autovacuum runs, every plan keeps the statistics of when the tables were empty: a lookup of a
 * few rows by index becomes a hash join over the whole table, and grows slower with it.
 */
export async function analyzeChangedTables(db: Queryable): Promise<string[]> {
  const changed = await db.query<{ name: string }>(
    `SELECT format('%I.%I', schemaname, relname) AS name FROM pg_stat_user_tables
     WHERE n_mod_since_analyze > 50 + 0.1 * n_live_tup ORDER BY 1`,
  );
  const names = changed.rows.map((row) => row.name);
  for (const name of names) await db.exec(`ANALYZE ${name}`);
  return names;
}
