/*
 * Every route that takes text refuses what PostgreSQL cannot store (NUL, unpaired surrogates)
 * with 400 validation_failed and the field's path, never a 500 from the database. The rule is
 * core's `storableString` / `jsonValueProblem`; this walks the routes that take text.
 */
import type { Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { ingest, newPhone } from '../testing/ingest.ts';

let t: TestApp;
let tenant: Tenant;
let admin: Record<string, string>;
let readKey: string;
let operateKey: string;
let ingestKey: string;
let botId: string;
let escalationId: string;

const NUL = 'a\u0000b';
const HIGH = 'a\uD800b';
const LOW = '\uDC00b';

const cursorOf = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');
const UUID = '00000000-0000-4000-8000-000000000000';

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant('text-rule');
  admin = { ...bearer(t.adminToken), 'x-tenant-id': tenant.slug };
  readKey = (await t.createKey(tenant.id, ['read'])).token;
  operateKey = (await t.createKey(tenant.id, ['operate'])).token;
  ingestKey = (await t.createKey(tenant.id, ['ingest'])).token;
  const bot = await t.app.inject({
    method: 'POST',
    url: '/api/admin/bots',
    headers: admin,
    payload: {
      name: 'Text bot',
      restaurantName: 'Text',
      whatsappNumber: '+966508034099',
      accountSid: 'AC0123456789abcdef0123456789abcdef',
      authToken: 'secret-token',
    },
  });
  botId = bot.json().id;
  const phone = newPhone();
  await ingest(t, ingestKey, [
    { event: 'escalation.created', data: { customer_identifier: { phone }, reason: 'help' } },
  ]);
  const escalations = await t.app.inject({
    method: 'GET',
    url: '/api/escalations',
    headers: bearer(readKey),
  });
  escalationId = escalations.json().data[0].id;
});
afterAll(() => t.close());

interface Case {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  payload?: unknown;
  path: string;
}

/** The requests carrying `text` where each route takes text, and the path its refusal names. */
function cases(text: string): Case[] {
  const body = (
    method: Case['method'],
    url: string,
    headers: Record<string, string>,
    payload: object,
    path: string,
  ) => ({ method, url, headers, payload, path }) satisfies Case;
  const list: Case[] = [
    body(
      'POST',
      '/api/admin/bots',
      admin,
      {
        name: 'n',
        restaurantName: 'r',
        whatsappNumber: '+966508034098',
        accountSid: 'AC1',
        authToken: 'x',
        supportContact: text,
      },
      'supportContact',
    ),
    body('PUT', `/api/admin/bots/${botId}`, admin, { restaurantName: text }, 'restaurantName'),
    body('PUT', `/api/admin/bots/${botId}`, admin, { wabaId: text }, 'wabaId'),
    body('POST', '/api/admin/tenants', bearer(t.adminToken), { slug: 'text-x', name: text }, 'name'),
    body('PATCH', `/api/admin/tenants/${tenant.id}`, admin, { name: text }, 'name'),
    body('POST', '/api/admin/keys', admin, { name: text, scopes: ['read'] }, 'name'),
    body('POST', '/api/admin/users', admin, { email: `x${text}@example.com`, role: 'viewer' }, 'email'),
    body(
      'POST',
      '/api/admin/users',
      admin,
      { email: 'pw@example.com', role: 'viewer', password: `long enough ${text}` },
      'password',
    ),
    body(
      'POST',
      `/api/escalations/${escalationId}/resolve`,
      bearer(operateKey),
      { resolutionSummary: text },
      'resolutionSummary',
    ),
    // Sessions' route, validated by core's loginSchema: the same rule without a change there.
    body('POST', '/api/auth/login', {}, { email: 'admin@example.com', password: text }, 'password'),
    body(
      'PUT',
      `/api/bot-sessions/${botId}/k1`,
      bearer(ingestKey),
      { state: { cart: [{ note: text }] } },
      'state.cart.0.note',
    ),
  ];
  // A URL holds NUL (%00) but no unpaired surrogate: UTF-8 has no encoding for one.
  if (!text.includes('\u0000')) return list;
  const q = encodeURIComponent(text);
  return [
    ...list,
    { method: 'GET', url: `/api/db/conversations?q=${q}`, headers: bearer(readKey), path: 'query.q' },
    { method: 'GET', url: `/api/customers?q=${q}`, headers: bearer(readKey), path: 'query.q' },
    { method: 'GET', url: `/api/admin/tenants/${q}`, headers: bearer(t.adminToken), path: 'params.id' },
    {
      method: 'PATCH',
      url: `/api/admin/tenants/${q}`,
      headers: bearer(t.adminToken),
      payload: { name: 'x' },
      path: 'params.id',
    },
    { method: 'GET', url: `/api/db/restaurants/${q}/bots`, headers: bearer(t.adminToken), path: 'params.id' },
    {
      method: 'GET',
      url: `/api/bot-sessions/${botId}/${q}`,
      headers: bearer(ingestKey),
      path: 'params.customerKey',
    },
  ];
}

describe('text PostgreSQL cannot store, on every route that takes text', () => {
  it.each([
    ['NUL', NUL],
    ['a lone high surrogate', HIGH],
    ['a lone low surrogate', LOW],
  ])('refuses %s with 400 validation_failed and the path', async (_, text) => {
    for (const { path, ...request } of cases(text)) {
      const response = await t.app.inject({ ...request, payload: request.payload as object | undefined });
      const what = `${request.method} ${request.url} (${path}): ${response.body}`;
      expect(response.statusCode, what).toBe(400);
      expect(response.json().error.code, what).toBe('validation_failed');
      expect(
        response.json().error.details.map((d: { path: string }) => d.path),
        what,
      ).toContain(path);
    }
  });

  it('refuses forged cursors with 400, never a 500', async () => {
    const lists: [string, Record<string, string>][] = [
      ['/api/admin/tenants', bearer(t.adminToken)],
      ['/api/admin/users', admin],
      ['/api/admin/bots', admin],
      ['/api/admin/keys', admin],
    ];
    for (const cursor of [
      cursorOf([NUL]),
      cursorOf([1.5, UUID]),
      cursorOf([1e300, UUID]),
      cursorOf([HIGH]),
    ]) {
      for (const [url, headers] of lists) {
        const response = await t.app.inject({ method: 'GET', url: `${url}?cursor=${cursor}`, headers });
        expect(response.statusCode, `${url} ${cursor}: ${response.body}`).toBe(400);
        expect(response.json().error.details[0].path).toBe('query.cursor');
      }
    }
  });
});
