import { copyFile, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase, testSettings } from '../testing/harness.ts';
import type { Db } from './db.ts';
import { MigrationError, migrate, migrationsDir } from './migrate.ts';

let database: TestDatabase;
let db: Db;

beforeEach(async () => {
  database = await createTestDatabase();
  db = await database.open();
});

afterEach(async () => {
  await db.close();
  await database.drop();
});

async function tableExists(name: string): Promise<boolean> {
  const result = await db.query('SELECT to_regclass($1) AS t', [name]);
  return (result.rows[0] as { t: string | null }).t !== null;
}

describe('migrate', () => {
  it('applies every migration file once, in order, and nothing on a re-run', async () => {
    const files = (await readdir(migrationsDir)).filter((f) => f.endsWith('.sql')).sort();
    const first = await migrate(db);
    expect(first).toEqual(files.map((f) => f.replace(/\.sql$/, '')));
    expect(await tableExists('tenants')).toBe(true);
    expect(await migrate(db)).toEqual([]);
    const recorded = await db.query<{ version: string }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    expect(recorded.rows.map((r) => r.version)).toEqual(first);
  });

  it('gives full-sync batches staged before 0012 their keys, as the server reads them', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'syncdeck-migrations-'));
    for (const file of await readdir(migrationsDir)) {
      if (file < '0012') await copyFile(path.join(migrationsDir, file), path.join(dir, file));
    }
    await migrate(db, dir);
    await db.query(
      `INSERT INTO full_sync_batches (tenant_id, table_name, sync_id, batch_offset, rows, records)
       VALUES (gen_random_uuid(), 'zones', 'run', 0, 3, '[{"id": "a"}, {"id": 7}, {"id": 8.0}]'),
              (gen_random_uuid(), 'zones', 'run', 3, 0, '[]')`,
    );
    expect(await migrate(db)).toContain('0012_staged_batch_keys');
    const staged = await db.query<{ ids: string[] }>(
      'SELECT ids FROM full_sync_batches ORDER BY batch_offset',
    );
    expect(staged.rows).toEqual([{ ids: ['a', '7', '8'] }, { ids: [] }]);
  });

  it('rolls a failing migration back whole and stops with its error', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'syncdeck-migrations-'));
    await writeFile(path.join(dir, '0001_good.sql'), 'CREATE TABLE good_one (id int);');
    await writeFile(
      path.join(dir, '0002_bad.sql'),
      'CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;',
    );
    await writeFile(path.join(dir, '0003_after.sql'), 'CREATE TABLE never_reached (id int);');
    await expect(migrate(db, dir)).rejects.toThrow(MigrationError);
    await expect(migrate(db, dir)).rejects.toThrow(/0002_bad\.sql.*no_such_table/);
    expect(await tableExists('good_one')).toBe(true);
    expect(await tableExists('half_done')).toBe(false);
    expect(await tableExists('never_reached')).toBe(false);
    const recorded = await db.query<{ version: string }>('SELECT version FROM schema_migrations');
    expect(recorded.rows.map((r) => r.version)).toEqual(['0001_good']);
  });

  it('lets concurrent processes migrate one database without applying twice', async () => {
    // PGlite admits one handle per directory; there the callers share it.
    const others =
      testSettings.db === 'postgres'
        ? await Promise.all([database.open(), database.open(), database.open()])
        : [];
    try {
      const handles = others.length > 0 ? [db, ...others] : [db, db, db, db];
      const results = await Promise.all(handles.map((handle) => migrate(handle)));
      const applied = results.flat();
      const files = (await readdir(migrationsDir)).filter((f) => f.endsWith('.sql'));
      expect(applied.sort()).toEqual(files.map((f) => f.replace(/\.sql$/, '')).sort());
    } finally {
      await Promise.all(others.map((handle) => handle.close()));
    }
  });
});
