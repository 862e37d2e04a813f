import type { Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { setTenantCurrency } from './index.ts';

let t: TestApp;
let alpha: Tenant;
let beta: Tenant;
let alphaAdminKey: string;
let alphaReadKey: string;

const MISSING_ID = '00000000-0000-4000-8000-000000000000';

beforeAll(async () => {
  t = await createTestApp();
  alpha = await t.createTenant('ten-alpha');
  beta = await t.createTenant('ten-beta');
  alphaAdminKey = (await t.createKey(alpha.id, ['admin'])).token;
  alphaReadKey = (await t.createKey(alpha.id, ['read'])).token;
});
afterAll(() => t.close());

type Headers = Record<string, string>;
type Response = Awaited<ReturnType<TestApp['app']['inject']>>;

const admin = (): Headers => bearer(t.adminToken);

function get(url: string, headers: Headers = admin()) {
  return t.app.inject({ method: 'GET', url, headers });
}

function create(payload: unknown, headers: Headers = admin()) {
  return t.app.inject({ method: 'POST', url: '/api/admin/tenants', headers, payload: payload as object });
}

function patch(idOrSlug: string, payload: unknown, headers: Headers = admin()) {
  return t.app.inject({
    method: 'PATCH',
    url: `/api/admin/tenants/${idOrSlug}`,
    headers,
    payload: payload as object,
  });
}

function detailPaths(response: Response): string[] {
  return (response.json().error.details ?? []).map((d: { path: string }) => d.path);
}

/** True when the error names this unknown field by its path. */
function namesUnknownField(response: Response, field: string): boolean {
  const details: { path: string; message: string }[] = response.json().error.details ?? [];
  return details.some((d) => d.path === field);
}

/** The error without its per-request id, to compare two answers. */
function errorOf(response: Response) {
  const { requestId: _requestId, ...rest } = response.json().error;
  return rest;
}

async function slugsInDb(): Promise<string[]> {
  const result = await t.db.query<{ slug: string }>('SELECT slug FROM tenants ORDER BY slug');
  return result.rows.map((row) => row.slug);
}

async function nameInDb(id: string): Promise<string> {
  const result = await t.db.query<{ name: string }>('SELECT name FROM tenants WHERE id = $1', [id]);
  return result.rows[0]!.name;
}

/** Follows `nextCursor` to the end, checking each page's size. */
async function walk(limit: number, headers: Headers = admin()): Promise<Tenant[]> {
  const seen: Tenant[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 1000; pages++) {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const response = await get(`/api/admin/tenants?limit=${limit}${query}`, headers);
    expect(response.statusCode).toBe(200);
    const page = response.json() as { data: Tenant[]; nextCursor: string | null };
    expect(page.data.length).toBeLessThanOrEqual(limit);
    seen.push(...page.data);
    if (page.nextCursor === null) return seen;
    expect(page.data.length).toBe(limit);
    cursor = page.nextCursor;
  }
  throw new Error('pagination did not end');
}

describe('POST /api/admin/tenants', () => {
  it('lets the platform admin create a tenant (201) that can then be read', async () => {
    const response = await create({ slug: 'created-one', name: '  Created One  ' });
    expect(response.statusCode).toBe(201);
    const tenant = response.json();
    expect(tenant).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      slug: 'created-one',
      name: 'Created One',
      currency: 'USD',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(Number.isNaN(Date.parse(tenant.createdAt))).toBe(false);
    const read = await get(`/api/admin/tenants/${tenant.id}`);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(tenant);
  });

  it('names the tenant after its slug when no name is given', async () => {
    const response = await create({ slug: 'nameless' });
    expect(response.statusCode).toBe(201);
    expect(response.json().name).toBe('nameless');
  });

  it('lets a platform admin user session create a tenant', async () => {
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: t.adminEmail, password: t.adminPassword },
    });
    expect(login.statusCode).toBe(200);
    const cookie = login.cookies.find((c) => c.name === 'syncdeck_session')!;
    const response = await create({ slug: 'by-session' }, { cookie: `syncdeck_session=${cookie.value}` });
    expect(response.statusCode).toBe(201);
  });

  it('refuses a tenant-scoped admin key (403) and a read key (403), creating nothing', async () => {
    for (const token of [alphaAdminKey, alphaReadKey]) {
      const response = await create({ slug: 'not-allowed' }, bearer(token));
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ error: { code: 'forbidden' } });
    }
    expect(await slugsInDb()).not.toContain('not-allowed');
  });

  it('answers 401 without a credential', async () => {
    const response = await create({ slug: 'anonymous' }, {});
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ error: { code: 'unauthorized' } });
    expect(await slugsInDb()).not.toContain('anonymous');
  });

  it('answers a duplicate slug with 409 on `slug` and leaves the first tenant alone', async () => {
    const response = await create({ slug: alpha.slug, name: 'Impostor' });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({
      error: { code: 'conflict', details: [{ path: 'slug', message: expect.any(String) }] },
    });
    expect(await nameInDb(alpha.id)).not.toBe('Impostor');
    const count = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tenants WHERE slug = $1', [
      alpha.slug,
    ]);
    expect(count.rows[0]!.n).toBe(1);
  });

  it('rejects invalid slugs with 400 on `slug`', async () => {
    const invalid: unknown[] = [
      'Upper',
      'a',
      '-lead',
      'trail-',
      'has space',
      'under_score',
      'dot.ted',
      'x'.repeat(49),
      '',
      42,
      null,
    ];
    for (const slug of invalid) {
      const response = await create({ slug });
      expect(response.statusCode, JSON.stringify(slug)).toBe(400);
      expect(response.json().error.code).toBe('validation_failed');
      const paths = detailPaths(response);
      expect(paths.length, JSON.stringify(slug)).toBeGreaterThan(0);
      expect(new Set(paths), JSON.stringify(slug)).toEqual(new Set(['slug']));
    }
    const missing = await create({ name: 'No slug' });
    expect(missing.statusCode).toBe(400);
    expect(detailPaths(missing)).toEqual(['slug']);
    // The longest and shortest valid slugs are accepted.
    expect((await create({ slug: 'y'.repeat(48) })).statusCode).toBe(201);
    expect((await create({ slug: 'z9' })).statusCode).toBe(201);
  });

  it('rejects a blank or overlong name with 400 on `name`', async () => {
    for (const name of ['   ', 'n'.repeat(201), 7]) {
      const response = await create({ slug: 'bad-name', name });
      expect(response.statusCode).toBe(400);
      expect(detailPaths(response)).toEqual(['name']);
    }
    expect(await slugsInDb()).not.toContain('bad-name');
  });

  it('rejects an unknown field with 400 naming it, creating nothing', async () => {
    const response = await create({ slug: 'with-extra', owner: 'someone' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('validation_failed');
    expect(namesUnknownField(response, 'owner')).toBe(true);
    expect(await slugsInDb()).not.toContain('with-extra');
  });

  it('rejects malformed JSON and a non-object body with 400', async () => {
    const malformed = await t.app.inject({
      method: 'POST',
      url: '/api/admin/tenants',
      headers: { ...admin(), 'content-type': 'application/json' },
      payload: '{"slug": "half',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ error: { code: 'invalid_json' } });
    const array = await create(['ten-array']);
    expect(array.statusCode).toBe(400);
    expect(array.json().error.code).toBe('validation_failed');
    expect(await slugsInDb()).not.toContain('half');
  });
});

