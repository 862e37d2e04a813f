import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { type Db, migrate } from '../db/index.ts';
import { initialise } from '../installation/index.ts';
import { createApiKey } from '../keys/index.ts';
import { bearer, createTestDatabase, TEST_ADMIN } from '../testing/harness.ts';
import { ingest, message, newPhone } from '../testing/ingest.ts';
import { insertTenant } from '../tenants/index.ts';
import { NEXT_CURSOR_HEADER } from './routes.ts';

const database = await createTestDatabase();
afterAll(() => database.drop());

const config = loadConfig({ DATA_DIR: path.join(tmpdir(), 'unused'), LOG_LEVEL: 'silent' });

/** What `syncdeck start` does with an existing database: migrate, then build the app. */
async function start(): Promise<{ app: FastifyInstance; db: Db }> {
  const db = await database.open();
  await migrate(db);
  const app = await buildApp({ config, db });
  await app.ready();
  return { app, db };
}

describe("the seed's scenario: load through ingest, restart, everything is still served", () => {
  it('serves every read route identically after the app and database are closed and reopened', async () => {
    let { app, db } = await start();
    await initialise(db, TEST_ADMIN);
    const tenant = await insertTenant(db, { slug: 'restart', name: 'Restart' });
    const ingestKey = (await createApiKey(db, { tenantId: tenant.id, name: 'bot', scopes: ['ingest'] }))
      .token;
    const readKey = (await createApiKey(db, { tenantId: tenant.id, name: 'dashboard', scopes: ['read'] }))
      .token;

    const phones = [newPhone(), newPhone(), newPhone()];
    await ingest({ app }, ingestKey, [
      ...phones.flatMap((phone, i) => [
        message(phone, `hello ${i}`, `2026-01-0${i + 1}T10:00:00.000Z`, { name: `Customer ${i}` }),
        message(phone, `answer ${i}`, `2026-01-0${i + 1}T10:00:01.000Z`, { direction: 'OUT' }),
      ]),
      {
        event: 'order.created',
        data: { customer_identifier: { whatsapp_phone: phones[0] }, syrve_order_id: 'r-1', total: 12 },
      },
      { event: 'order.status', data: { syrve_order_id: 'r-1', status: 'delivering' } },
      {
        event: 'escalation.created',
        data: { customer_identifier: { whatsapp_phone: phones[1] }, reason: 'help' },
      },
      {
        event: 'conversation.closed',
        data: {
          customer_identifier: { whatsapp_phone: phones[2] },
          bot: { whatsapp_number: '+966508034010' },
        },
      },
    ]);

    const read = async (url: string) => {
      const response = await app.inject({
        method: 'GET',
        url,
        headers: { ...bearer(readKey), 'x-restaurant-id': tenant.id },
      });
      expect(response.statusCode, `${url}: ${response.body}`).toBe(200);
      return { body: response.json(), next: response.headers[NEXT_CURSOR_HEADER] ?? null };
    };
    const snapshot = async () => {
      const conversations = await read('/api/db/conversations');
      const first = conversations.body[0];
      const customers = await read('/api/customers');
      const orders = await read('/api/orders');
      const escalations = await read('/api/escalations');
      return {
        conversations,
        page: await read('/api/db/conversations?limit=1'),
        active: await read('/api/db/conversations?status=active'),
        search: await read('/api/db/conversations?q=answer%201'),
        stats: await read('/api/db/conversations/stats'),
        conversation: await read(`/api/db/conversations/${first.id}`),
        messages: await read(`/api/db/conversations/${first.id}/messages`),
        customers,
        profiles: await Promise.all(
          customers.body.data.map((c: { id: string }) => read(`/api/customers/${c.id}`)),
        ),
        orders,
        order: await read(`/api/orders/${orders.body.data[0].id}`),
        escalations,
        escalation: await read(`/api/escalations/${escalations.body.data[0].id}`),
      };
    };

    const before = await snapshot();
    expect(before.conversations.body).toHaveLength(3);
    expect(before.stats.body).toEqual({ totalConversations: 3, activeConversations: 2, totalUnread: 3 });
    expect(before.messages.body.map((m: { content: string }) => m.content)).toEqual(['hello 2', 'answer 2']);
    expect(before.page.next).not.toBeNull();

    await app.close();
    await db.close();
    ({ app, db } = await start());
    try {
      expect(await snapshot()).toEqual(before);
      // The cursor handed out before the restart still leads to the next page.
      const next = await read(`/api/db/conversations?limit=1&cursor=${before.page.next}`);
      expect(next.body).toEqual([before.conversations.body[1]]);
    } finally {
      await app.close();
      await db.close();
    }
  });
});
