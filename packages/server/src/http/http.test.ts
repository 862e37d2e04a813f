import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { AppError } from '../lib/errors.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ BODY_LIMIT_BYTES: '2048' }, (app) => {
    app.get('/test/boom', async () => {
      throw new Error('database password is hunter2');
    });
    app.get('/test/too-large', async () => {
      throw new AppError('state_too_large', 'The state is too large', [
        { path: 'state', message: 'too big' },
      ]);
    });
    const shown = z.object({
      id: z.string(),
      note: z.string().nullable(),
      tags: z.array(z.object({ name: z.string() })),
      metadata: z.record(z.string(), z.unknown()),
    });
    app.get('/test/shown', { schema: { response: { 200: shown } } }, async () => ({
      id: 'a',
      note: null,
      tags: [{ name: 'x', hidden: 1 }],
      metadata: { nested: { deep: [1, 'two'] } },
      tokenHash: 'must never leave the server',
    }));
    app.get(
      '/test/missing',
      { schema: { response: { 200: shown } } },
      async () => ({ note: 'no id' }) as never,
    );
    app.get(
      '/test/null-id',
      { schema: { response: { 200: shown } } },
      async () => ({ id: null, note: null, tags: [], metadata: {} }) as never,
    );
    app.post(
      '/test/echo',
      { schema: { body: z.object({ n: z.number().int() }) } },
      async (request) => request.body,
    );
  });
});
afterAll(() => t.close());

const errorShape = {
  error: { code: expect.any(String), message: expect.any(String), requestId: expect.any(String) },
};

describe('responses', () => {
  it('carry only the fields their schema declares, nested ones too', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/test/shown' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      id: 'a',
      note: null,
      tags: [{ name: 'x' }],
      metadata: { nested: { deep: [1, 'two'] } },
    });
  });

  it('that miss a required field or break its type answer a generic 500, not a partial or coerced object', async () => {
    for (const url of ['/test/missing', '/test/null-id']) {
      const response = await t.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(500);
      expect(response.body).not.toContain('no id');
      expect(response.json()).toMatchObject({ error: { code: 'internal_error' } });
    }
  });
});

describe('one error shape for every failure', () => {
  it('answers an unknown route with a JSON 404', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/nothing-here?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({
      error: { code: 'route_not_found', message: 'No route for GET /api/nothing-here' },
    });
  });

  it('answers a path Fastify cannot route in the same error body', async () => {
    // Not valid UTF-8 once percent-decoded: the router refuses it before any route runs.
    const badEncoding = await t.app.inject({ method: 'POST', url: '/api/webhooks/%ED%A0%80', payload: {} });
    expect(badEncoding.statusCode).toBe(400);
    expect(badEncoding.json()).toMatchObject({
      error: { code: 'bad_request', details: [{ path: 'url' }], requestId: expect.any(String) },
    });
    const tooLong = await t.app.inject({ method: 'GET', url: `/api/customers/${'x'.repeat(600)}` });
    // Over the limit no route matches: the router's own refusal, still in our body.
    expect([404, 414]).toContain(tooLong.statusCode);
    expect(tooLong.json()).toMatchObject({ error: { code: expect.any(String), requestId: expect.any(String) } });
    // Up to 500 characters a parameter reaches the route, whose own validation answers.
    const long = await t.app.inject({
      method: 'GET',
      url: `/api/customers/${'x'.repeat(150)}`,
      headers: bearer(t.adminToken),
    });
    expect(long.statusCode).not.toBe(414);
    expect(long.statusCode).toBeLessThan(500);
  });

  it('answers malformed JSON with 400 and stores nothing', async () => {
    const before = await t.db.query('SELECT count(*)::int AS n FROM tenants');
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/admin/tenants',
      headers: { ...bearer(t.adminToken), 'content-type': 'application/json' },
      payload: '{"slug": "half',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: 'invalid_json' } });
    const after = await t.db.query('SELECT count(*)::int AS n FROM tenants');
    expect(after.rows).toEqual(before.rows);
  });

  it('answers a body that is not JSON with 415', async () => {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/admin/tenants',
        headers: { ...bearer(t.adminToken), 'content-type': contentType },
        payload: 'slug=x',
      });
      expect(response.statusCode, contentType).toBe(415);
      expect(response.json()).toMatchObject({ error: { code: 'unsupported_media_type' } });
    }
  });

  it('answers an oversized body with 413', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/admin/tenants',
      headers: { ...bearer(t.adminToken), 'content-type': 'application/json' },
      payload: JSON.stringify({ slug: 'big', name: 'x'.repeat(5000) }),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ error: { code: 'body_too_large' } });
  });

  it('names each wrong field by its path', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/test/echo', payload: { n: 'one' } });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      error: { code: 'validation_failed', details: [{ path: 'n', message: expect.any(String) }] },
    });
    const query = await t.app.inject({
      method: 'GET',
      url: '/api/admin/tenants?limit=0',
      headers: bearer(t.adminToken),
    });
    expect(query.json().error.details[0].path).toBe('query.limit');
  });

  it("answers an AppError with its code's status, its code and its details", async () => {
    const response = await t.app.inject({ method: 'GET', url: '/test/too-large' });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toEqual({
      error: {
        code: 'state_too_large',
        message: 'The state is too large',
        details: [{ path: 'state', message: 'too big' }],
        requestId: expect.any(String),
      },
    });
  });

  it('answers an unknown error with a generic 500 that leaks nothing', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/test/boom' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toMatchObject(errorShape);
    expect(response.body).not.toContain('hunter2');
    expect(response.json().error.requestId).toBe(response.headers['x-request-id']);
  });
});

describe('health and docs', () => {
  it('serves /healthz and /readyz', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', database: t.db.kind });
  });

  it('serves an OpenAPI document generated from the route schemas, and a browsable UI', async () => {
    const doc = await t.app.inject({ method: 'GET', url: '/api/docs/json' });
    expect(doc.statusCode).toBe(200);
    const openapi = doc.json();
    expect(openapi.openapi).toMatch(/^3\./);
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/api/admin/tenants',
        '/api/admin/keys/{id}',
        '/api/auth/login',
        '/api/me',
        '/readyz',
      ]),
    );
    expect(
      openapi.paths['/api/admin/keys'].post.requestBody.content['application/json'].schema.properties.scopes,
    ).toBeDefined();
    expect(openapi.paths['/api/internal/cli']).toBeUndefined();
    const ui = await t.app.inject({ method: 'GET', url: '/api/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
  });
});
