import type { Message, Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { BOT_NUMBER, newPhone } from '../testing/ingest.ts';

/* Who wrote a message: the customer, the bot, or a named person answering through the bot. */

let t: TestApp;
let tenant: Tenant;
let ingestKey: string;
let readKey: string;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant('authors');
  ingestKey = (await t.createKey(tenant.id, ['ingest'])).token;
  readKey = (await t.createKey(tenant.id, ['read'])).token;
});
afterAll(() => t.close());

function post(payload: unknown) {
  return t.app.inject({
    method: 'POST',
    url: '/functions/v1/sync',
    headers: bearer(ingestKey),
    payload: payload as object,
  });
}

function messageData(phone: string, extra: Record<string, unknown> = {}) {
  return {
    customer_identifier: { whatsapp_phone: phone },
    bot: { whatsapp_number: BOT_NUMBER },
    direction: 'OUT',
    content: 'hello',
    ...extra,
  };
}

/** The customer's conversation's messages, as the read API answers them. */
async function transcript(phone: string): Promise<Message[]> {
  const list = await t.app.inject({
    method: 'GET',
    url: `/api/db/conversations?q=${encodeURIComponent(phone)}`,
    headers: bearer(readKey),
  });
  const [conversation] = list.json() as { id: string }[];
  const messages = await t.app.inject({
    method: 'GET',
    url: `/api/db/conversations/${conversation!.id}/messages`,
    headers: bearer(readKey),
  });
  expect(messages.statusCode).toBe(200);
  return messages.json();
}

/** The feed's message.created payloads for these message ids, as realtime frames carry them. */
async function feedMessages(ids: string[]): Promise<Message[]> {
  const result = await t.db.query<{ payload: string }>(
    `SELECT payload FROM events WHERE tenant_id = $1 AND type = 'message.created' AND entity_id = ANY($2::uuid[])
     ORDER BY seq`,
    [tenant.id, ids],
  );
  return result.rows.map((row) => JSON.parse(row.payload));
}

const authorOf = (m: Message) => [m.content, m.authorType, m.authorName];

describe('message.created authors', () => {
  it('says who wrote each message, in the read API and the feed, batch or one by one alike', async () => {
    const phone = newPhone();
    const events = [
      // Seed 000's shape, nulls for what the bot does not know: unchanged.
      messageData(phone, { direction: 'IN', content: 'hi', sender: null, metadata: null }),
      messageData(phone, { content: 'bot answer', sender: null }),
      messageData(phone, { content: 'seed operator', metadata: { operator_name: ' Omar ' } }),
      messageData(phone, { content: 'named agent', sender: { type: 'agent', name: 'Sara' } }),
      messageData(phone, { content: 'named bot', sender: { type: 'bot', name: 'Sufrah Bot' } }),
      // sender says more than the seed's habit, and wins.
      messageData(phone, {
        content: 'sender wins',
        sender: { type: 'bot', name: null },
        metadata: { operator_name: 'Omar' },
      }),
      messageData(phone, { content: 'blank operator', metadata: { operator_name: '  ' } }),
      messageData(phone, {
        direction: 'IN',
        content: 'customer named',
        sender: { type: 'customer', name: 'Ahmed' },
      }),
    ];
    // A second apart each, so the transcript's order is the list's.
    const [first, ...rest] = events.map((data, i) => ({
      event: 'message.created',
      occurred_at: new Date(Date.UTC(2026, 2, 1, 10, 0, i)).toISOString(),
      data,
    }));
    expect((await post(first)).statusCode).toBe(200);
    const batch = await post({ events: rest });
    expect(batch.json()).toMatchObject({ accepted: rest.length, rejected: 0 });

    const expected = [
      ['hi', 'customer', null],
      ['bot answer', 'bot', null],
      ['seed operator', 'agent', 'Omar'],
      ['named agent', 'agent', 'Sara'],
      ['named bot', 'bot', 'Sufrah Bot'],
      ['sender wins', 'bot', null],
      ['blank operator', 'bot', null],
      ['customer named', 'customer', 'Ahmed'],
    ];
    const read = await transcript(phone);
    expect(read.map(authorOf)).toEqual(expected);
    const fed = await feedMessages(read.map((m) => m.id));
    expect(fed.map(authorOf)).toEqual(expected);
    // The feed's object and the read API's are one shape.
    expect(fed).toEqual(read);
  });

  it('reads a message stored before authors were by its direction', async () => {
    const phone = newPhone();
    for (const direction of ['IN', 'OUT']) {
      expect(
        (await post({ event: 'message.created', data: messageData(phone, { direction }) })).statusCode,
      ).toBe(200);
    }
    await t.db.query(
      `UPDATE messages SET author_type = NULL, author_name = NULL
       WHERE tenant_id = $1 AND conversation_id IN (
         SELECT c.id FROM conversations c JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id
         WHERE cu.whatsapp_phone = $2)`,
      [tenant.id, phone],
    );
    expect((await transcript(phone)).map((m) => [m.direction, m.authorType, m.authorName])).toEqual([
      ['IN', 'customer', null],
      ['OUT', 'bot', null],
    ]);
  });

  it('refuses a sender that is not one, with its path, storing nothing', async () => {
    const phone = newPhone();
    const cases: [Record<string, unknown>, string][] = [
      [{ sender: { type: 'robot' } }, 'data.sender.type'],
      [{ sender: 'agent' }, 'data.sender'],
      [{ sender: { type: 'agent', name: '' } }, 'data.sender.name'],
      [{ sender: { type: 'agent', name: 'Sa\u0000ra' } }, 'data.sender.name'],
      [{ sender: { type: 'agent', name: 'n'.repeat(201) } }, 'data.sender.name'],
      [{ sender: { type: 'customer' } }, 'data.sender.type'],
      [{ direction: 'IN', sender: { type: 'agent', name: 'Sara' } }, 'data.sender.type'],
    ];
    for (const [extra, path] of cases) {
      const response = await post({ event: 'message.created', data: messageData(phone, extra) });
      expect(response.statusCode, JSON.stringify(extra)).toBe(400);
      expect(
        response.json().error.details.map((d: { path: string }) => d.path),
        JSON.stringify(extra),
      ).toContain(path);
    }
    const stored = await t.db.query(`SELECT 1 FROM customers WHERE tenant_id = $1 AND whatsapp_phone = $2`, [
      tenant.id,
      phone,
    ]);
    expect(stored.rowCount).toBe(0);
  });
});
