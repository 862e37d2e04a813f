import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing/harness.ts';
import type { Db } from './db.ts';

let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = await database.open();
  await db.exec('CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)');
});

afterAll(async () => {
  await db.close();
  await database.drop();
});

beforeEach(async () => {
  await db.exec('DELETE FROM notes');
});

const bodies = async () => (await db.query<{ body: string }>('SELECT body FROM notes ORDER BY id')).rows;

describe('transaction', () => {
  it('keeps its first statement inside the transaction: a later failure undoes it', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO notes VALUES (1, $1)', ['first']);
        await tx.query('INSERT INTO notes VALUES (1, $1)', ['clash']);
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await bodies()).toEqual([]);
  });

  it('commits with a statement marked commit, before the work returns', async () => {
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO notes VALUES (1, $1)', ['one']);
      await tx.query('INSERT INTO notes VALUES (2, $1)', ['two'], { commit: true });
      // Another connection sees both rows already: COMMIT went with the statement.
      if (db.kind === 'postgres') expect(await bodies()).toEqual([{ body: 'one' }, { body: 'two' }]);
    });
    expect(await bodies()).toEqual([{ body: 'one' }, { body: 'two' }]);
  });

  it('rolls back whole when the statement marked commit fails, and says why', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO notes VALUES (1, $1)', ['kept?']);
        await tx.query('INSERT INTO notes VALUES (2, $1)', [null], { commit: true });
      }),
    ).rejects.toThrow(/null value/);
    expect(await bodies()).toEqual([]);
  });

  it('refuses a statement after the commit on PostgreSQL, where it would run outside the transaction', async () => {
    const attempt = db.transaction(async (tx) => {
      await tx.query('INSERT INTO notes VALUES (1, $1)', ['one'], { commit: true });
      await tx.query('INSERT INTO notes VALUES (2, $1)', ['two']);
    });
    if (db.kind === 'postgres') {
      await expect(attempt).rejects.toThrow(/already committed/);
      expect(await bodies()).toEqual([{ body: 'one' }]);
    } else {
      await attempt;
      expect(await bodies()).toEqual([{ body: 'one' }, { body: 'two' }]);
    }
  });

  it('serves the next transaction on the same connection after a failed one', async () => {
    for (let i = 0; i < 3; i++) {
      await expect(
        db.transaction(async (tx) => {
          await tx.query('SELECT 1/0');
        }),
      ).rejects.toThrow(/division by zero/);
      await db.transaction(async (tx) => {
        await tx.query('INSERT INTO notes VALUES ($1, $2)', [i, `after ${i}`], { commit: true });
      });
    }
    expect(await bodies()).toEqual([{ body: 'after 0' }, { body: 'after 1' }, { body: 'after 2' }]);
  });
});
