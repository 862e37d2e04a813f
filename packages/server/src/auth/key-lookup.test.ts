import type { Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/index.ts';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { ApiKeyLookup } from './key-lookup.ts';
import { hashToken } from '../lib/secrets.ts';

let t: TestApp;
let tenant: Tenant;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant('lookup');
});
afterAll(() => t.close());

/**
 * The database, counting queries and able to hold a result back until the test releases it;
 * `answered` resolves once the held query has run in the database.
 */
function instrumented(db: Db) {
  let release: () => void = () => {};
  let answer: () => void = () => {};
  let gate: Promise<void> | null = null;
  const counted = {
    queries: 0,
    answered: Promise.resolve(),
    holdNextResult() {
      gate = new Promise((resolve) => {
        release = resolve;
      });
      counted.answered = new Promise((resolve) => {
        answer = resolve;
      });
    },
    release: () => release(),
    async query<Row>(sql: string, params?: unknown[]) {
      counted.queries += 1;
      const result = await db.query<Row>(sql, params);
      const held = gate;
      gate = null;
      if (held) {
        answer();
        await held;
      }
      return result;
    },
    exec: (sql: string) => db.exec(sql),
    kind: db.kind,
    listen: db.listen.bind(db),
  };
  return counted;
}

describe('ApiKeyLookup', () => {
  it('answers many concurrent lookups, each with its own key, in one query', async () => {
    const keys = await Promise.all([
      t.createKey(tenant.id, ['read']),
      t.createKey(tenant.id, ['ingest']),
      t.createKey(tenant.id, ['admin']),
    ]);
    const revoked = await t.createKey(tenant.id, ['read']);
    await t.db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [revoked.id]);
    const db = instrumented(t.db);
    const lookup = new ApiKeyLookup(db);

    db.holdNextResult();
    const first = lookup.find(hashToken(keys[0]!.token));
    const tokens = [...keys.map((k) => k.token), revoked.token, 'sdk_live_unknown', keys[1]!.token];
    const rest = tokens.map((token) => lookup.find(hashToken(token)));
    db.release();

    expect((await first)?.id).toBe(keys[0]!.id);
    const found = await Promise.all(rest);
    expect(found.map((key) => key?.id ?? null)).toEqual([
      keys[0]!.id,
      keys[1]!.id,
      keys[2]!.id,
      null,
      null,
      keys[1]!.id,
    ]);
    expect(found[1]?.scopes).toEqual(['ingest']);
    expect(found[0]?.tenant?.slug).toBe('lookup');
    // The first lookup ran alone; everything that arrived meanwhile shared the second query.
    expect(db.queries).toBe(2);
  });

  it('never answers a request with a lookup that started before the request arrived', async () => {
    const key = await t.createKey(tenant.id, ['read']);
    const db = instrumented(t.db);
    const lookup = new ApiKeyLookup(db);

    db.holdNextResult();
    const before = lookup.find(hashToken(key.token));
    // On a pool the lookup's query may reach the database after a statement sent later: wait for it.
    await db.answered;
    await t.db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [key.id]);
    const after = lookup.find(hashToken(key.token));
    db.release();

    expect((await before)?.id).toBe(key.id);
    expect(await after).toBeNull();
  });

  it('refuses a revoked key on the very next request through the app', async () => {
    const key = await t.createKey(tenant.id, ['read']);
    const requests = () =>
      Promise.all(
        Array.from({ length: 20 }, () =>
          t.app.inject({ method: 'GET', url: '/api/me', headers: bearer(key.token) }),
        ),
      );
    expect((await requests()).map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    const revoke = await t.app.inject({
      method: 'DELETE',
      url: `/api/admin/keys/${key.id}`,
      headers: { ...bearer(t.adminToken), 'x-tenant-id': tenant.id },
    });
    expect(revoke.statusCode).toBeLessThan(300);
    expect((await requests()).map((r) => r.statusCode)).toEqual(Array(20).fill(401));
  });

  it('fails every waiting lookup when the query fails, and recovers afterwards', async () => {
    const key = await t.createKey(tenant.id, ['read']);
    let fail = true;
    const flaky: Db = Object.create(t.db);
    flaky.query = (sql, params) =>
      fail ? Promise.reject(new Error('connection lost')) : t.db.query(sql, params);
    const lookup = new ApiKeyLookup(flaky);
    const failed = await Promise.allSettled([lookup.find(hashToken(key.token)), lookup.find('x')]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect((await lookup.find(hashToken(key.token)))?.id).toBe(key.id);
  });

  it('on PGlite keeps the keys found, and forgets them at the COMMIT of any change to keys or tenants', async () => {
    const key = await t.createKey(tenant.id, ['read']);
    const db = instrumented(t.db);
    const lookup = new ApiKeyLookup(db);
    const stop = await lookup.start();
    try {
      const found = async () => (await lookup.find(hashToken(key.token)))?.tenant?.name ?? null;
      expect(await found()).toBe(tenant.name);
      expect(await found()).toBe(tenant.name);
      // One process holds PGlite's data; PostgreSQL's may change it from others, so reads every time.
      expect(db.queries).toBe(t.db.kind === 'pglite' ? 1 : 2);

      await t.db.query("UPDATE tenants SET name = 'renamed' WHERE id = $1", [tenant.id]);
      expect(await found()).toBe('renamed');
      await t.db.transaction(async (tx) => {
        await tx.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [key.id]);
        // Not committed yet: the key still stands.
        expect(await found()).toBe('renamed');
      });
      expect(await found()).toBeNull();
    } finally {
      await stop();
      await t.db.query('UPDATE tenants SET name = $2 WHERE id = $1', [tenant.id, tenant.name]);
    }
  });
});
