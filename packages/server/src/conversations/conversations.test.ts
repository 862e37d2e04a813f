import type { Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { BOT_NUMBER, ingest, message, newPhone } from '../testing/ingest.ts';
import { NEXT_CURSOR_HEADER } from './routes.ts';

let t: TestApp;
let tenant: Tenant;
let other: Tenant;
let ingestKey: string;
let readKey: string;
let operateKey: string;
let otherIngestKey: string;
let otherReadKey: string;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant('conv-a');
  other = await t.createTenant('conv-b');
  ingestKey = (await t.createKey(tenant.id, ['ingest'])).token;
  readKey = (await t.createKey(tenant.id, ['read'])).token;
  operateKey = (await t.createKey(tenant.id, ['operate'])).token;
  otherIngestKey = (await t.createKey(other.id, ['ingest'])).token;
  otherReadKey = (await t.createKey(other.id, ['read'])).token;
});
afterAll(() => t.close());

function get(url: string, token = readKey, headers: Record<string, string> = {}) {
  return t.app.inject({ method: 'GET', url, headers: { ...bearer(token), ...headers } });
}

/** Marking read changes state: it takes `operate`. */
function post(url: string, token = operateKey, headers: Record<string, string> = {}) {
  return t.app.inject({ method: 'POST', url, headers: { ...bearer(token), ...headers } });
}

async function conversationIdOf(phone: string, tenantId = tenant.id): Promise<string> {
  const result = await t.db.query<{ id: string }>(
    `SELECT c.id FROM conversations c JOIN customers cu ON cu.tenant_id = c.tenant_id AND cu.id = c.customer_id
     WHERE c.tenant_id = $1 AND cu.whatsapp_phone = $2 ORDER BY c.created_at DESC LIMIT 1`,
    [tenantId, phone],
  );
  return result.rows[0]!.id;
}

/** Every page of a list, following its cursor header; `between` runs after each page. */
async function allPages(url: string, between: (page: number) => Promise<void> = async () => {}) {
  const ids: string[] = [];
  let next: string | undefined;
  for (let page = 0; page < 100; page++) {
    const separator = url.includes('?') ? '&' : '?';
    const response = await get(next ? `${url}${separator}cursor=${next}` : url);
    expect(response.statusCode, response.body).toBe(200);
    ids.push(...response.json().map((row: { id: string }) => row.id));
    next = response.headers[NEXT_CURSOR_HEADER] as string | undefined;
    if (!next) return ids;
    await between(page);
  }
  throw new Error('the list never ended');
}

const SEED_CONVERSATION_FIELDS = [
  'id',
  'restaurantId',
  'customerPhone',
  'customerName',
  'status',
  'lastMessageAt',
  'unreadCount',
  'isBotActive',
  'createdAt',
  'updatedAt',
];
const SEED_MESSAGE_FIELDS = [
  'id',
  'conversationId',
  'restaurantId',
  'direction',
  'messageType',
  'content',
  'mediaUrl',
  'waSid',
  'createdAt',
  'metadata',
];
/** Beyond the seed: who wrote the message (customer, bot or a named agent). */
const MESSAGE_FIELDS = [...SEED_MESSAGE_FIELDS, 'authorType', 'authorName'];

