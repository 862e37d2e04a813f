import { describe, expect, it } from 'vitest';
import { spawnedServerPerTest } from '../testing/harness.ts';
import { adminKeyOf } from '../testing/process.ts';

const spawned = spawnedServerPerTest();

async function call(
  method: string,
  url: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(spawned.server.url + url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...headers,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return {
    status: response.status,
    etag: response.headers.get('etag'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

describe('the bot’s memory across a restart (the seed’s test 2)', () => {
  it('keeps the cart a customer built when the server is killed and started again', async () => {
    await spawned.start();
    const adminKey = adminKeyOf(spawned.server);
    expect((await call('POST', '/api/admin/tenants', adminKey, { slug: 'sufrah' })).status).toBe(201);
    const tenant = { 'x-tenant-id': 'sufrah' };
    const bot = await call(
      'POST',
      '/api/admin/bots',
      adminKey,
      {
        name: 'Sufrah Bot',
        restaurantName: 'Sufrah',
        whatsappNumber: 'whatsapp:+966508034010',
        accountSid: 'AC...',
        authToken: '...',
      },
      tenant,
    );
    expect(bot.status).toBe(201);
    const ingestKey = (await call('POST', '/api/admin/keys', adminKey, { scopes: ['ingest'] }, tenant)).body
      .token as string;
    const session = `/api/bot-sessions/${bot.body.id}/${encodeURIComponent('whatsapp:+966501234567')}`;

    // The customer says hello: a new conversation, no memory yet; the bot shows the menu.
    expect((await call('GET', session, ingestKey)).status).toBe(404);
    const menu = await call(
      'PUT',
      session,
      ingestKey,
      { state: { step: 'menu', cart: [] } },
      { 'if-none-match': '*' },
    );
    expect(menu.status).toBe(201);
    // The customer adds an item to the cart.
    const added = await call(
      'PUT',
      session,
      ingestKey,
      { state: { step: 'cart', cart: [{ item: 'Chicken Shawarma', qty: 2 }] } },
      { 'if-match': menu.etag! },
    );
    expect(added.status).toBe(200);

    await spawned.stop('SIGKILL');
    await spawned.start();

    // The customer writes again: the bot reads its memory back, cart and all, and carries on.
    const recalled = await call('GET', session, ingestKey);
    expect(recalled.status).toBe(200);
    expect(recalled.body.state).toEqual({ step: 'cart', cart: [{ item: 'Chicken Shawarma', qty: 2 }] });
    expect(recalled.etag).toBe(added.etag);
    const next = await call(
      'PUT',
      session,
      ingestKey,
      { state: { step: 'address', cart: [{ item: 'Chicken Shawarma', qty: 2 }] } },
      { 'if-match': recalled.etag! },
    );
    expect(next.status).toBe(200);
    expect(Number(JSON.parse(next.etag!))).toBeGreaterThan(Number(JSON.parse(added.etag!)));
  });
});
