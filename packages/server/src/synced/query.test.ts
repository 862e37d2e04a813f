// Reading synced rows whatever values a source sends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signSeed } from '../rowsync/index.ts';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { rowChange } from '../testing/rowsync.ts';

let t: TestApp;
const SECRET = 'synced-query-secret-0123456789';
const tokens = new Map<string, string>();

/** Pushes a row for a source tenant (one per test, so each reads its own view); its read token. */
async function push(tenant: string, record: Record<string, unknown>): Promise<string> {
  const body = JSON.stringify(rowChange('INSERT', 'adhoc_work_orders', tenant, record));
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/webhooks/optiqo',
    headers: { 'content-type': 'application/json', 'x-webhook-signature': signSeed(body, SECRET) },
    payload: body,
  });
  expect(response.statusCode, response.body).toBe(200);
  if (!tokens.has(tenant)) tokens.set(tenant, (await t.createKey(response.json().tenantId, ['read'])).token);
  return tokens.get(tenant)!;
}

function read(token: string, query = '') {
  return t.app.inject({ method: 'GET', url: `/api/synced/work_orders${query}`, headers: bearer(token) });
}

beforeAll(async () => {
  t = await createTestApp();
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/admin/sources',
    headers: bearer(t.adminToken),
    payload: { name: 'optiqo', secret: SECRET },
  });
  expect(created.statusCode, created.body).toBe(201);
});
afterAll(() => t.close());

describe('timestamps', () => {
  it('only values PostgreSQL reads type a column as timestamptz; the others leave it text, and readable', async () => {
    const token = await push('offsets', {
      id: 'o1',
      at: '2024-06-01T10:00:00+15:59',
      far: '2024-06-01T10:00:00+16:00',
    });
    await push('offsets', { id: 'o2', at: '2024-06-01T10:00:00-1559', odd: '2024-06-01T10:00:00+05:99' });
    const response = await read(token, '?sort=at');
    expect(response.statusCode, response.body).toBe(200);
    const types = response.json().columns.map((c: { name: string; type: string }) => [c.name, c.type]);
    expect(Object.fromEntries(types)).toEqual({ id: 'text', at: 'timestamptz', far: 'text', odd: 'text' });
    expect(response.json().data.map((r: { id: string }) => r.id)).toEqual(['o1', 'o2']);
    expect(response.json().data[0].far).toBe('2024-06-01T10:00:00+16:00');
    expect(response.json().data[1].odd).toBe('2024-06-01T10:00:00+05:99');
  });
});
