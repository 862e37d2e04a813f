import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing/harness.ts';
import type { Db } from './db.ts';
import { analyzeChangedTables, autovacuumRuns } from './statistics.ts';

let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = await database.open();
});

afterAll(async () => {
  await db.close();
  await database.drop();
});

const plannerRows = async (table: string) =>
  (
    await db.query<{ rows: number }>('SELECT reltuples::int AS rows FROM pg_class WHERE relname = $1', [
      table,
    ])
  ).rows[0]!.rows;

/** Writes `count` rows and makes this backend report them to the statistics at once. */
async function grow(table: string, from: number, count: number) {
  await db.transaction(async (tx) => {
    await tx.query(`INSERT INTO ${table} SELECT i, 'x' FROM generate_series($1::int, $2::int) i`, [
      from,
      from + count - 1,
    ]);
    await tx.query('SELECT pg_stat_force_next_flush()');
  });
}

describe('planner statistics', () => {
  it('analyses a table once it has changed by more than 50 rows and a tenth, and only then', async () => {
    await db.exec('CREATE TABLE growing (id int PRIMARY KEY, body text); CREATE TABLE still (id int)');
    expect(await plannerRows('growing')).toBe(-1); // never analysed

    await grow('growing', 1, 1000);
    expect(await analyzeChangedTables(db)).toEqual(['public.growing']);
    expect(await plannerRows('growing')).toBe(1000);

    await grow('growing', 1001, 60); // 60 < 50 + 10% of 1,000
    expect(await analyzeChangedTables(db)).toEqual([]);
    expect(await plannerRows('growing')).toBe(1000);

    await grow('growing', 1061, 200); // 260 changed > 50 + 10% of 1,260
    expect(await analyzeChangedTables(db)).toEqual(['public.growing']);
    expect(await plannerRows('growing')).toBe(1260);
  });

  it('knows PGlite has no autovacuum', async () => {
    if (db.kind === 'pglite') expect(await autovacuumRuns(db)).toBe(false);
    else expect(typeof (await autovacuumRuns(db))).toBe('boolean');
  });
});
