import type { ApiKey, CreatedApiKey, Scope, Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';

let t: TestApp;
let one: Tenant;
let two: Tenant;
let oneAdmin: string;
let twoAdmin: string;

const MISSING_ID = '00000000-0000-4000-8000-000000000000';

beforeAll(async () => {
  t = await createTestApp();
  one = await t.createTenant('keys-one');
  two = await t.createTenant('keys-two');
  oneAdmin = (await t.createKey(one.id, ['admin'])).token;
  twoAdmin = (await t.createKey(two.id, ['admin'])).token;
});
afterAll(() => t.close());

type Headers = Record<string, string>;
type Response = Awaited<ReturnType<TestApp['app']['inject']>>;
interface KeyPage {
  data: ApiKey[];
  nextCursor: string | null;
}

function list(headers: Headers, query = '') {
  return t.app.inject({ method: 'GET', url: `/api/admin/keys${query}`, headers });
}

function create(headers: Headers, payload: unknown) {
  return t.app.inject({ method: 'POST', url: '/api/admin/keys', headers, payload: payload as object });
}

function revoke(headers: Headers, id: string) {
  return t.app.inject({ method: 'DELETE', url: `/api/admin/keys/${id}`, headers });
}

function me(token: string) {
  return t.app.inject({ method: 'GET', url: '/api/me', headers: bearer(token) });
}

function detailPaths(response: Response): string[] {
  return (response.json().error.details ?? []).map((d: { path: string }) => d.path);
}

function errorOf(response: Response) {
  const { requestId: _requestId, ...rest } = response.json().error;
  return rest;
}

async function createOk(headers: Headers, payload: unknown): Promise<CreatedApiKey> {
  const response = await create(headers, payload);
  expect(response.statusCode).toBe(201);
  return response.json();
}

/** Every key of the tenant, following `nextCursor`. */
async function walk(headers: Headers, limit: number): Promise<ApiKey[]> {
  const seen: ApiKey[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 1000; pages++) {
    const query: string = `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const response = await list(headers, query);
    expect(response.statusCode).toBe(200);
    const page = response.json() as KeyPage;
    expect(page.data.length).toBeLessThanOrEqual(limit);
    seen.push(...page.data);
    if (page.nextCursor === null) return seen;
    expect(page.data.length).toBe(limit);
    cursor = page.nextCursor;
  }
  throw new Error('pagination did not end');
}

describe('POST /api/admin/keys', () => {
  it('creates a key for the caller’s tenant and shows its token this once', async () => {
    const created = await createOk(bearer(oneAdmin), { name: '  Dashboard  ', scopes: ['read', 'operate'] });
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      tenantId: one.id,
      name: 'Dashboard',
      prefix: expect.any(String),
      scopes: ['read', 'operate'],
      createdAt: expect.any(String),
      revokedAt: null,
      token: expect.stringMatching(/^sdk_live_[A-Za-z0-9_-]{20,}$/),
    });
    expect(created.token.startsWith(created.prefix)).toBe(true);
    expect(created.prefix.length).toBeLessThan(created.token.length);
    const stored = await t.db.query<{ token_hash: string }>('SELECT token_hash FROM api_keys WHERE id = $1', [
      created.id,
    ]);
    expect(stored.rows[0]!.token_hash).not.toContain(created.token);
  });

  it('defaults the name and removes repeated scopes', async () => {
    const created = await createOk(bearer(oneAdmin), { scopes: ['ingest', 'ingest'] });
    expect(created.name).toBe('API key');
    expect(created.scopes).toEqual(['ingest']);
  });

  it('never shows a token again in the list', async () => {
    const created = await createOk(bearer(oneAdmin), { name: 'Secret holder', scopes: ['read'] });
    const response = await list(bearer(oneAdmin), '?limit=200');
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain(created.token);
    const listed = (response.json() as KeyPage).data.find((key) => key.id === created.id);
    const { token: _token, ...withoutToken } = created;
    expect(listed).toEqual(withoutToken);
    for (const key of (response.json() as KeyPage).data) expect(key).not.toHaveProperty('token');
  });

  it('makes a key that works at once, with exactly its scopes', async () => {
    const reader = await createOk(bearer(oneAdmin), { name: 'Reader', scopes: ['read'] });
    const who = await me(reader.token);
    expect(who.statusCode).toBe(200);
    expect(who.json().apiKey).toEqual({ id: reader.id, name: 'Reader', tenantId: one.id, scopes: ['read'] });
    // read is not admin
    expect((await list(bearer(reader.token))).statusCode).toBe(403);

    const administrator = await createOk(bearer(oneAdmin), { name: 'Admin 2', scopes: ['admin'] });
    const listed = await list(bearer(administrator.token));
    expect(listed.statusCode).toBe(200);
    expect((listed.json() as KeyPage).data.map((key) => key.id)).toContain(reader.id);
  });

  it('validates the body with field paths', async () => {
    const cases: [unknown, string][] = [
      [{ scopes: ['superuser'] }, 'scopes.0'],
      [{ scopes: ['read', 'root'] }, 'scopes.1'],
      [{ scopes: [] }, 'scopes'],
      [{ name: 'No scopes' }, 'scopes'],
      [{ scopes: 'read' }, 'scopes'],
      [{ scopes: ['read', 'read', 'read', 'read', 'read'] }, 'scopes'],
      [{ name: '   ', scopes: ['read'] }, 'name'],
      [{ name: 'n'.repeat(201), scopes: ['read'] }, 'name'],
    ];
    const before = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_keys');
    for (const [payload, path] of cases) {
      const response = await create(bearer(oneAdmin), payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error.code).toBe('validation_failed');
      expect(detailPaths(response), JSON.stringify(payload)).toEqual([path]);
    }
    const malformed = await t.app.inject({
      method: 'POST',
      url: '/api/admin/keys',
      headers: { ...bearer(oneAdmin), 'content-type': 'application/json' },
      payload: '{"scopes": [',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('invalid_json');
    const after = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_keys');
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });
});

describe('GET /api/admin/keys', () => {
  it('lists only the tenant’s own keys, newest first, revoked ones included', async () => {
    const tenant = await t.createTenant('keys-listing');
    const first = await t.createKey(tenant.id, ['admin']);
    const made: string[] = [first.id];
    for (let i = 0; i < 5; i++) {
      made.push((await createOk(bearer(first.token), { name: `key ${i}`, scopes: ['read'] })).id);
    }
    expect((await revoke(bearer(first.token), made[2]!)).statusCode).toBe(200);

    const response = await list(bearer(first.token));
    expect(response.statusCode).toBe(200);
    const page = response.json() as KeyPage;
    expect(page.nextCursor).toBeNull();
    expect(page.data.map((key) => key.id)).toEqual([...made].reverse());
    expect(page.data.every((key) => key.tenantId === tenant.id)).toBe(true);
    const createdAts = page.data.map((key) => Date.parse(key.createdAt));
    expect(createdAts).toEqual([...createdAts].sort((a, b) => b - a));
    expect(page.data.find((key) => key.id === made[2])!.revokedAt).toEqual(expect.any(String));
    expect(page.data.filter((key) => key.revokedAt !== null)).toHaveLength(1);
  });

  it('walks all keys with limit and nextCursor, without duplicates or gaps', async () => {
    const tenant = await t.createTenant('keys-paging');
    const first = await t.createKey(tenant.id, ['admin']);
    const made = [first.id];
    for (let i = 0; i < 6; i++) made.push((await createOk(bearer(first.token), { scopes: ['read'] })).id);
    const newestFirst = [...made].reverse();
    for (const limit of [1, 2, 3, 6, 7, 8]) {
      const walked = await walk(bearer(first.token), limit);
      expect(
        walked.map((key) => key.id),
        `limit ${limit}`,
      ).toEqual(newestFirst);
    }
  });

  it('does not repeat or skip keys when one is created between pages', async () => {
    const tenant = await t.createTenant('keys-moving');
    const first = await t.createKey(tenant.id, ['admin']);
    const made = [first.id];
    for (let i = 0; i < 4; i++) made.push((await createOk(bearer(first.token), { scopes: ['read'] })).id);
    const firstPage = (await list(bearer(first.token), '?limit=2')).json() as KeyPage;
    expect(firstPage.nextCursor).toEqual(expect.any(String));
    const late = await createOk(bearer(first.token), { name: 'late', scopes: ['read'] });
    const rest: ApiKey[] = [];
    let cursor: string | null = firstPage.nextCursor;
    while (cursor) {
      const page = (
        await list(bearer(first.token), `?limit=2&cursor=${encodeURIComponent(cursor)}`)
      ).json() as KeyPage;
      rest.push(...page.data);
      cursor = page.nextCursor;
    }
    const ids = [...firstPage.data, ...rest].map((key) => key.id);
    expect(ids).not.toContain(late.id);
    expect(ids).toEqual([...made].reverse());
  });

  it('rejects a bad cursor (400 on `query.cursor`) and a limit over 200 (400 on `query.limit`)', async () => {
    const tenantCursor = Buffer.from(JSON.stringify(['keys-one'])).toString('base64url');
    for (const cursor of ['garbage', tenantCursor, Buffer.from('[1, "not-a-uuid"]').toString('base64url')]) {
      const response = await list(bearer(oneAdmin), `?cursor=${encodeURIComponent(cursor)}`);
      expect(response.statusCode, cursor).toBe(400);
      expect(detailPaths(response)).toEqual(['query.cursor']);
    }
    for (const limit of ['201', '0', 'x']) {
      const response = await list(bearer(oneAdmin), `?limit=${limit}`);
      expect(response.statusCode, limit).toBe(400);
      expect(detailPaths(response)).toEqual(['query.limit']);
    }
  });
});

describe('DELETE /api/admin/keys/:id', () => {
  it('revokes a key, which answers 401 at once', async () => {
    const victim = await createOk(bearer(oneAdmin), { name: 'Doomed', scopes: ['admin'] });
    expect((await me(victim.token)).statusCode).toBe(200);
    const response = await revoke(bearer(oneAdmin), victim.id);
    expect(response.statusCode).toBe(200);
    const revoked = response.json();
    expect(revoked).toMatchObject({
      id: victim.id,
      tenantId: one.id,
      name: 'Doomed',
      revokedAt: expect.any(String),
    });
    expect(revoked).not.toHaveProperty('token');
    for (const attempt of [me(victim.token), list(bearer(victim.token))]) {
      const denied = await attempt;
      expect(denied.statusCode).toBe(401);
      expect(denied.json().error.code).toBe('unauthorized');
    }
    // Revoking again changes nothing.
    const again = await revoke(bearer(oneAdmin), victim.id);
    expect(again.statusCode).toBe(200);
    expect(again.json().revokedAt).toBe(revoked.revokedAt);
    expect((await me(victim.token)).statusCode).toBe(401);
  });

  it('lets a key revoke itself, ending its own access', async () => {
    const self = await createOk(bearer(oneAdmin), { scopes: ['admin'] });
    expect((await revoke(bearer(self.token), self.id)).statusCode).toBe(200);
    expect((await me(self.token)).statusCode).toBe(401);
  });

  it("answers 404 for another tenant's key, exactly like a missing one, and that key keeps working", async () => {
    const theirs = await createOk(bearer(twoAdmin), { name: 'Theirs', scopes: ['read'] });
    const missing = await revoke(bearer(oneAdmin), MISSING_ID);
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'not_found' } });
    const response = await revoke(bearer(oneAdmin), theirs.id);
    expect(response.statusCode).toBe(404);
    expect(errorOf(response)).toEqual(errorOf(missing));
    expect((await me(theirs.token)).statusCode).toBe(200);
    const stored = await t.db.query<{ revoked_at: Date | null }>(
      'SELECT revoked_at FROM api_keys WHERE id = $1',
      [theirs.id],
    );
    expect(stored.rows[0]!.revoked_at).toBeNull();
    // Nor can a tenant key see another tenant's keys by naming it.
    expect((await list({ ...bearer(oneAdmin), 'x-tenant-id': two.id })).statusCode).toBe(404);
  });

  it('cannot revoke the platform admin key through a tenant', async () => {
    const platformKeyId = (await me(t.adminToken)).json().apiKey.id;
    expect((await revoke(bearer(oneAdmin), platformKeyId)).statusCode).toBe(404);
    expect((await revoke({ ...bearer(t.adminToken), 'x-tenant-id': one.id }, platformKeyId)).statusCode).toBe(
      404,
    );
    expect((await me(t.adminToken)).statusCode).toBe(200);
  });

  it('answers 404 for an unknown uuid and 400 on `params.id` for a non-uuid', async () => {
    const missing = await revoke(bearer(oneAdmin), MISSING_ID);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.message).toBe('API key not found');
    for (const id of ['not-a-uuid', '12345', `${MISSING_ID}0`]) {
      const response = await revoke(bearer(oneAdmin), id);
      expect(response.statusCode, id).toBe(400);
      expect(detailPaths(response)).toEqual(['params.id']);
    }
  });
});

describe('who may manage keys', () => {
  it('answers 403 to keys without the admin scope, changing nothing', async () => {
    const target = await createOk(bearer(oneAdmin), { name: 'Target', scopes: ['read'] });
    const lesser: Scope[][] = [['read'], ['ingest'], ['operate'], ['ingest', 'read', 'operate']];
    for (const scopes of lesser) {
      const key = await t.createKey(one.id, scopes);
      const headers = bearer(key.token);
      for (const response of [
        await list(headers),
        await create(headers, { scopes: ['admin'] }),
        await revoke(headers, target.id),
      ]) {
        expect(response.statusCode, scopes.join(',')).toBe(403);
        expect(response.json().error.code).toBe('forbidden');
      }
    }
    expect((await me(target.token)).statusCode).toBe(200);
  });

  it('answers 401 without a credential or with an unknown key', async () => {
    for (const headers of [{}, bearer('sdk_live_unknown'), { authorization: 'Token abc' }]) {
      for (const response of [
        await list(headers),
        await create(headers, { scopes: ['read'] }),
        await revoke(headers, MISSING_ID),
      ]) {
        expect(response.statusCode).toBe(401);
        expect(response.json().error.code).toBe('unauthorized');
      }
    }
  });

  it('makes the platform admin key choose a tenant: 400 on `headers.x-tenant-id` without one', async () => {
    const headers = bearer(t.adminToken);
    for (const response of [
      await list(headers),
      await create(headers, { scopes: ['read'] }),
      await revoke(headers, MISSING_ID),
    ]) {
      expect(response.statusCode).toBe(400);
      expect(detailPaths(response)).toEqual(['headers.x-tenant-id']);
    }
    const blank = await list({ ...headers, 'x-tenant-id': '  ' });
    expect(blank.statusCode).toBe(400);
    expect(detailPaths(blank)).toEqual(['headers.x-tenant-id']);
  });

  it('lets the platform admin key act for a tenant named by id or slug', async () => {
    const named: Headers[] = [
      { ...bearer(t.adminToken), 'x-tenant-id': two.id },
      { ...bearer(t.adminToken), 'x-tenant-id': two.slug },
      { ...bearer(t.adminToken), 'x-restaurant-id': two.slug },
    ];
    for (const headers of named) {
      const created = await createOk(headers, { name: 'From platform', scopes: ['read'] });
      expect(created.tenantId).toBe(two.id);
      const listed = await list(headers, '?limit=200');
      expect(listed.statusCode).toBe(200);
      const ids = (listed.json() as KeyPage).data.map((key) => key.id);
      expect(ids).toContain(created.id);
      expect((listed.json() as KeyPage).data.every((key) => key.tenantId === two.id)).toBe(true);
      // The tenant's own admin sees the new key too.
      const own = (await list(bearer(twoAdmin), '?limit=200')).json() as KeyPage;
      expect(own.data.map((key) => key.id)).toContain(created.id);
      expect((await revoke(headers, created.id)).statusCode).toBe(200);
      expect((await me(created.token)).statusCode).toBe(401);
    }
    const unknown = await list({ ...bearer(t.adminToken), 'x-tenant-id': 'no-such-tenant' });
    expect(unknown.statusCode).toBe(404);
  });
});
