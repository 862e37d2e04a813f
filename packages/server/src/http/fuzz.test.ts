/*
 * Malformed bodies against ingest (single and batch) and the admin routes: whatever a client
 * sends, the answer is never a 5xx, every 4xx has the one error shape (a 400 with the field
 * paths in `details`), and no invalid batch item is ever `retryable`. Deterministic: the bodies
 * come from a seeded PRNG, so a failure reproduces exactly.
 */
import { errorBodySchema, type Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { mutate, prng, serialise } from './fuzz-bodies.ts';

const SEED = 0x5eedc0de;
const TIME_LIMIT_MS = 60_000;

let t: TestApp;
let tenant: Tenant;
let admin: Record<string, string>;
let ingestKey: string;
let botId: string;
let memberId: string;
let escalationId: string;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant('fuzz');
  admin = { ...bearer(t.adminToken), 'x-tenant-id': tenant.slug };
  ingestKey = (await t.createKey(tenant.id, ['ingest'])).token;
  const inject = (method: 'POST', url: string, headers: Record<string, string>, payload: object) =>
    t.app.inject({ method, url, headers, payload });
  botId = (await inject('POST', '/api/admin/bots', admin, validBot(0))).json().id;
  memberId = (
    await inject('POST', '/api/admin/users', admin, { email: 'm@example.com', role: 'agent' })
  ).json().member.id;
  await inject('POST', '/functions/v1/sync', bearer(ingestKey), {
    event: 'escalation.created',
    data: { customer_identifier: { phone: '+966501110000' }, reason: 'seed' },
  });
  escalationId = (await t.app.inject({ method: 'GET', url: '/api/escalations', headers: admin })).json()
    .data[0].id;
});
afterAll(() => t.close());

function validBot(n: number) {
  return {
    name: 'Fuzz bot',
    restaurantName: 'Fuzz',
    whatsappNumber: `+9665080${String(40_000 + n).padStart(5, '0')}`,
    accountSid: 'AC0123456789abcdef0123456789abcdef',
    authToken: 'token',
    senderSid: 'XE1',
    status: 'active',
  };
}

const who = { customer_identifier: { whatsapp_phone: 'whatsapp:+966501230000', telegram_chat_id: 42 } };
const validEvents = [
  {
    event: 'customer.seen',
    data: { phone: '+966501230001', display_name: 'A', trust_level: 3, telegram_topic_id: '7' },
  },
  {
    event: 'message.created',
    event_id: 'e-1',
    occurred_at: '2026-01-01T00:00:00Z',
    data: {
      ...who,
      bot: { whatsapp_number: '+966508034010' },
      direction: 'IN',
      content: 'hi',
      metadata: { a: [1, { b: 'c' }] },
    },
  },
  {
    event: 'order.created',
    data: {
      ...who,
      syrve_order_id: 'o-1',
      items: [{ name: 'Kabsa', amount: 2, price: 30 }],
      total: 60,
      channel: 'web',
    },
  },
  { event: 'order.status', data: { syrve_order_id: 'o-1', status: 'delivered' } },
  { event: 'escalation.created', data: { ...who, reason: 'angry', metadata: { x: 1 } } },
  { event: 'escalation.resolved', data: { ...who, resolution_summary: 'ok' } },
  { event: 'conversation.closed', data: { ...who, bot: { telegram_bot_id: 99 } } },
];

