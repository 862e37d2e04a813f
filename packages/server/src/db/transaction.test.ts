import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, deferred, type TestDatabase, testSettings } from '../testing/harness.ts';
import { type Db, PREPARED } from './db.ts';

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

  it('refuses a statement after the commit, where it would run outside the transaction', async () => {
    const attempt = db.transaction(async (tx) => {
      await tx.query('INSERT INTO notes VALUES (1, $1)', ['one'], { commit: true });
      await tx.query('INSERT INTO notes VALUES (2, $1)', ['two']);
    });
    await expect(attempt).rejects.toThrow(/already committed/);
    expect(await bodies()).toEqual([{ body: 'one' }]);
  });

  it('does not commit a transaction a statement failed in, even when its work carries on', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO notes VALUES (1, $1)', ['before']);
        await tx.query('SELECT 1/0').catch(() => {});
      }),
    ).rejects.toThrow(/ROLLBACK/);
    expect(await bodies()).toEqual([]);
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

  it('never lets a statement from outside read rows a transaction has not committed', async () => {
    const held = deferred();
    const inserted = deferred();
    const transaction = db.transaction(async (tx) => {
      await tx.query('INSERT INTO notes VALUES (1, $1)', ['uncommitted']);
      inserted.resolve();
      await held.promise;
    });
    await inserted.promise;
    // PostgreSQL answers from another connection at once; PGlite, one session, after the COMMIT.
    const outside = db.query<{ n: number }>('SELECT count(*)::int AS n FROM notes');
    const early = await Promise.race([
      outside,
      new Promise((resolve) => setTimeout(resolve, 200, 'waiting')),
    ]);
    held.resolve();
    await transaction;
    if (db.kind === 'postgres') expect(early).toEqual({ rows: [{ n: 0 }], rowCount: 1 });
    else {
      expect(early).toBe('waiting');
      expect((await outside).rows).toEqual([{ n: 1 }]);
    }
  });

  it('leaves the event loop free while a long statement runs', async () => {
    let lateBy = 0;
    let ticks = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      lateBy = Math.max(lateBy, now - last - 10);
      last = now;
      ticks += 1;
    }, 10);
    const started = performance.now();
    await db.query('SELECT count(*) FROM generate_series(1, 4000000) AS g WHERE g % 7 = 3');
    const took = performance.now() - started;
    clearInterval(timer);
    // The statement ran long enough to matter, and the timer kept firing meanwhile.
    expect(took).toBeGreaterThan(100);
    expect(ticks).toBeGreaterThan(took / 10 / 4);
    expect(lateBy).toBeLessThan(took / 2);
  });

  it('refuses statements once closed', async () => {
    const other = await database.open();
    await other.close();
    await expect(other.query('SELECT 1')).rejects.toThrow();
  });

  // PGlite runs in this process: it has no connections to lose.
  it.runIf(testSettings.db === 'postgres')(
    'survives the database ending its connections in the middle of statements and transactions',
    async () => {
      const admin = new pg.Client({ connectionString: database.env.DATABASE_URL });
      await admin.connect();
      let stop = false;
      const outcomes: string[] = [];
      const workers = Array.from({ length: 6 }, async (_, w) => {
        for (let i = 0; !stop; i++) {
          const id = w * 100_000 + i;
          const work =
            w % 2 === 0
              ? db.transaction(async (tx) => {
                  await tx.query('INSERT INTO notes VALUES ($1, $2)', [id, 'in a transaction']);
                  await tx.query('SELECT pg_sleep(0.002)');
                })
              : Promise.all([db.query('SELECT pg_sleep(0.002)'), db.query('SELECT count(*) FROM notes')]);
          await work.then(
            () => outcomes.push('ok'),
            () => outcomes.push('failed'),
          );
        }
      });
      for (let round = 0; round < 8; round++) {
        await new Promise((resolve) => setTimeout(resolve, 40));
        await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid()`,
        );
      }
      stop = true;
      await Promise.all(workers);
      await admin.end();
      // Some statements failed with their connection; the process is still here, and the pool
      // has replaced what it lost.
      expect(outcomes).toContain('failed');
      expect(await bodies()).toBeDefined();
      await db.transaction((tx) => tx.query('INSERT INTO notes VALUES (-1, $1)', ['after']));
      expect((await db.query('SELECT body FROM notes WHERE id = -1')).rows).toEqual([{ body: 'after' }]);
    },
  );
});

describe('prepared statements', () => {
  it('answer as the same statement unprepared does, with the same types', async () => {
    await db.exec("INSERT INTO notes VALUES (1, 'one'), (2, 'two')");
    const sql = `SELECT id, body, count(*) OVER ()::bigint AS total, $1::timestamptz AS at, $2::text[] AS tags,
                   $3::jsonb AS meta FROM notes WHERE id = ANY($4::int[]) ORDER BY id`;
    const params = [new Date('2026-01-02T03:04:05.678Z'), ['a', 'b,c'], JSON.stringify({ k: [1] }), [1, 2]];
    const plain = await db.query(sql, params);
    const prepared = await db.query(sql, params, PREPARED);
    expect(prepared).toEqual(plain);
    expect(prepared.rows[1]).toEqual({
      id: 2,
      body: 'two',
      total: 2,
      at: new Date('2026-01-02T03:04:05.678Z'),
      tags: ['a', 'b,c'],
      meta: { k: [1] },
    });
    // Again, by name, with other values.
    expect((await db.query(sql, [null, [], null, [2]], PREPARED)).rows).toEqual([
      { id: 2, body: 'two', total: 1, at: null, tags: [], meta: null },
    ]);
    const inserted = await db.query(
      'INSERT INTO notes VALUES ($1, $2), ($3, $4)',
      [3, 'x', 4, 'y'],
      PREPARED,
    );
    expect(inserted.rowCount).toBe(2);
  });

  it('run with generic plans on both engines', async () => {
    expect((await db.query('SHOW plan_cache_mode')).rows).toEqual([
      { plan_cache_mode: 'force_generic_plan' },
    ]);
  });

  it("fail with PostgreSQL's fields, and a transaction one failed in commits nothing", async () => {
    const insert = 'INSERT INTO notes VALUES ($1, $2)';
    await db.query(insert, [1, 'one'], PREPARED);
    await expect(db.query(insert, [1, 'again'], PREPARED)).rejects.toMatchObject({
      code: '23505',
      constraint: 'notes_pkey',
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.query(insert, [2, 'two'], PREPARED);
        await tx.query(insert, [1, 'clash'], PREPARED).catch(() => {});
      }),
    ).rejects.toThrow(/ROLLBACK/);
    await db.query(insert, [3, 'three'], PREPARED);
    expect(await bodies()).toEqual([{ body: 'one' }, { body: 'three' }]);
  });

  it('keep working past the most statement texts a session keeps', async () => {
    const texts = Array.from({ length: 1_050 }, (_, i) => `SELECT $1::int + ${i} AS n`);
    for (const [i, text] of texts.entries()) {
      expect((await db.query(text, [1], PREPARED)).rows).toEqual([{ n: 1 + i }]);
    }
    if (db.kind === 'pglite') {
      // One session for everything: it lets the first ones go rather than keep them all.
      const kept = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements');
      expect(kept.rows[0]!.n).toBeLessThanOrEqual(1_000);
    }
    // The first ones were let go to make room; they are prepared again.
    expect((await db.query(texts[0]!, [5], PREPARED)).rows).toEqual([{ n: 5 }]);
    expect((await db.query(texts[1_049]!, [5], PREPARED)).rows).toEqual([{ n: 1_054 }]);
  });
});