describe('the seed routes and shapes', () => {
  let phone: string;
  let conversationId: string;

  beforeAll(async () => {
    phone = newPhone();
    await ingest(t, ingestKey, [
      message(phone, 'مرحبا، أريد طلب طعام', '2025-10-16T10:30:00.000Z', {
        name: 'Ahmed Ali',
        waSid: 'WAxxxx',
      }),
      message(phone, 'مرحباً! كيف يمكنني مساعدتك؟', '2025-10-16T10:30:05.000Z', {
        direction: 'OUT',
        waSid: 'WAyyyy',
      }),
    ]);
    conversationId = await conversationIdOf(phone);
  });

  it('lists conversations as a bare array with the seed fields', async () => {
    const response = await get('/api/db/conversations?status=active&limit=20');
    expect(response.statusCode).toBe(200);
    const list = response.json();
    expect(Array.isArray(list)).toBe(true);
    const row = list.find((c: { id: string }) => c.id === conversationId);
    expect(Object.keys(row)).toEqual(expect.arrayContaining(SEED_CONVERSATION_FIELDS));
    expect(row).toMatchObject({
      id: conversationId,
      restaurantId: tenant.id,
      customerPhone: `whatsapp:${phone}`,
      customerName: 'Ahmed Ali',
      status: 'active',
      lastMessageAt: '2025-10-16T10:30:05.000Z',
      unreadCount: 1,
      isBotActive: true,
    });
    expect(Date.parse(row.createdAt)).not.toBeNaN();
    expect(Date.parse(row.updatedAt)).not.toBeNaN();
  });

  it('serves one conversation with the same object the list has', async () => {
    const one = await get(`/api/db/conversations/${conversationId}`);
    expect(one.statusCode).toBe(200);
    const fromList = (await get('/api/db/conversations?limit=200'))
      .json()
      .find((c: { id: string }) => c.id === conversationId);
    expect(one.json()).toEqual(fromList);
  });

  it('lists messages oldest first with exactly the seed fields', async () => {
    const response = await get(`/api/db/conversations/${conversationId}/messages`);
    expect(response.statusCode).toBe(200);
    const messages = response.json();
    expect(messages).toHaveLength(2);
    expect(Object.keys(messages[0]).sort()).toEqual([...MESSAGE_FIELDS].sort());
    expect(messages[0]).toMatchObject({
      conversationId,
      restaurantId: tenant.id,
      direction: 'IN',
      messageType: 'text',
      content: 'مرحبا، أريد طلب طعام',
      mediaUrl: null,
      waSid: 'WAxxxx',
      createdAt: '2025-10-16T10:30:00.000Z',
      metadata: { fromPhone: `whatsapp:${phone}`, toPhone: BOT_NUMBER },
      authorType: 'customer',
      authorName: null,
    });
    expect(messages[1]).toMatchObject({ direction: 'OUT', waSid: 'WAyyyy', authorType: 'bot' });
    expect(response.headers[NEXT_CURSOR_HEADER]).toBeUndefined();
  });

  it('writes list objects exactly as the single route and the change feed do', async () => {
    // A closed conversation, a customer known only by Telegram (no phone), a media message.
    const closedPhone = newPhone();
    await ingest(t, ingestKey, [
      message(closedPhone, 'see photo', '2025-10-16T11:00:00.123Z'),
      {
        event: 'message.created',
        occurred_at: '2025-10-16T11:00:01.999Z',
        data: {
          customer_identifier: { telegram_chat_id: `tg-${closedPhone}` },
          bot: { whatsapp_number: BOT_NUMBER },
          direction: 'IN',
          message_type: 'image',
          content: '',
          media_url: 'https://example.com/a.jpg',
        },
      },
      {
        event: 'conversation.closed',
        occurred_at: '2025-10-16T11:05:00.000Z',
        data: { customer_identifier: { whatsapp_phone: closedPhone }, bot: { whatsapp_number: BOT_NUMBER } },
      },
    ]);
    const list = (await get('/api/db/conversations?limit=200')).json() as {
      id: string;
      closedAt: string | null;
    }[];
    expect(list.some((c) => c.closedAt !== null)).toBe(true);
    for (const conversation of list) {
      expect((await get(`/api/db/conversations/${conversation.id}`)).json()).toEqual(conversation);
    }
    for (const conversation of list) {
      const messages = (await get(`/api/db/conversations/${conversation.id}/messages`)).json() as {
        id: string;
      }[];
      const fed = await t.db.query<{ payload: unknown }>(
        `SELECT payload::json AS payload FROM events WHERE tenant_id = $1 AND type = 'message.created' AND entity_id = ANY($2::uuid[])
         ORDER BY seq`,
        [tenant.id, messages.map((m) => m.id)],
      );
      expect(fed.rows.map((row) => row.payload)).toEqual(messages);
    }
  });

  it('answers stats with exactly the seed fields', async () => {
    const response = await get('/api/db/conversations/stats');
    expect(response.statusCode).toBe(200);
    expect(Object.keys(response.json()).sort()).toEqual([
      'activeConversations',
      'totalConversations',
      'totalUnread',
    ]);
  });

  it("accepts the seed's X-Restaurant-Id header, with a platform key choosing the tenant", async () => {
    const response = await get('/api/db/conversations/stats', t.adminToken, {
      'x-restaurant-id': tenant.slug,
    });
    expect(response.statusCode).toBe(200);
    const own = await get('/api/db/conversations/stats', readKey, { 'x-restaurant-id': tenant.id });
    expect(own.json()).toEqual(response.json());
  });
});

