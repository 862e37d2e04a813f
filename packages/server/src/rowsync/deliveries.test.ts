// Which key each signature scheme takes from a `whsec_` secret.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { rowChange } from '../testing/rowsync.ts';
import { signSeed, signStandard } from './signature.ts';

let t: TestApp;
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

const change = (type: string, record: Record<string, unknown>) =>
  JSON.stringify(rowChange(type, 'adhoc_work_orders', 'acme', record));

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
