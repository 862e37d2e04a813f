/*
 * The routes the fuzz test (fuzz.test.ts) mutates bodies for, ingest and the admin routes, each
 * with a valid body to start from; and what they need to exist first (a bot, a member, an
 * escalation, a source).
 */
import type { Tenant } from '@syncdeck/core';
import { expect } from 'vitest';
import { bearer, type TestApp } from '../testing/harness.ts';

export interface Target {
  method: 'POST' | 'PUT' | 'PATCH';
  url: () => string;
  headers: () => Record<string, string>;
  valid: (n: number) => unknown;
}

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

/**
 * Sets up what the routes act on in `tenant`, then answers the targets. `source` is an existing
 * row-sync source: a second secret may be added to it (the first stays), and tables mapped.
 */
export async function adminTargets(t: TestApp, tenant: Tenant, source: string): Promise<Target[]> {
  const admin = { ...bearer(t.adminToken), 'x-tenant-id': tenant.slug };
  const platform = bearer(t.adminToken);
  const ingestKey = (await t.createKey(tenant.id, ['ingest'])).token;
  const inject = async (url: string, headers: Record<string, string>, payload: object) => {
    const response = await t.app.inject({ method: 'POST', url, headers, payload });
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json();
  };
  const botId = (await inject('/api/admin/bots', admin, validBot(0))).id;
  const memberId = (await inject('/api/admin/users', admin, { email: 'm@example.com', role: 'agent' })).member
    .id;
  await inject('/functions/v1/sync', bearer(ingestKey), {
    event: 'escalation.created',
    data: { customer_identifier: { phone: '+966501110000' }, reason: 'seed' },
  });
  const escalationId = (await t.app.inject({ method: 'GET', url: '/api/escalations', headers: admin })).json()
    .data[0].id;

  return [
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
      headers: () => platform,
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
    {
      method: 'POST',
      url: () => '/api/admin/sources',
      headers: () => platform,
      valid: (n) => ({
        name: `fz_src_${n}`,
        secret: `fuzz-source-secret-${n}-0123456789`,
        schema: `fz_schema_${n}`,
        tables: [{ sourceTable: 'fz_rows', targetTable: 'fz_rows' }],
      }),
    },
    {
      method: 'POST',
      url: () => `/api/admin/sources/${source}/secrets`,
      headers: () => platform,
      valid: (n) => ({ secret: `fuzz-rotated-secret-${n}-0123456789` }),
    },
    {
      method: 'PUT',
      url: () => `/api/admin/sources/${source}/tables/fz_source_rows`,
      headers: () => platform,
      valid: (n) => ({ targetTable: `fz_target_${n}` }),
    },
  ];
}