describe('GET /api/db/conversations', () => {
  const phones: string[] = [];

  beforeAll(async () => {
    // Nine conversations; three share one last-message time, so the id breaks the tie.
    const events: object[] = [];
    for (let i = 0; i < 9; i++) {
      const phone = newPhone();
      phones.push(phone);
      const minute = i < 3 ? 0 : i;
      events.push(
        message(phone, `order number ${i}`, `2026-02-01T10:${String(minute).padStart(2, '0')}:00.000Z`, {
          name: `Pager ${i}`,
        }),
      );
    }
    await ingest(t, ingestKey, events);
  });

  it('orders by last activity, newest first, then by id', async () => {
    const list = (await get('/api/db/conversations?limit=200')).json() as {
      id: string;
      lastMessageAt: string;
    }[];
    for (let i = 1; i < list.length; i++) {
      const [a, b] = [list[i - 1]!, list[i]!];
      expect(a.lastMessageAt >= b.lastMessageAt).toBe(true);
      if (a.lastMessageAt === b.lastMessageAt) expect(a.id > b.id).toBe(true);
    }
  });

  it('pages by cursor with no duplicates and no gaps while new conversations arrive', async () => {
    const before = (await get('/api/db/conversations?limit=200')).json().map((c: { id: string }) => c.id);
    const arrivals: string[] = [];
    const seen = await allPages('/api/db/conversations?limit=2', async (page) => {
      const phone = newPhone();
      arrivals.push(phone);
      // Newer than everything: it lands on the first page, which this reader has passed.
      await ingest(t, ingestKey, [message(phone, 'late arrival', `2026-03-0${page + 1}T00:00:00.000Z`)]);
    });
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(before);
    expect(arrivals.length).toBeGreaterThan(3);
  });

  it('pages by cursor from a deep position exactly as one long page', async () => {
    const all = (await get('/api/db/conversations?limit=200')).json().map((c: { id: string }) => c.id);
    const paged = await allPages('/api/db/conversations?limit=3');
    expect(paged).toEqual(all);
  });

  it("pages by the seed's offset too", async () => {
    const all = (await get('/api/db/conversations?limit=200')).json().map((c: { id: string }) => c.id);
    const second = (await get('/api/db/conversations?limit=2&offset=2'))
      .json()
      .map((c: { id: string }) => c.id);
    expect(second).toEqual(all.slice(2, 4));
  });

  it('filters by status and by bot', async () => {
    const phone = newPhone();
    const otherBot = 'whatsapp:+966508034999';
    await ingest(t, ingestKey, [
      message(phone, 'via the second bot', '2026-02-02T00:00:00.000Z', { bot: otherBot }),
      {
        event: 'conversation.closed',
        data: { customer_identifier: { whatsapp_phone: phone }, bot: { whatsapp_number: otherBot } },
      },
    ]);
    const closedId = await conversationIdOf(phone);
    const closed = (await get('/api/db/conversations?status=closed&limit=200')).json();
    expect(closed.map((c: { id: string }) => c.id)).toContain(closedId);
    expect(closed.every((c: { status: string }) => c.status === 'closed')).toBe(true);
    const active = (await get('/api/db/conversations?status=active&limit=200')).json();
    expect(active.map((c: { id: string }) => c.id)).not.toContain(closedId);
    expect(active.every((c: { status: string }) => c.status === 'active')).toBe(true);

    const botId = (await get(`/api/db/conversations/${closedId}`)).json().botId;
    const byBot = (await get(`/api/db/conversations?botId=${botId}&limit=200`)).json();
    expect(byBot.map((c: { id: string }) => c.id)).toEqual([closedId]);
  });

  it('searches customer names, phones in any spelling, and message text', async () => {
    const phone = newPhone();
    await ingest(t, ingestKey, [
      message(phone, 'Where is my shawarma? 100% late', '2026-02-03T00:00:00.000Z', {
        name: 'Fatimah Zahra',
      }),
    ]);
    const id = await conversationIdOf(phone);
    const ids = async (q: string) =>
      (await get(`/api/db/conversations?limit=200&q=${encodeURIComponent(q)}`))
        .json()
        .map((c: { id: string }) => c.id);
    expect(await ids('fatimah')).toEqual([id]);
    expect(await ids('SHAWARMA')).toEqual([id]);
    expect(await ids(phone)).toEqual([id]);
    expect(await ids(`0${phone.slice(4)}`)).toEqual([id]); // 05XXXXXXXX, the local spelling
    expect(await ids('100%')).toEqual([id]);
    // A LIKE wildcard is searched for literally.
    expect(await ids('%')).toEqual([id]);
    expect(await ids('no such words anywhere')).toEqual([]);
  });

  it('answers 400 with the field path for bad parameters', async () => {
    const cases: [string, string][] = [
      ['limit=0', 'query.limit'],
      ['limit=201', 'query.limit'],
      ['limit=ten', 'query.limit'],
      ['offset=-1', 'query.offset'],
      ['status=archived', 'query.status'],
      ['botId=bot_001', 'query.botId'],
      ['cursor=not-a-cursor', 'query.cursor'],
      [`cursor=${Buffer.from('[1,"x"]').toString('base64url')}`, 'query.cursor'],
      ['cursor=abc&offset=2', 'query.offset'],
    ];
    for (const [query, path] of cases) {
      const response = await get(`/api/db/conversations?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(
        response.json().error.details.map((d: { path: string }) => d.path),
        query,
      ).toContain(path);
    }
    const badId = await get('/api/db/conversations/clxxx123');
    expect(badId.statusCode).toBe(400);
    expect(badId.json().error.details[0].path).toBe('params.id');
  });
});

describe('GET /api/db/conversations/:id/messages', () => {
  let conversationId: string;
  let phone: string;

  beforeAll(async () => {
    phone = newPhone();
    const events: object[] = [];
    for (let i = 0; i < 10; i++) {
      // Pairs share a millisecond: the id orders them.
      events.push(message(phone, `m${i}`, `2026-04-01T00:00:0${Math.floor(i / 2)}.000Z`));
    }
    await ingest(t, ingestKey, events);
    conversationId = await conversationIdOf(phone);
  });

  async function messagePages(first: string, param: 'after' | 'before', between = async () => {}) {
    const contents: string[] = [];
    let url = first;
    for (let i = 0; i < 50; i++) {
      const response = await get(url);
      expect(response.statusCode, response.body).toBe(200);
      contents.push(...response.json().map((m: { content: string }) => m.content));
      const next = response.headers[NEXT_CURSOR_HEADER];
      if (!next) return contents;
      await between();
      url = `/api/db/conversations/${conversationId}/messages?limit=3&${param}=${next}`;
    }
    throw new Error('never ended');
  }

  it('pages forward with after, in time order, including messages that arrive meanwhile', async () => {
    const all = (await get(`/api/db/conversations/${conversationId}/messages?limit=200`))
      .json()
      .map((m: { content: string }) => m.content);
    let added = 0;
    const seen = await messagePages(
      `/api/db/conversations/${conversationId}/messages?limit=3`,
      'after',
      async () => {
        added += 1;
        await ingest(t, ingestKey, [message(phone, `new${added}`, `2026-04-02T00:00:0${added}.000Z`)]);
      },
    );
    expect(added).toBeGreaterThan(2);
    expect(seen).toEqual([...all, ...Array.from({ length: added }, (_, i) => `new${i + 1}`)]);
  });

  it('pages back from the newest with latest and before; each page in time order', async () => {
    const all = (await get(`/api/db/conversations/${conversationId}/messages?limit=200`))
      .json()
      .map((m: { content: string }) => m.content);
    const first = await get(`/api/db/conversations/${conversationId}/messages?limit=3&latest=true`);
    expect(first.json().map((m: { content: string }) => m.content)).toEqual(all.slice(-3));
    const pages: string[][] = [];
    let url = `/api/db/conversations/${conversationId}/messages?limit=3&latest=true`;
    for (;;) {
      const response = await get(url);
      pages.push(response.json().map((m: { content: string }) => m.content));
      const next = response.headers[NEXT_CURSOR_HEADER];
      if (!next) break;
      // A message arriving while the reader scrolls back does not disturb the older pages.
      await ingest(t, ingestKey, [
        message(phone, `later${pages.length}`, `2026-05-01T00:00:0${pages.length}.000Z`),
      ]);
      url = `/api/db/conversations/${conversationId}/messages?limit=3&before=${next}`;
    }
    expect(pages.reverse().flat()).toEqual(all);
  });

  it('pages with the seed offset and limit', async () => {
    const all = (await get(`/api/db/conversations/${conversationId}/messages?limit=200`))
      .json()
      .map((m: { id: string }) => m.id);
    const page = await get(`/api/db/conversations/${conversationId}/messages?limit=4&offset=3`);
    expect(page.json().map((m: { id: string }) => m.id)).toEqual(all.slice(3, 7));
  });

  it('answers 400 for bad parameters with their paths', async () => {
    const base = `/api/db/conversations/${conversationId}/messages`;
    const cursor = Buffer.from(JSON.stringify([1, conversationId])).toString('base64url');
    const cases: [string, string][] = [
      ['limit=0', 'query.limit'],
      ['limit=1000', 'query.limit'],
      ['after=garbage', 'query.after'],
      ['before=garbage', 'query.before'],
      [`after=${cursor}&before=${cursor}`, 'query.before'],
      [`latest=true&before=${cursor}`, 'query.latest'],
      [`offset=2&after=${cursor}`, 'query.offset'],
      ['latest=yes', 'query.latest'],
    ];
    for (const [query, path] of cases) {
      const response = await get(`${base}?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(
        response.json().error.details.map((d: { path: string }) => d.path),
        query,
      ).toContain(path);
    }
  });
});

describe('tenancy and credentials', () => {
  let otherConversation: string;

  beforeAll(async () => {
    const phone = newPhone();
    await ingest(t, otherIngestKey, [message(phone, 'other tenant', '2026-01-01T00:00:00.000Z')]);
    otherConversation = await conversationIdOf(phone, other.id);
  });

  it("answers 404 for another tenant's conversation on every :id route", async () => {
    for (const url of [
      `/api/db/conversations/${otherConversation}`,
      `/api/db/conversations/${otherConversation}/messages`,
    ]) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(404);
      expect(response.json().error.code).toBe('not_found');
      expect((await get(url, otherReadKey)).statusCode, url).toBe(200);
    }
    const read = await post(`/api/db/conversations/${otherConversation}/read`);
    expect(read.statusCode).toBe(404);
    const unread = await t.db.query<{ unread_count: number }>(
      'SELECT unread_count FROM conversations WHERE tenant_id = $1 AND id = $2',
      [other.id, otherConversation],
    );
    expect(unread.rows[0]!.unread_count).toBe(1);
  });

  it('lists only the own tenant', async () => {
    const list = (await get('/api/db/conversations?limit=200')).json();
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((c: { restaurantId: string }) => c.restaurantId === tenant.id)).toBe(true);
    const otherList = (await get('/api/db/conversations?limit=200', otherReadKey)).json();
    expect(otherList.map((c: { id: string }) => c.id)).toEqual([otherConversation]);
  });

  it('answers 403 to an ingest key and 401 without a credential, on every route', async () => {
    const id = otherConversation;
    const routes: ['GET' | 'POST', string][] = [
      ['GET', '/api/db/conversations'],
      ['GET', '/api/db/conversations/stats'],
      ['GET', `/api/db/conversations/${id}`],
      ['GET', `/api/db/conversations/${id}/messages`],
      ['POST', `/api/db/conversations/${id}/read`],
    ];
    for (const [method, url] of routes) {
      const forbidden = await t.app.inject({ method, url, headers: bearer(otherIngestKey) });
      expect(forbidden.statusCode, url).toBe(403);
      const anonymous = await t.app.inject({ method, url });
      expect(anonymous.statusCode, url).toBe(401);
    }
  });
});

