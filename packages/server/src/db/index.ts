import path from 'node:path';
import type { Config } from '../config.ts';
import type { Db } from './db.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';

export type { Db, Queryable, QueryOptions, QueryResult } from './db.ts';
export { advisoryLocks, PREPARED } from './db.ts';
export { MigrationError, migrate } from './migrate.ts';
export { openPglite, openPostgres };

/** Opens the database the configuration names: a PostgreSQL server, or PGlite in `dataDir`. */
export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'dbPoolSize'>,
): Promise<Db> {
  if (config.databaseUrl) return openPostgres(config.databaseUrl, config.dbPoolSize);
  return openPglite(path.join(config.dataDir, 'pgdata'));
}
