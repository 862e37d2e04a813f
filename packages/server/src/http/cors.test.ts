import type { Tenant } from '@syncdeck/core';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { registerCors } from './cors.ts';
import { registerErrorHandling } from './errors.ts';

/* A dashboard served from another origin (its own app) calling the API with an API key. */

const DASHBOARD = 'https://admin.example.com';
const LOCAL_DEV = 'http://localhost:3000';

let t: TestApp;
let tenant: Tenant;
let readKey: string;

beforeAll(async () => {
  t = await createTestApp({ CORS_ORIGINS: ` ${DASHBOARD}, ${LOCAL_DEV} ` });
  tenant = await t.createTenant('cors');
  readKey = (await t.createKey(tenant.id, ['read'])).token;
});
afterAll(() => t.close());

function preflight(origin: string, url = '/api/db/conversations', method = 'GET') {
  return t.app.inject({
    method: 'OPTIONS',
    url,
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'authorization, x-tenant-id',
    },
  });
}

function corsHeadersOf(headers: Record<string, unknown>): string[] {
  return Object.keys(headers).filter((name) => name.startsWith('access-control-'));
}

describe('CORS_ORIGINS', () => {
  it('is a comma-separated list of exact origins, none by default', () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: `${DASHBOARD},${LOCAL_DEV}` }).corsOrigins).toEqual([
      DASHBOARD,
      LOCAL_DEV,
    ]);
    for (const wrong of [
      '*',
      'https://admin.example.com/',
      'admin.example.com',
      'https://a.example/app',
      'ftp://a.example',
    ]) {
      expect(() => loadConfig({ CORS_ORIGINS: wrong }), wrong).toThrow(/CORS_ORIGINS/);
    }
  });
});

describe('a preflight', () => {
  it('from an allowed origin answers the methods and headers the API takes, without credentials', async () => {
    for (const origin of [DASHBOARD, LOCAL_DEV]) {
      const response = await preflight(origin, '/api/bot-sessions/b/c', 'PUT');
      expect(response.statusCode).toBe(204);
      expect(response.headers['access-control-allow-origin']).toBe(origin);
      const methods = String(response.headers['access-control-allow-methods']).split(', ');
      expect(methods).toEqual(expect.arrayContaining(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']));
      const allowed = String(response.headers['access-control-allow-headers']).toLowerCase().split(', ');
      expect(allowed).toEqual(
        expect.arrayContaining([
          'authorization',
          'content-type',
          'x-tenant-id',
          'x-restaurant-id',
          'if-match',
          'if-none-match',
        ]),
      );
      expect(response.headers['access-control-max-age']).toBeDefined();
      expect(response.headers['access-control-allow-credentials']).toBeUndefined();
      expect(String(response.headers.vary)).toContain('Origin');
    }
  });

  it('from an origin not listed gets no CORS headers', async () => {
    for (const origin of ['https://evil.example', 'https://admin.example.com.evil.example', 'null']) {
      const response = await preflight(origin);
      expect(corsHeadersOf(response.headers), origin).toEqual([]);
    }
  });
});

describe('a request from another origin', () => {
  it('from an allowed origin may read the answer and its cursor, ETag and request id headers', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/api/db/conversations',
      headers: { ...bearer(readKey), origin: DASHBOARD },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe(DASHBOARD);
    const exposed = String(response.headers['access-control-expose-headers']).toLowerCase().split(', ');
    expect(exposed).toEqual(expect.arrayContaining(['x-next-cursor', 'etag', 'x-request-id']));
    expect(response.headers['access-control-allow-credentials']).toBeUndefined();
    expect(String(response.headers.vary)).toContain('Origin');
  });

  it('from an allowed origin may read an error answer too', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/api/db/conversations',
      headers: { origin: DASHBOARD },
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers['access-control-allow-origin']).toBe(DASHBOARD);
  });

  it('from an origin not listed, or with no Origin, gets no CORS headers', async () => {
    for (const headers of [{ origin: 'https://evil.example' }, {}]) {
      const response = await t.app.inject({
        method: 'GET',
        url: '/api/db/conversations',
        headers: { ...bearer(readKey), ...headers },
      });
      expect(response.statusCode).toBe(200);
      expect(corsHeadersOf(response.headers)).toEqual([]);
    }
  });
});

describe('without CORS_ORIGINS', () => {
  it('answers no origin with CORS headers, and no preflight', async () => {
    const app = Fastify();
    registerErrorHandling(app);
    registerCors(app, loadConfig({}).corsOrigins);
    app.get('/api/db/conversations', async () => []);
    const response = await app.inject({
      method: 'OPTIONS',
      url: '/api/db/conversations',
      headers: { origin: DASHBOARD, 'access-control-request-method': 'GET' },
    });
    expect(response.statusCode).toBe(404);
    expect(corsHeadersOf(response.headers)).toEqual([]);
    const get = await app.inject({
      method: 'GET',
      url: '/api/db/conversations',
      headers: { origin: DASHBOARD },
    });
    expect(corsHeadersOf(get.headers)).toEqual([]);
    await app.close();
  });
});