describe('stats and mark-read', () => {
  async function counted(tenantId: string) {
    const result = await t.db.query<{ total: number; active: number; unread: number }>(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'active')::int AS active,
              COALESCE(sum(unread_count), 0)::int AS unread FROM conversations WHERE tenant_id = $1`,
      [tenantId],
    );
    const row = result.rows[0]!;
    return { totalConversations: row.total, activeConversations: row.active, totalUnread: row.unread };
  }

  async function expectStatsMatchCount() {
    for (const [tenantId, key] of [
      [tenant.id, readKey],
      [other.id, otherReadKey],
    ] as const) {
      const stats = (await get('/api/db/conversations/stats', key)).json();
      expect(stats).toEqual(await counted(tenantId));
    }
  }

  it('keeps the counters equal to a COUNT through inserts, closes, reads and escalations', async () => {
    await expectStatsMatchCount();
    const phone = newPhone();
    const before = (await get('/api/db/conversations/stats')).json();
    await ingest(t, ingestKey, [
      message(phone, 'one', '2026-06-01T00:00:00.000Z'),
      message(phone, 'two', '2026-06-01T00:00:01.000Z'),
      message(phone, 'reply', '2026-06-01T00:00:02.000Z', { direction: 'OUT' }),
    ]);
    const afterInsert = (await get('/api/db/conversations/stats')).json();
    expect(afterInsert).toEqual({
      totalConversations: before.totalConversations + 1,
      activeConversations: before.activeConversations + 1,
      totalUnread: before.totalUnread + 2,
    });
    await expectStatsMatchCount();

    await ingest(t, ingestKey, [
      {
        event: 'escalation.created',
        data: { customer_identifier: { whatsapp_phone: phone }, reason: 'angry' },
      },
      { event: 'escalation.resolved', data: { customer_identifier: { whatsapp_phone: phone } } },
    ]);
    await expectStatsMatchCount();

    const id = await conversationIdOf(phone);
    expect((await post(`/api/db/conversations/${id}/read`)).statusCode).toBe(200);
    expect((await get('/api/db/conversations/stats')).json().totalUnread).toBe(before.totalUnread);
    await expectStatsMatchCount();

    await ingest(t, ingestKey, [
      {
        event: 'conversation.closed',
        data: { customer_identifier: { whatsapp_phone: phone }, bot: { whatsapp_number: BOT_NUMBER } },
      },
    ]);
    expect((await get('/api/db/conversations/stats')).json().activeConversations).toBe(
      before.activeConversations,
    );
    await expectStatsMatchCount();

    // A batch touching both tenants' conversations at once.
    await ingest(t, ingestKey, [message(newPhone(), 'x', '2026-06-02T00:00:00.000Z')]);
    await ingest(t, otherIngestKey, [message(newPhone(), 'y', '2026-06-02T00:00:00.000Z')]);
    await expectStatsMatchCount();
  });

  it('refuses a read-only key and a viewer: marking read is an operator act', async () => {
    const phone = newPhone();
    await ingest(t, ingestKey, [message(phone, 'unread', '2026-07-02T00:00:00.000Z')]);
    const id = await conversationIdOf(phone);
    const lastSeq = async () =>
      (await t.db.query<{ seq: number }>('SELECT COALESCE(max(seq), 0)::bigint AS seq FROM events')).rows[0]!
        .seq;
    const sessionAs = async (role: 'viewer' | 'agent') => {
      const email = `${role}-${phone.slice(-6)}@example.com`;
      const password = 'a long enough password';
      const added = await t.app.inject({
        method: 'POST',
        url: '/api/admin/users',
        headers: { ...bearer(t.adminToken), 'x-tenant-id': tenant.slug },
        payload: { email, role, password },
      });
      expect(added.statusCode, added.body).toBe(201);
      const login = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email, password },
        remoteAddress: `10.9.0.${role === 'viewer' ? 1 : 2}`,
      });
      const cookie = login.cookies.find((c) => c.name === 'syncdeck_session')!;
      return { cookie: `syncdeck_session=${cookie.value}`, 'x-tenant-id': tenant.slug };
    };
    const asSession = (headers: Record<string, string>) =>
      t.app.inject({ method: 'POST', url: `/api/db/conversations/${id}/read`, headers });

    const viewer = await sessionAs('viewer');
    const seqBefore = await lastSeq();
    const byReadKey = await post(`/api/db/conversations/${id}/read`, readKey);
    expect(byReadKey.statusCode).toBe(403);
    expect(byReadKey.json().error.code).toBe('forbidden');
    const byViewer = await asSession(viewer);
    expect(byViewer.statusCode).toBe(403);
    expect((await get(`/api/db/conversations/${id}`)).json().unreadCount).toBe(1);
    expect(await lastSeq()).toBe(seqBefore);

    const byAgent = await asSession(await sessionAs('agent'));
    expect(byAgent.statusCode).toBe(200);
    expect(byAgent.json().unreadCount).toBe(0);
  });

  it('clears unread on read and appends conversation.updated to the feed in the same transaction', async () => {
    const phone = newPhone();
    await ingest(t, ingestKey, [
      message(phone, 'a', '2026-07-01T00:00:00.000Z'),
      message(phone, 'b', '2026-07-01T00:00:01.000Z'),
    ]);
    const id = await conversationIdOf(phone);
    expect((await get(`/api/db/conversations/${id}`)).json().unreadCount).toBe(2);
    const lastSeq = async () =>
      (await t.db.query<{ seq: number }>('SELECT COALESCE(max(seq), 0)::bigint AS seq FROM events')).rows[0]!
        .seq;
    const seqBefore = await lastSeq();

    const response = await post(`/api/db/conversations/${id}/read`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id, unreadCount: 0 });
    expect((await get(`/api/db/conversations/${id}`)).json().unreadCount).toBe(0);

    const feed = await t.db.query<{
      type: string;
      entity: string;
      entity_id: string;
      payload: unknown;
      tenant_id: string;
    }>(
      'SELECT tenant_id, type, entity, entity_id, payload::json AS payload FROM events WHERE seq > $1 ORDER BY seq',
      [seqBefore],
    );
    expect(feed.rows).toEqual([
      {
        tenant_id: tenant.id,
        type: 'conversation.updated',
        entity: 'conversation',
        entity_id: id,
        payload: response.json(),
      },
    ]);

    // Nothing unread: nothing changes, nothing is appended.
    const again = await post(`/api/db/conversations/${id}/read`);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(response.json());
    expect(await lastSeq()).toBe(seqBefore + 1);
  });
});
