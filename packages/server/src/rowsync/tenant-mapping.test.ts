import type { WebhookResult } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { rowChange } from '../testing/rowsync.ts';
import { mapSourceTenant } from './index.ts';
import { signSeed } from './signature.ts';

/** Issue 26, items 16 and 17: a source's tenant ids mapped to existing tenants, and the env's secret. */
let t: TestApp;
const SECRET = 'mapping-secret-0123456789abcdef';

type Response = Awaited<ReturnType<TestApp['app']['inject']>>;

function push(
  payload: unknown,
  options: { secret?: string; url?: string; raw?: string } = {},
): Promise<Response> {
  const body = options.raw ?? JSON.stringify(payload);
  return t.app.inject({
    method: 'POST',
    url: options.url ?? '/api/webhooks/mapper',
    headers: {
      'content-type': 'application/json',
      'x-webhook-signature': `sha256=${signSeed(body, options.secret ?? SECRET)}`,
    },
    payload: body,
  });
}

async function pushed(payload: unknown, options?: Parameters<typeof push>[1]): Promise<WebhookResult> {
  const response = await push(payload, options);
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

function admin(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) {
  return t.app.inject({ method, url, headers: bearer(t.adminToken), ...(payload ? { payload } : {}) });
}

beforeAll(async () => {
  t = await createTestApp();
  const created = await admin('POST', '/api/admin/sources', { name: 'mapper', secret: SECRET });
  expect(created.statusCode, created.body).toBe(201);
});
afterAll(() => t.close());

describe('mapSourceTenant', () => {
  it('sends later pushes of a tenant id to an existing tenant', async () => {
    const sufrah = await t.createTenant('sufrah');
    await mapSourceTenant(t.db, 'mapper', 'sufrah', sufrah.id);
    const result = await pushed(rowChange('INSERT', 'adhoc_work_orders', 'sufrah', { id: 'wo-1' }));
    expect(result.tenantId).toBe(sufrah.id);
    const made = await t.db.query("SELECT 1 FROM tenants WHERE slug LIKE 'mapper-%'");
    expect(made.rows).toHaveLength(0);
  });

  it('throws not_found for an unknown source or tenant', async () => {
    const tenant = await t.createTenant('nowhere');
    await expect(mapSourceTenant(t.db, 'nosuch', 'x', tenant.id)).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(
      mapSourceTenant(t.db, 'mapper', 'x', '00000000-0000-4000-8000-000000000000'),
    ).rejects.toMatchObject({ code: 'not_found' });
  });
});
