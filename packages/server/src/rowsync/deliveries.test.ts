// Which deliveries count as the same one (signed ids, or signed bodies), and which key each
// signature scheme takes from a `whsec_` secret.
import { createHmac } from 'node:crypto';
import type { WebhookResult } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { rowChange } from '../testing/rowsync.ts';
import { signSeed, signStandard } from './signature.ts';

let t: TestApp;
let read: string;
const SECRET = 'deliveries-secret-0123456789abcdef';
// A Standard Webhooks secret: `whsec_` and base64 key material.
const KEY = Buffer.from('standard-webhooks-key-material-0123');
const WHSEC = `whsec_${KEY.toString('base64')}`;

type Response = Awaited<ReturnType<TestApp['app']['inject']>>;

function post(body: string, headers: Record<string, string>): Promise<Response> {
  return t.app.inject({
    method: 'POST',
    url: '/api/webhooks/optiqo',
    headers: { 'content-type': 'application/json', ...headers },
    payload: body,
  });
}

async function result(response: Response): Promise<WebhookResult['result']> {
  expect(response.statusCode, response.body).toBe(200);
  return response.json().result;
}

const seed = (body: string, extra: Record<string, string> = {}) => ({
  'x-webhook-signature': `sha256=${signSeed(body, SECRET)}`,
  ...extra,
});
const change = (type: string, record: Record<string, unknown>) =>
  JSON.stringify(rowChange(type, 'adhoc_work_orders', 'acme', record));

async function row(id: string, table = 'work_orders'): Promise<Record<string, unknown> | undefined> {
  const response = await t.app.inject({
    method: 'GET',
    url: `/api/synced/${table}?limit=200`,
    headers: bearer(read),
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().data.find((r: { id: string }) => r.id === id);
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
  const first = change('INSERT', { id: 'first' });
  const tenantId = (await post(first, seed(first))).json().tenantId;
  read = (await t.createKey(tenantId, ['read'])).token;
});
afterAll(() => t.close());

describe('x-webhook-signature deliveries', () => {
  it('ignore an unsigned webhook-id: a captured body replayed under a fresh id is a duplicate', async () => {
    const open = change('INSERT', { id: 'r1', status: 'open' });
    expect(await result(await post(open, seed(open, { 'webhook-id': 'fresh-1' })))).toBe('applied');
    const done = change('UPDATE', { id: 'r1', status: 'done' });
    expect(await result(await post(done, seed(done)))).toBe('applied');
    // The attacker has the first body and its signature; the id beside them is theirs to choose.
    expect(await result(await post(open, seed(open, { 'webhook-id': 'fresh-2' })))).toBe('duplicate');
    expect((await row('r1'))!.status).toBe('done');
  });

  it('cannot pre-claim the id of a genuine Standard Webhooks delivery', async () => {
    const captured = change('INSERT', { id: 'r2' });
    expect(await result(await post(captured, seed(captured)))).toBe('applied');
    await post(captured, seed(captured, { 'webhook-id': 'msg_genuine' }));
    const genuine = change('INSERT', { id: 'r3', title: 'genuine' });
    const headers = signStandard(genuine, SECRET, 'msg_genuine');
    expect(await result(await post(genuine, headers))).toBe('applied');
    expect((await row('r3'))!.title).toBe('genuine');
    // Its own redelivery is still a duplicate: that id is signed.
    expect(await result(await post(genuine, headers))).toBe('duplicate');
  });

  it('are the same delivery when their bodies are: a repeated body, and a repeated full-sync batch', async () => {
    const body = change('INSERT', { id: 'r4' });
    expect(await result(await post(body, seed(body)))).toBe('applied');
    expect(await result(await post(body, seed(body)))).toBe('duplicate');

    // A replayed unstaged first batch would clear the table again: it must not.
    const batch = JSON.stringify({
      type: 'FULL_SYNC',
      table: 'zone_categories',
      tenant_id: 'acme',
      sync_id: 'nightly-1',
      offset: 0,
      records: [{ id: 'z1' }, { id: 'z2' }],
    });
    expect(await result(await post(batch, seed(batch)))).toBe('applied');
    const live = JSON.stringify(rowChange('INSERT', 'zone_categories', 'acme', { id: 'z-live' }));
    expect(await result(await post(live, seed(live)))).toBe('applied');
    expect(await result(await post(batch, seed(batch)))).toBe('duplicate');
    expect(await row('z-live', 'zones')).toBeDefined();

    // A staged batch repeated is acknowledged and counted once.
    const staged = (offset: number, records: object[]) =>
      JSON.stringify({
        type: 'FULL_SYNC',
        table: 'zone_categories',
        tenant_id: 'acme',
        sync_id: 'staged-1',
        offset,
        records,
        total: 2,
      });
    const part = staged(0, [{ id: 's1' }]);
    expect(await result(await post(part, seed(part)))).toBe('staged');
    expect(await result(await post(part, seed(part)))).toBe('duplicate');
    const rest = staged(1, [{ id: 's2' }]);
    const completed = await post(rest, seed(rest));
    expect(await result(completed)).toBe('applied');
    expect(completed.json().fullSync).toMatchObject({ received: 2, complete: true });

    // Bodies that differ are different deliveries, whatever they change.
    const again = change('UPDATE', { id: 'r4', updated_at: '2024-06-01T10:00:00Z' });
    expect(await result(await post(again, seed(again)))).toBe('applied');
  });

  it('Standard Webhooks: the same body under another signed id applies', async () => {
    const body = change('UPDATE', { id: 'r5', title: 'same bytes' });
    expect(await result(await post(body, signStandard(body, SECRET, 'msg_a')))).toBe('applied');
    expect(await result(await post(body, signStandard(body, SECRET, 'msg_b')))).toBe('applied');
    expect(await result(await post(body, signStandard(body, SECRET, 'msg_a')))).toBe('duplicate');
  });
});

describe('a whsec_ secret', () => {
  it('signs x-webhook-signature as written, and Standard Webhooks with its base64-decoded key', async () => {
    // The source's second secret: requests signed with either are accepted.
    const added = await t.app.inject({
      method: 'POST',
      url: '/api/admin/sources/optiqo/secrets',
      headers: bearer(t.adminToken),
      payload: { secret: WHSEC },
    });
    expect(added.statusCode, added.body).toBe(200);
    const body = change('INSERT', { id: 'w1' });
    const asWritten = createHmac('sha256', WHSEC).update(body).digest('hex');
    expect((await post(body, { 'x-webhook-signature': asWritten })).statusCode).toBe(200);
    const other = change('INSERT', { id: 'w2' });
    const decoded = createHmac('sha256', KEY).update(other).digest('hex');
    expect((await post(other, { 'x-webhook-signature': decoded })).statusCode).toBe(401);

    const id = 'msg_whsec';
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = createHmac('sha256', KEY).update(`${id}.${timestamp}.${other}`).digest('base64');
    const standard = {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': `v1,${signature}`,
    };
    expect((await post(other, standard)).statusCode).toBe(200);
    expect(signStandard(other, WHSEC, id, timestamp)).toEqual(standard);
    expect(signSeed(body, WHSEC)).toBe(asWritten);
  });
});