type Target = {
  method: 'POST' | 'PUT' | 'PATCH';
  url: () => string;
  headers: () => Record<string, string>;
  valid: (n: number) => unknown;
};
const targets: Target[] = [
  {
    method: 'POST',
    url: () => '/functions/v1/sync',
    headers: () => bearer(ingestKey),
    valid: (n) => validEvents[n % 7],
  },
  {
    method: 'POST',
    url: () => '/api/sync/events',
    headers: () => bearer(ingestKey),
    valid: (n) => ({ events: Array.from({ length: 1 + (n % 9) }, (_, i) => validEvents[(n + i) % 7]) }),
  },
  { method: 'POST', url: () => '/api/admin/bots', headers: () => admin, valid: validBot },
  {
    method: 'PUT',
    url: () => `/api/admin/bots/${botId}`,
    headers: () => admin,
    valid: () => ({ name: 'B', wabaId: null, isActive: true }),
  },
  {
    method: 'POST',
    url: () => '/api/admin/tenants',
    headers: () => bearer(t.adminToken),
    valid: (n) => ({ slug: `fz-${n}`, name: 'F' }),
  },
  {
    method: 'PATCH',
    url: () => `/api/admin/tenants/${tenant.slug}`,
    headers: () => admin,
    valid: () => ({ name: 'Fuzz' }),
  },
  {
    method: 'POST',
    url: () => '/api/admin/keys',
    headers: () => admin,
    valid: () => ({ name: 'k', scopes: ['read', 'ingest'] }),
  },
  {
    method: 'POST',
    url: () => '/api/admin/users',
    headers: () => admin,
    valid: (n) => ({ email: `u${n}@example.com`, role: 'viewer', password: 'long enough secret' }),
  },
  {
    method: 'PUT',
    url: () => `/api/admin/users/${memberId}`,
    headers: () => admin,
    valid: () => ({ role: 'agent' }),
  },
  {
    method: 'PUT',
    url: () => `/api/bot-sessions/${botId}/whatsapp:+966501230000`,
    headers: () => bearer(ingestKey),
    valid: () => ({ state: { step: 'cart', cart: [{ item: 'x', qty: 1 }] }, ttlSeconds: 60 }),
  },
  {
    method: 'POST',
    url: () => `/api/escalations/${escalationId}/resolve`,
    headers: () => admin,
    valid: () => ({ resolutionSummary: 'done' }),
  },
];

describe('fuzzing the bodies of ingest and the admin routes', () => {
  it('never answers 5xx, and every 4xx has the error shape with details', {
    timeout: TIME_LIMIT_MS + 30_000,
  }, async () => {
    const rng = prng(SEED);
    const started = Date.now();
    const statuses = new Map<number, number>();
    const REQUESTS = 660;
    for (let n = 0; n < REQUESTS; n++) {
      const target = targets[n % targets.length]!;
      const body = mutate(rng, target.valid(n));
      const payload = serialise(body);
      const response = await t.app.inject({
        method: target.method,
        url: target.url(),
        headers: { ...target.headers(), 'content-type': 'application/json' },
        payload,
      });
      const what = `#${n} ${target.method} ${target.url()} ${payload.slice(0, 300)} -> ${response.statusCode} ${response.body.slice(0, 500)}`;
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      expect(response.statusCode, what).toBeLessThan(500);
      if (response.statusCode >= 400) {
        const parsed = errorBodySchema.safeParse(response.json());
        expect(parsed.success, what).toBe(true);
        expect(parsed.data!.error.requestId, what).toBeTruthy();
        // Refused for its content: the fields are named. (A body that is not JSON, or that
        // smuggles `__proto__`, is `invalid_json`: there is no field to name.)
        if (response.statusCode === 400 && parsed.data!.error.code !== 'invalid_json')
          expect((parsed.data!.error.details ?? []).length, what).toBeGreaterThan(0);
      } else if (target.url() === '/api/sync/events' && 'results' in response.json()) {
        for (const result of response.json().results) {
          if (result.status !== 'rejected') continue;
          expect(result.error.retryable, what).toBeUndefined();
          expect(result.error.details.length, what).toBeGreaterThan(0);
        }
      }
    }
    expect(Date.now() - started).toBeLessThan(TIME_LIMIT_MS);
    // The bodies must exercise both sides: most refused, some accepted.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(REQUESTS / 3);
    expect([...statuses.keys()].some((status) => status < 300)).toBe(true);
  });
});
