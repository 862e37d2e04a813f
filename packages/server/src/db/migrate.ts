import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { advisoryLocks, type Db } from './db.ts';

export const migrationsDir = fileURLToPath(new URL('../../migrations', import.meta.url));

const MIGRATION_FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/**
 * Applies the numbered `.sql` files of `dir` that are not yet recorded, in order, each in
 * its own transaction. An advisory lock taken inside each transaction means two processes
 * starting at once never apply the same migration twice; a failing file rolls back whole.
 */
export async function migrate(db: Db, dir = migrationsDir): Promise<string[]> {
  const files = (await readdir(dir)).filter((name) => MIGRATION_FILE.test(name)).sort();
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [advisoryLocks.migrate]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version text PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  });
  const applied: string[] = [];
  for (const file of files) {
    const version = file.replace(/\.sql$/, '');
    const sql = await readFile(path.join(dir, file), 'utf8');
    const didApply = await db
      .transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [advisoryLocks.migrate]);
        const done = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [version]);
        if (done.rowCount > 0) return false;
        await tx.exec(sql);
        await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
        return true;
      })
      .catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        throw new MigrationError(`Migration ${file} failed and was rolled back: ${reason}`);
      });
    if (didApply) applied.push(version);
  }
  return applied;
}