describe('GET /api/admin/tenants', () => {
  it('shows every tenant to the platform admin, ordered by slug', async () => {
    const response = await get('/api/admin/tenants?limit=200');
    expect(response.statusCode).toBe(200);
    const page = response.json();
    expect(page.nextCursor).toBeNull();
    expect(page.data.map((tenant: Tenant) => tenant.slug)).toEqual(await slugsInDb());
    expect(page.data).toContainEqual(alpha);
    expect(page.data).toContainEqual(beta);
  });

  it('shows a tenant key only its own tenant', async () => {
    for (const token of [alphaAdminKey, alphaReadKey]) {
      const response = await get('/api/admin/tenants', bearer(token));
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ data: [alpha], nextCursor: null });
    }
    expect(await walk(1, bearer(alphaReadKey))).toEqual([alpha]);
  });

  it('shows a user only the tenants they belong to', async () => {
    for (const tenant of [alpha, beta]) {
      const added = await t.app.inject({
        method: 'POST',
        url: '/api/admin/users',
        headers: { ...admin(), 'x-tenant-id': tenant.id },
        payload: { email: 'two.tenants@example.com', role: 'viewer', password: 'a long enough password' },
      });
      expect(added.statusCode).toBe(201);
    }
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'two.tenants@example.com', password: 'a long enough password' },
    });
    const cookie = login.cookies.find((c) => c.name === 'syncdeck_session')!;
    const response = await get('/api/admin/tenants', { cookie: `syncdeck_session=${cookie.value}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ data: [alpha, beta], nextCursor: null });
  });

  it('walks every tenant with limit and nextCursor, without duplicates or gaps', async () => {
    for (let i = 0; i < 7; i++) await t.createTenant(`page-${i}`);
    const all = await slugsInDb();
    expect(all.length).toBeGreaterThan(10);
    for (const limit of [1, 2, 3, all.length - 1, all.length, all.length + 1]) {
      const walked = await walk(limit);
      expect(
        walked.map((tenant) => tenant.slug),
        `limit ${limit}`,
      ).toEqual(all);
      expect(new Set(walked.map((tenant) => tenant.id)).size).toBe(all.length);
    }
  });

  it('keeps pages correct while tenants are added between them', async () => {
    const first = await get('/api/admin/tenants?limit=2');
    const page = first.json() as { data: Tenant[]; nextCursor: string };
    expect(page.nextCursor).toEqual(expect.any(String));
    // One sorts before the cursor (already passed), one after it (still to come).
    await t.createTenant('0-early');
    await t.createTenant('zz-late');
    const rest: Tenant[] = [];
    let cursor: string | null = page.nextCursor;
    while (cursor) {
      const response = await get(`/api/admin/tenants?limit=2&cursor=${encodeURIComponent(cursor)}`);
      expect(response.statusCode).toBe(200);
      rest.push(...response.json().data);
      cursor = response.json().nextCursor;
    }
    const slugs = [...page.data, ...rest].map((tenant) => tenant.slug);
    expect(slugs).toContain('zz-late');
    expect(slugs).not.toContain('0-early');
    expect(new Set(slugs).size).toBe(slugs.length);
    expect(slugs).toEqual((await slugsInDb()).filter((slug) => slug !== '0-early'));
  });

  it('rejects a cursor it did not issue with 400 on `query.cursor`', async () => {
    const cursors = [
      'not-a-cursor',
      Buffer.from('[1]').toString('base64url'),
      Buffer.from('{"slug":"a"}').toString('base64url'),
      Buffer.from('["a","b"]').toString('base64url'),
      'c'.repeat(501),
    ];
    for (const cursor of cursors) {
      const response = await get(`/api/admin/tenants?cursor=${encodeURIComponent(cursor)}`);
      expect(response.statusCode, cursor).toBe(400);
      expect(detailPaths(response), cursor).toEqual(['query.cursor']);
    }
  });

  it('rejects a limit outside 1..200 with 400 on `query.limit`', async () => {
    for (const limit of ['201', '0', '-1', '1.5', 'ten']) {
      const response = await get(`/api/admin/tenants?limit=${limit}`);
      expect(response.statusCode, limit).toBe(400);
      expect(response.json().error.code).toBe('validation_failed');
      expect(detailPaths(response), limit).toEqual(['query.limit']);
    }
    expect((await get('/api/admin/tenants?limit=200')).statusCode).toBe(200);
  });

  it('defaults to pages of 50', async () => {
    const existing = (await slugsInDb()).length;
    for (let i = existing; i <= 50; i++) await t.createTenant(`bulk-${i}`);
    const response = await get('/api/admin/tenants');
    expect(response.json().data).toHaveLength(50);
    expect(response.json().nextCursor).toEqual(expect.any(String));
  });

  it('answers 401 without a credential', async () => {
    const response = await get('/api/admin/tenants', {});
    expect(response.statusCode).toBe(401);
  });
});

describe('GET /api/admin/tenants/:id', () => {
  it('finds a tenant by id and by slug', async () => {
    for (const idOrSlug of [alpha.id, alpha.slug, alpha.id.toUpperCase()]) {
      const response = await get(`/api/admin/tenants/${idOrSlug}`);
      expect(response.statusCode, idOrSlug).toBe(200);
      expect(response.json()).toEqual(alpha);
    }
  });

  it("lets a tenant key read its own tenant but answers 404 for another's, exactly like a missing one", async () => {
    for (const idOrSlug of [alpha.id, alpha.slug]) {
      const own = await get(`/api/admin/tenants/${idOrSlug}`, bearer(alphaReadKey));
      expect(own.statusCode).toBe(200);
      expect(own.json()).toEqual(alpha);
    }
    const missing = await get(`/api/admin/tenants/${MISSING_ID}`, bearer(alphaReadKey));
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'not_found' } });
    for (const idOrSlug of [beta.id, beta.slug]) {
      const other = await get(`/api/admin/tenants/${idOrSlug}`, bearer(alphaAdminKey));
      expect(other.statusCode, idOrSlug).toBe(404);
      expect(errorOf(other)).toEqual(errorOf(missing));
      expect(JSON.stringify(other.json())).not.toContain(beta.name);
    }
  });

  it('answers 404 for an unknown id or slug', async () => {
    for (const idOrSlug of [MISSING_ID, 'no-such-tenant']) {
      const response = await get(`/api/admin/tenants/${idOrSlug}`);
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ error: { code: 'not_found', message: 'Tenant not found' } });
    }
  });

  it('answers 401 without a credential', async () => {
    expect((await get(`/api/admin/tenants/${alpha.id}`, {})).statusCode).toBe(401);
  });
});

describe('PATCH /api/admin/tenants/:id', () => {
  it("lets the tenant's own admin rename it, by id or by slug", async () => {
    const response = await patch(alpha.id, { name: '  Alpha Renamed  ' }, bearer(alphaAdminKey));
    expect(response.statusCode).toBe(200);
    const renamed = response.json();
    expect(renamed).toMatchObject({
      id: alpha.id,
      slug: alpha.slug,
      name: 'Alpha Renamed',
      createdAt: alpha.createdAt,
    });
    expect(Date.parse(renamed.updatedAt)).toBeGreaterThanOrEqual(Date.parse(alpha.updatedAt));
    expect(await nameInDb(alpha.id)).toBe('Alpha Renamed');

    const bySlug = await patch(alpha.slug, { name: 'Alpha Again' }, bearer(alphaAdminKey));
    expect(bySlug.statusCode).toBe(200);
    expect((await get(`/api/admin/tenants/${alpha.id}`)).json().name).toBe('Alpha Again');
  });

  it('lets the platform admin rename any tenant', async () => {
    const response = await patch(beta.slug, { name: 'Beta By Admin' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id: beta.id, name: 'Beta By Admin' });
  });

  it('answers 403 to a read-only key and changes nothing', async () => {
    const before = await nameInDb(alpha.id);
    const response = await patch(alpha.id, { name: 'By Reader' }, bearer(alphaReadKey));
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ error: { code: 'forbidden' } });
    expect(await nameInDb(alpha.id)).toBe(before);
  });

  it('answers 404 on another tenant, exactly like a missing one, and changes nothing', async () => {
    const before = await nameInDb(beta.id);
    const missing = await patch(MISSING_ID, { name: 'Ghost' }, bearer(alphaAdminKey));
    expect(missing.statusCode).toBe(404);
    for (const idOrSlug of [beta.id, beta.slug]) {
      const response = await patch(idOrSlug, { name: 'Hijacked' }, bearer(alphaAdminKey));
      expect(response.statusCode, idOrSlug).toBe(404);
      expect(errorOf(response)).toEqual(errorOf(missing));
    }
    expect(await nameInDb(beta.id)).toBe(before);
  });

  it('rejects unknown fields with 400, changing nothing', async () => {
    const before = await t.db.query('SELECT slug, name FROM tenants WHERE id = $1', [alpha.id]);
    for (const payload of [{ slug: 'renamed-slug' }, { name: 'Fine', extra: true }, { id: MISSING_ID }]) {
      const response = await patch(alpha.id, payload, bearer(alphaAdminKey));
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error.code).toBe('validation_failed');
      const unknown = Object.keys(payload).filter((key) => key !== 'name');
      for (const field of unknown) expect(namesUnknownField(response, field), field).toBe(true);
      expect(namesUnknownField(response, 'name')).toBe(false);
    }
    const after = await t.db.query('SELECT slug, name FROM tenants WHERE id = $1', [alpha.id]);
    expect(after.rows).toEqual(before.rows);
  });

  it('rejects a blank name with 400 on `name` and malformed JSON with 400', async () => {
    for (const name of ['', '   ', null, 'n'.repeat(201)]) {
      const response = await patch(alpha.id, { name }, bearer(alphaAdminKey));
      expect(response.statusCode, JSON.stringify(name)).toBe(400);
      expect(detailPaths(response)).toEqual(['name']);
    }
    const malformed = await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/tenants/${alpha.id}`,
      headers: { ...bearer(alphaAdminKey), 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('invalid_json');
  });

  it('treats an empty patch as a no-op', async () => {
    const before = await nameInDb(alpha.id);
    const response = await patch(alpha.id, {}, bearer(alphaAdminKey));
    expect(response.statusCode).toBe(200);
    expect(response.json().name).toBe(before);
  });

  it('answers 401 without a credential', async () => {
    const before = await nameInDb(alpha.id);
    expect((await patch(alpha.id, { name: 'Anonymous' }, {})).statusCode).toBe(401);
    expect(await nameInDb(alpha.id)).toBe(before);
  });
});

