import type { Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';

let t: TestApp;
let tenantA: Tenant;
let tenantB: Tenant;

beforeAll(async () => {
  t = await createTestApp({ LOGIN_MAX_FAILURES: '5' });
  tenantA = await t.createTenant('auth-a');
  tenantB = await t.createTenant('auth-b');
});
afterAll(() => t.close());

function login(email: string, password: string, ip = '10.0.0.1') {
  return t.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { email, password },
    remoteAddress: ip,
  });
}

function sessionCookie(response: { cookies: { name: string; value: string }[] }): string {
  const cookie = response.cookies.find((c) => c.name === 'syncdeck_session');
  if (!cookie) throw new Error('no session cookie set');
  return `syncdeck_session=${cookie.value}`;
}

describe('API keys', () => {
  it('answers 401 without a credential', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/me' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('answers 401 for a malformed header and for an unknown key', async () => {
    for (const authorization of ['Basic abc', 'Bearer', 'Bearer sdk_live_notarealkey']) {
      const response = await t.app.inject({ method: 'GET', url: '/api/me', headers: { authorization } });
      expect(response.statusCode, authorization).toBe(401);
    }
  });

  it('stores only a hash of the token', async () => {
    const key = await t.createKey(tenantA.id, ['read']);
    const stored = await t.db.query<{ token_hash: string; prefix: string }>(
      'SELECT token_hash, prefix FROM api_keys WHERE id = $1',
      [key.id],
    );
    expect(stored.rows[0]!.token_hash).not.toContain(key.token);
    expect(stored.rows[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(key.token.startsWith(stored.rows[0]!.prefix)).toBe(true);
    expect(key.token).toMatch(/^sdk_live_/);
  });

  it('describes the key on /api/me', async () => {
    const key = await t.createKey(tenantA.id, ['ingest']);
    const response = await t.app.inject({ method: 'GET', url: '/api/me', headers: bearer(key.token) });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      user: null,
      apiKey: { id: key.id, name: 'test key', tenantId: tenantA.id, scopes: ['ingest'] },
      memberships: [],
    });
  });

  it('lets X-Tenant-Id / X-Restaurant-Id choose a tenant only where the key may act', async () => {
    const key = await t.createKey(tenantA.id, ['admin']);
    const own = await t.app.inject({
      method: 'GET',
      url: '/api/admin/keys',
      headers: { ...bearer(key.token), 'x-restaurant-id': tenantA.id },
    });
    expect(own.statusCode).toBe(200);
    for (const header of ['x-tenant-id', 'x-restaurant-id']) {
      for (const value of [tenantB.id, tenantB.slug]) {
        const other = await t.app.inject({
          method: 'GET',
          url: '/api/admin/keys',
          headers: { ...bearer(key.token), [header]: value },
        });
        expect(other.statusCode, `${header}: ${value}`).toBe(404);
      }
    }
    // A platform admin naming a tenant PostgreSQL could never store is told which header is wrong.
    const unstorable = await t.app.inject({
      method: 'GET',
      url: '/api/admin/keys',
      headers: { ...bearer(t.adminToken), 'x-tenant-id': `${tenantA.slug}\u0000` },
    });
    expect(unstorable.statusCode, unstorable.body).toBe(400);
    expect(unstorable.json().error.details[0].path).toBe('headers.x-tenant-id');
  });

  it('answers 403 for the wrong scope', async () => {
    const key = await t.createKey(tenantA.id, ['ingest', 'read']);
    const response = await t.app.inject({
      method: 'GET',
      url: '/api/admin/keys',
      headers: bearer(key.token),
    });
    expect(response.statusCode).toBe(403);
    expect(response.json().error.message).toMatch(/admin/);
  });
});

describe('sessions', () => {
  it('logs in with an httpOnly cookie, serves /api/me, and logs out at once', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/admin/users',
      headers: { ...bearer(t.adminToken), 'x-tenant-id': tenantA.slug },
      payload: { email: 'Agent.One@Example.com', role: 'agent', password: 'a long enough password' },
    });
    expect(created.statusCode).toBe(201);

    const response = await login('agent.one@example.com', 'a long enough password');
    expect(response.statusCode).toBe(200);
    const setCookie = String(response.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    const cookie = sessionCookie(response);

    const me = await t.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } });
    expect(me.statusCode).toBe(200);
    expect(me.json().user.email).toBe('agent.one@example.com');
    expect(me.json().memberships).toEqual([
      expect.objectContaining({ role: 'agent', tenant: expect.objectContaining({ slug: 'auth-a' }) }),
    ]);

    // An agent reads but does not administer.
    const keys = await t.app.inject({ method: 'GET', url: '/api/admin/keys', headers: { cookie } });
    expect(keys.statusCode).toBe(403);

    const logout = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie } });
    expect(logout.statusCode).toBe(204);
    const after = await t.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } });
    expect(after.statusCode).toBe(401);
  });

  it('stores passwords as scrypt hashes', async () => {
    const stored = await t.db.query<{ password_hash: string }>(
      'SELECT password_hash FROM users WHERE email = $1',
      [t.adminEmail],
    );
    expect(stored.rows[0]!.password_hash).toMatch(/^scrypt\$/);
    expect(stored.rows[0]!.password_hash).not.toContain(t.adminPassword);
  });

  it('does not reveal whether an email exists', async () => {
    const unknown = await login('nobody@example.com', 'whatever it is', '10.0.0.2');
    const wrong = await login(t.adminEmail, 'not the password', '10.0.0.2');
    expect(unknown.statusCode).toBe(401);
    expect(wrong.statusCode).toBe(401);
    expect(unknown.json().error).toEqual({
      ...wrong.json().error,
      requestId: unknown.json().error.requestId,
    });
  });

  it('refuses an address after repeated failures, even with the right password', async () => {
    // Against another account: the admin's own would be locked from every address (sessions.test.ts).
    for (let attempt = 0; attempt < 5; attempt++) {
      expect((await login('someone.else@example.com', 'wrong password', '10.0.0.3')).statusCode).toBe(401);
    }
    const refused = await login(t.adminEmail, t.adminPassword, '10.0.0.3');
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected.
    expect((await login(t.adminEmail, t.adminPassword, '10.0.0.4')).statusCode).toBe(200);
  });

  it('treats an unknown or expired session cookie as not logged in', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/api/me',
      headers: { cookie: 'syncdeck_session=forged' },
    });
    expect(response.statusCode).toBe(401);
    const ok = await login(t.adminEmail, t.adminPassword, '10.0.0.5');
    const cookie = sessionCookie(ok);
    await t.db.query("UPDATE sessions SET expires_at = now() - interval '1 second'");
    expect((await t.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } })).statusCode).toBe(401);
  });

  it('validates the login body with field paths', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'not-an-email' },
    });
    expect(response.statusCode).toBe(400);
    const paths = response.json().error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['email', 'password']));
  });
});