describe('a tenant currency', () => {
  it('defaults to USD and takes an ISO 4217 code in any case at creation, stored upper-case', async () => {
    const plain = await create({ slug: 'cur-plain' });
    expect(plain.statusCode).toBe(201);
    expect(plain.json().currency).toBe('USD');
    const riyal = await create({ slug: 'cur-riyal', currency: 'sar' });
    expect(riyal.statusCode).toBe(201);
    expect(riyal.json().currency).toBe('SAR');
    expect((await get('/api/admin/tenants/cur-riyal')).json().currency).toBe('SAR');
  });

  it('refuses what is not an ISO 4217 code with 400 on `currency`, creating nothing', async () => {
    for (const currency of ['', 'US', 'DOLLARS', 'XQZ', '€€€', 12, 'SA\u0000']) {
      const response = await create({ slug: 'cur-bad', currency });
      expect(response.statusCode, JSON.stringify(currency)).toBe(400);
      expect(new Set(detailPaths(response))).toEqual(new Set(['currency']));
    }
    expect(await slugsInDb()).not.toContain('cur-bad');
  });

  it("lets the tenant's admin set it by PATCH, and a read key not; what a key and a member read follows", async () => {
    const tenant = (await create({ slug: 'cur-patch' })).json() as Tenant;
    const adminKey = (await t.createKey(tenant.id, ['admin'])).token;
    const readKey = (await t.createKey(tenant.id, ['read'])).token;
    expect((await get(`/api/admin/tenants/${tenant.id}`, bearer(readKey))).json().currency).toBe('USD');
    expect((await patch(tenant.id, { currency: 'EUR' }, bearer(readKey))).statusCode).toBe(403);
    const bad = await patch(tenant.id, { currency: 'EURO' }, bearer(adminKey));
    expect(bad.statusCode).toBe(400);
    expect(detailPaths(bad)).toEqual(['currency']);
    const set = await patch(tenant.id, { currency: 'eur' }, bearer(adminKey));
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({ currency: 'EUR', name: tenant.name });
    // The key's own tenant is read with the key: it must not keep the old currency.
    expect((await get(`/api/admin/tenants/${tenant.id}`, bearer(readKey))).json().currency).toBe('EUR');
    expect((await get('/api/me', bearer(readKey))).statusCode).toBe(200);
  });

  it('is set by setTenantCurrency, which refuses a code that is not one', async () => {
    const tenant = (await create({ slug: 'cur-fn' })).json() as Tenant;
    expect((await setTenantCurrency(t.db, tenant.id, 'kwd'))?.currency).toBe('KWD');
    await expect(setTenantCurrency(t.db, tenant.id, 'KW')).rejects.toMatchObject({
      code: 'validation_failed',
    });
    expect(await setTenantCurrency(t.db, MISSING_ID, 'KWD')).toBeNull();
    expect((await get('/api/admin/tenants/cur-fn')).json().currency).toBe('KWD');
  });
});
