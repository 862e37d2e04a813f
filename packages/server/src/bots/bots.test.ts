import type { Bot, Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, TEST_SECRET_KEY, type TestApp } from '../testing/harness.ts';
import { authTokenContext } from './routes.ts';
import { SecretBox } from '../lib/secret-box.ts';
import { NEXT_CURSOR_HEADER } from '../http/pagination.ts';

let t: TestApp;
let one: Tenant;
let two: Tenant;
let oneAdmin: string;
let oneRead: string;
let oneIngest: string;
let twoAdmin: string;

const MISSING_ID = '00000000-0000-4000-8000-000000000000';

beforeAll(async () => {
  t = await createTestApp();
  one = await t.createTenant('bots-one');
  two = await t.createTenant('bots-two');
  oneAdmin = (await t.createKey(one.id, ['admin'])).token;
  oneRead = (await t.createKey(one.id, ['read'])).token;
  oneIngest = (await t.createKey(one.id, ['ingest'])).token;
  twoAdmin = (await t.createKey(two.id, ['admin'])).token;
});
afterAll(() => t.close());

type Headers = Record<string, string>;
type Response = Awaited<ReturnType<TestApp['app']['inject']>>;

/** Every answer any test got, to prove no auth token ever left the server. */
const answers: string[] = [];

async function call(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  headers: Headers,
  payload?: unknown,
) {
  const response = await t.app.inject({
    method,
    url,
    headers,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  answers.push(response.body);
  return response;
}

const admin = (token = oneAdmin) => bearer(token);
const register = (payload: unknown, headers = admin()) => call('POST', '/api/admin/bots', headers, payload);
/** The distinct field paths an error names. */
const paths = (response: Response): string[] => [
  ...new Set<string>((response.json().error.details ?? []).map((d: { path: string }) => d.path)),
];

let numberCounter = 0;
/** A fresh valid Saudi mobile number per call. */
function newNumber(): string {
  numberCounter += 1;
  return `+9665${String(30_000_000 + numberCounter * 7919).slice(-8)}`;
}

function validBot(overrides: Record<string, unknown> = {}) {
  return {
    name: 'Test Bot',
    restaurantName: 'Test Restaurant',
    whatsappNumber: `whatsapp:${newNumber()}`,
    accountSid: 'AC0123456789abcdef0123456789abcdef',
    authToken: `token-${Math.random().toString(36).slice(2)}`,
    ...overrides,
  };
}

async function registerOk(payload: Record<string, unknown>, headers = admin()): Promise<Bot> {
  const response = await register(payload, headers);
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

async function countBots(tenantId = one.id): Promise<number> {
  const result = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM bots WHERE tenant_id = $1', [
    tenantId,
  ]);
  return result.rows[0]!.n;
}

/** The seed's two senders, exactly as written in it (the placeholders it leaves included). */
const SUFRAH = {
  name: 'Sufrah Bot',
  restaurantName: 'Sufrah',
  whatsappNumber: 'whatsapp:+966508034010',
  senderSid: 'XE23c4f8b55966a1bfd101338f4c68b8cb',
  wabaId: '777730705047590',
  accountSid: 'AC...',
  authToken: '...',
  status: 'ACTIVE',
  supportContact: 'info@sufrah.sa',
};
const OCEAN = {
  name: 'Ocean Restaurant Bot',
  restaurantName: 'مطعم شاورما وفلافل أوشن',
  whatsappNumber: 'whatsapp:+966502045939',
  senderSid: 'XE803ebc75db963fdfa0e813d6f4f001f6',
  wabaId: '777730705047590',
  accountSid: 'AC...',
  authToken: '...',
  status: 'ACTIVE',
};

describe('the seed’s senders', () => {
  it('register exactly as written in the seed, and list for the restaurant in seed 001’s shape', async () => {
    const tenant = await t.createTenant('sufrah');
    const sufrah = await registerOk(SUFRAH, { ...bearer(t.adminToken), 'x-restaurant-id': 'sufrah' });
    const ocean = await registerOk(OCEAN, { ...bearer(t.adminToken), 'x-tenant-id': tenant.id });
    const { authToken: _a, ...sufrahShown } = SUFRAH;
    expect(sufrah).toEqual({
      ...sufrahShown,
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      restaurantId: tenant.id,
      channel: 'whatsapp',
      address: '+966508034010',
      hasAuthToken: true,
      hasTelegramToken: false,
      isActive: true,
      registeredAt: expect.any(String),
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(ocean).toMatchObject({
      name: 'Ocean Restaurant Bot',
      restaurantName: 'مطعم شاورما وفلافل أوشن',
      whatsappNumber: 'whatsapp:+966502045939',
      senderSid: 'XE803ebc75db963fdfa0e813d6f4f001f6',
      wabaId: '777730705047590',
      status: 'ACTIVE',
      supportContact: null,
      restaurantId: tenant.id,
    });

    const read = (await t.createKey(tenant.id, ['read'])).token;
    for (const idOrSlug of ['sufrah', tenant.id]) {
      const listed = await call('GET', `/api/db/restaurants/${idOrSlug}/bots`, bearer(read));
      expect(listed.statusCode).toBe(200);
      const bots = listed.json();
      expect(bots.map((bot: { name: string }) => bot.name)).toEqual(['Sufrah Bot', 'Ocean Restaurant Bot']);
      // Exactly the seed's fields: nothing more, nothing less.
      expect(Object.keys(bots[0]).sort()).toEqual(
        [
          'id',
          'name',
          'restaurantName',
          'whatsappNumber',
          'status',
          'isActive',
          'createdAt',
          'updatedAt',
        ].sort(),
      );
      expect(bots[0]).toEqual({
        id: sufrah.id,
        name: 'Sufrah Bot',
        restaurantName: 'Sufrah',
        whatsappNumber: 'whatsapp:+966508034010',
        status: 'ACTIVE',
        isActive: true,
        createdAt: sufrah.createdAt,
        updatedAt: sufrah.updatedAt,
      });
    }
  });
});

describe('POST /api/admin/bots validation', () => {
  it.each(['name', 'restaurantName', 'whatsappNumber', 'accountSid', 'authToken'])(
    'requires %s, stores nothing without it',
    async (field) => {
      const before = await countBots();
      const body: Record<string, unknown> = validBot();
      delete body[field];
      const missing = await register(body);
      expect(missing.statusCode).toBe(400);
      expect(paths(missing)).toEqual([field]);
      const blank = await register({ ...validBot(), [field]: '   ' });
      expect(blank.statusCode).toBe(400);
      expect(paths(blank)).toEqual([field]);
      expect(await countBots()).toBe(before);
    },
  );

  it('refuses a bad number, a bad account SID, an unknown status or field, naming each', async () => {
    for (const whatsappNumber of ['not a number', '+12', 'whatsapp:+9665']) {
      const response = await register(validBot({ whatsappNumber }));
      expect(response.statusCode, whatsappNumber).toBe(400);
      expect(paths(response)).toEqual(['whatsappNumber']);
    }
    expect(paths(await register(validBot({ accountSid: 'XE123' })))).toEqual(['accountSid']);
    expect(paths(await register(validBot({ status: 'SLEEPING' })))).toEqual(['status']);
    expect(paths(await register(validBot({ paymentLink: 'x' })))).toEqual(['paymentLink']);
    expect(paths(await register(validBot({ name: 'a\u0000b' })))).toEqual(['name']);
  });

  it('stores the number as E.164 from any common spelling', async () => {
    const spelled = await registerOk(validBot({ whatsappNumber: '00966 50 111 2222' }));
    expect(spelled.whatsappNumber).toBe('whatsapp:+966501112222');
    expect(spelled.address).toBe('+966501112222');
    // A number without a country code is read in PHONE_DEFAULT_REGION (SA).
    const local = await registerOk(validBot({ whatsappNumber: '050 111 2223', status: 'pending' }));
    expect(local.whatsappNumber).toBe('whatsapp:+966501112223');
    expect(local.status).toBe('PENDING');
    expect(local.isActive).toBe(false);
  });

  it('answers 409 for a number already registered in the tenant, in whatever spelling', async () => {
    const number = newNumber();
    await registerOk(validBot({ whatsappNumber: number }));
    const before = await countBots();
    const again = await register(
      validBot({ whatsappNumber: `whatsapp:${number.replace('+966', '00966 ')}` }),
    );
    expect(again.statusCode).toBe(409);
    expect(paths(again)).toEqual(['whatsappNumber']);
    expect(await countBots()).toBe(before);
    // Another tenant may register the same number: uniqueness is per tenant.
    await registerOk(validBot({ whatsappNumber: number }), admin(twoAdmin));
  });

  it('claims a sender that ingest met before anyone registered it, once', async () => {
    const number = newNumber();
    const ingested = await call('POST', '/functions/v1/sync', bearer(oneIngest), {
      event: 'message.created',
      data: {
        customer_identifier: { whatsapp_phone: newNumber() },
        bot: { whatsapp_number: number },
        direction: 'IN',
        message_type: 'text',
        content: 'مرحبا',
      },
    });
    expect(ingested.statusCode, ingested.body).toBe(200);
    const seen = await t.db.query<{ id: string; registered_at: Date | null }>(
      'SELECT id, registered_at FROM bots WHERE tenant_id = $1 AND address = $2',
      [one.id, number],
    );
    expect(seen.rows[0]!.registered_at).toBeNull();
    const claimed = await registerOk(validBot({ whatsappNumber: number, name: 'Claimed' }));
    expect(claimed.id).toBe(seen.rows[0]!.id);
    expect(claimed).toMatchObject({ name: 'Claimed', hasAuthToken: true, registeredAt: expect.any(String) });
    expect((await register(validBot({ whatsappNumber: number }))).statusCode).toBe(409);
  });
});

describe('credentials and tenants', () => {
  let bot: Bot;
  beforeAll(async () => {
    bot = await registerOk(validBot());
  });

  it('answers 401 without a key, 403 for a key without the admin scope', async () => {
    expect((await call('GET', '/api/admin/bots', {})).statusCode).toBe(401);
    expect((await register(validBot(), {})).statusCode).toBe(401);
    for (const token of [oneRead, oneIngest]) {
      expect((await call('GET', '/api/admin/bots', bearer(token))).statusCode).toBe(403);
      expect((await call('GET', `/api/admin/bots/${bot.id}`, bearer(token))).statusCode).toBe(403);
      expect((await register(validBot(), bearer(token))).statusCode).toBe(403);
      expect((await call('PUT', `/api/admin/bots/${bot.id}`, bearer(token), { name: 'x' })).statusCode).toBe(
        403,
      );
      expect((await call('DELETE', `/api/admin/bots/${bot.id}`, bearer(token))).statusCode).toBe(403);
    }
    expect((await call('GET', `/api/admin/bots/${bot.id}`, admin())).json().name).toBe('Test Bot');
  });

  it('answers another tenant’s bot with 404, exactly like a missing one, and changes nothing', async () => {
    const missing = await call('GET', `/api/admin/bots/${MISSING_ID}`, admin(twoAdmin));
    for (const [method, payload] of [['GET'], ['PUT', { name: 'Hijacked' }], ['DELETE']] as const) {
      const response = await call(method, `/api/admin/bots/${bot.id}`, admin(twoAdmin), payload);
      expect(response.statusCode, method).toBe(404);
      expect(response.json().error.message).toBe(missing.json().error.message);
    }
    const list = await call('GET', '/api/admin/bots?limit=200', admin(twoAdmin));
    expect(list.json().data.map((b: Bot) => b.id)).not.toContain(bot.id);
    expect((await call('GET', `/api/admin/bots/${bot.id}`, admin())).json()).toMatchObject({
      name: 'Test Bot',
      status: 'ACTIVE',
    });
  });

  it('lists a restaurant’s bots only for credentials that may read it', async () => {
    const url = `/api/db/restaurants/${one.slug}/bots`;
    expect((await call('GET', url, {})).statusCode).toBe(401);
    expect((await call('GET', url, bearer(oneIngest))).statusCode).toBe(403);
    expect((await call('GET', url, bearer(twoAdmin))).statusCode).toBe(404);
    expect((await call('GET', '/api/db/restaurants/no-such-tenant/bots', bearer(oneRead))).statusCode).toBe(
      404,
    );
    const asAdmin = await call('GET', url, bearer(t.adminToken));
    expect(asAdmin.statusCode).toBe(200);
    expect(asAdmin.json().map((b: { id: string }) => b.id)).toContain(bot.id);
    expect((await call('GET', url, bearer(oneAdmin))).statusCode).toBe(200);
  });
});

describe('the auth token', () => {
  it('is stored encrypted, opens back only in its own tenant, and is replaced by PUT', async () => {
    const token = 'twilio-auth-token-0123456789abcdef';
    const bot = await registerOk(validBot({ authToken: token }));
    const stored = await t.db.query<{ auth_token_encrypted: string }>(
      'SELECT auth_token_encrypted FROM bots WHERE tenant_id = $1 AND id = $2',
      [one.id, bot.id],
    );
    const sealed = stored.rows[0]!.auth_token_encrypted;
    expect(sealed).not.toContain(token);
    expect(sealed).not.toContain(Buffer.from(token).toString('base64url'));
    const box = new SecretBox(Buffer.from(TEST_SECRET_KEY, 'hex'));
    expect(box.open(sealed, authTokenContext(one.id))).toBe(token);
    expect(() => box.open(sealed, authTokenContext(two.id))).toThrow();
    expect(() => new SecretBox(Buffer.alloc(32, 7)).open(sealed, authTokenContext(one.id))).toThrow(
      /another|master key/,
    );

    // Sealing twice gives different ciphertexts (fresh IV), both opening to the token.
    const again = await registerOk(validBot({ authToken: token }));
    const sealedAgain = (
      await t.db.query<{ auth_token_encrypted: string }>(
        'SELECT auth_token_encrypted FROM bots WHERE id = $1',
        [again.id],
      )
    ).rows[0]!.auth_token_encrypted;
    expect(sealedAgain).not.toBe(sealed);

    const updated = await call('PUT', `/api/admin/bots/${bot.id}`, admin(), { authToken: 'the-new-token' });
    expect(updated.statusCode).toBe(200);
    expect(updated.json().hasAuthToken).toBe(true);
    const resealed = (
      await t.db.query<{ auth_token_encrypted: string }>(
        'SELECT auth_token_encrypted FROM bots WHERE id = $1',
        [bot.id],
      )
    ).rows[0]!.auth_token_encrypted;
    expect(box.open(resealed, authTokenContext(one.id))).toBe('the-new-token');
  });

  it('is never in any answer, nor on the change feed', async () => {
    const token = 'never-shown-token-5f1d';
    const bot = await registerOk(validBot({ authToken: token }));
    await call('GET', `/api/admin/bots/${bot.id}`, admin());
    await call('GET', '/api/admin/bots?limit=200', admin());
    await call('GET', `/api/db/restaurants/${one.id}/bots`, bearer(oneRead));
    await call('PUT', `/api/admin/bots/${bot.id}`, admin(), { name: 'Renamed' });
    await call('DELETE', `/api/admin/bots/${bot.id}`, admin());
    expect(answers.length).toBeGreaterThan(5);
    for (const body of answers) {
      expect(body).not.toContain(token);
      expect(body).not.toContain('auth_token');
      // Error answers may name the field; no bot object ever carries it.
      if (!body.includes('"error"')) expect(body).not.toMatch(/"authToken"/);
    }
    const feed = await t.db.query<{ type: string; payload: Record<string, unknown> }>(
      "SELECT type, payload::json AS payload FROM events WHERE tenant_id = $1 AND entity = 'bot' AND entity_id = $2 ORDER BY seq",
      [one.id, bot.id],
    );
    expect(feed.rows.map((row) => row.type)).toEqual(['bot.updated', 'bot.updated', 'bot.deleted']);
    for (const row of feed.rows) {
      expect(JSON.stringify(row.payload)).not.toContain(token);
      expect(row.payload).not.toHaveProperty('accountSid');
      expect(row.payload).toMatchObject({ id: bot.id, restaurantId: one.id });
    }
  });
});

describe('PUT /api/admin/bots/:id', () => {
  it('changes only the given fields; null clears an optional one', async () => {
    const bot = await registerOk(validBot({ supportContact: 'help@example.com', senderSid: 'XE1' }));
    const response = await call('PUT', `/api/admin/bots/${bot.id}`, admin(), {
      restaurantName: 'New Name',
      supportContact: null,
      whatsappNumber: '+966 50 999 0001',
    });
    expect(response.statusCode, response.body).toBe(200);
    const updated = response.json() as Bot;
    expect(updated).toMatchObject({
      name: bot.name,
      restaurantName: 'New Name',
      supportContact: null,
      senderSid: 'XE1',
      whatsappNumber: 'whatsapp:+966509990001',
      createdAt: bot.createdAt,
    });
    expect(Date.parse(updated.updatedAt)).toBeGreaterThan(Date.parse(bot.updatedAt));
    expect((await call('GET', `/api/admin/bots/${bot.id}`, admin())).json()).toEqual(updated);
  });

  it('takes the seed’s isActive switch, and refuses one that contradicts status', async () => {
    const bot = await registerOk(validBot());
    const off = await call('PUT', `/api/admin/bots/${bot.id}`, admin(), { isActive: false });
    expect(off.json()).toMatchObject({ status: 'INACTIVE', isActive: false });
    const on = await call('PUT', `/api/admin/bots/${bot.id}`, admin(), { status: 'active' });
    expect(on.json()).toMatchObject({ status: 'ACTIVE', isActive: true });
    const contradiction = await call('PUT', `/api/admin/bots/${bot.id}`, admin(), {
      status: 'ACTIVE',
      isActive: false,
    });
    expect(contradiction.statusCode).toBe(400);
    expect(paths(contradiction)).toEqual(['isActive']);
  });

  it('refuses an empty change, a bad number, and a number another bot has', async () => {
    const bot = await registerOk(validBot());
    const other = await registerOk(validBot());
    expect((await call('PUT', `/api/admin/bots/${bot.id}`, admin(), {})).statusCode).toBe(400);
    const bad = await call('PUT', `/api/admin/bots/${bot.id}`, admin(), { whatsappNumber: 'nope' });
    expect(paths(bad)).toEqual(['whatsappNumber']);
    const taken = await call('PUT', `/api/admin/bots/${bot.id}`, admin(), {
      whatsappNumber: other.whatsappNumber,
      name: 'Should not stick',
    });
    expect(taken.statusCode).toBe(409);
    expect(paths(taken)).toEqual(['whatsappNumber']);
    expect((await call('GET', `/api/admin/bots/${bot.id}`, admin())).json().name).toBe(bot.name);
    expect((await call('PUT', `/api/admin/bots/${MISSING_ID}`, admin(), { name: 'x' })).statusCode).toBe(404);
  });
});

describe('DELETE /api/admin/bots/:id', () => {
  it('deletes a bot without conversations', async () => {
    const bot = await registerOk(validBot());
    const response = await call('DELETE', `/api/admin/bots/${bot.id}`, admin());
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      success: true,
      deleted: true,
      deactivated: false,
      bot: { id: bot.id },
    });
    expect((await call('GET', `/api/admin/bots/${bot.id}`, admin())).statusCode).toBe(404);
    expect((await call('DELETE', `/api/admin/bots/${bot.id}`, admin())).statusCode).toBe(404);
  });

  it('deactivates a bot with conversations instead, keeping its history, and says so', async () => {
    const bot = await registerOk(validBot());
    const customer = newNumber();
    const ingested = await call('POST', '/functions/v1/sync', bearer(oneIngest), {
      event: 'message.created',
      data: {
        customer_identifier: { whatsapp_phone: customer },
        bot: { id: bot.id },
        direction: 'IN',
        message_type: 'text',
        content: 'I want a shawarma',
      },
    });
    expect(ingested.statusCode, ingested.body).toBe(200);
    const response = await call('DELETE', `/api/admin/bots/${bot.id}`, admin());
    expect(response.statusCode).toBe(200);
    const answer = response.json();
    expect(answer).toMatchObject({
      success: true,
      deleted: false,
      deactivated: true,
      bot: { id: bot.id, status: 'INACTIVE', isActive: false },
    });
    expect(answer.message).toMatch(/deactivated/);
    expect((await call('GET', `/api/admin/bots/${bot.id}`, admin())).json().status).toBe('INACTIVE');
    const history = await t.db.query<{ content: string }>(
      `SELECT m.content FROM messages m JOIN conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id
       WHERE c.tenant_id = $1 AND c.bot_id = $2`,
      [one.id, bot.id],
    );
    expect(history.rows.map((row) => row.content)).toEqual(['I want a shawarma']);
  });
});

describe('GET /api/admin/bots', () => {
  it('pages with a cursor, every bot once, and filters by status in any case', async () => {
    const tenant = await t.createTenant('bots-paging');
    const headers = { ...bearer(t.adminToken), 'x-tenant-id': tenant.slug };
    const made: Bot[] = [];
    for (let i = 0; i < 5; i++) {
      made.push(
        await registerOk(validBot({ name: `Bot ${i}`, status: i % 2 ? 'INACTIVE' : 'ACTIVE' }), headers),
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await call('GET', `/api/admin/bots${query}`, headers);
      expect(page.statusCode).toBe(200);
      const body = page.json() as { data: Bot[]; nextCursor: string | null };
      expect(body.data.length).toBeLessThanOrEqual(2);
      seen.push(...body.data.map((b) => b.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(made.map((b) => b.id).reverse());

    const inactive = await call('GET', '/api/admin/bots?status=inactive', headers);
    expect(inactive.json().data.map((b: Bot) => b.name)).toEqual(['Bot 3', 'Bot 1']);
    const active = await call('GET', '/api/admin/bots?status=ACTIVE', headers);
    expect(active.json().data.map((b: Bot) => b.name)).toEqual(['Bot 4', 'Bot 2', 'Bot 0']);

    const badStatus = await call('GET', '/api/admin/bots?status=asleep', headers);
    expect(badStatus.statusCode).toBe(400);
    expect(paths(badStatus)).toEqual(['query.status']);
    const badCursor = await call('GET', '/api/admin/bots?cursor=garbage', headers);
    expect(badCursor.statusCode).toBe(400);
  });
});

describe('OpenAPI', () => {
  it('documents the bot and session routes, their summaries and conditional headers', async () => {
    const doc = (await call('GET', '/api/docs/json', {})).json();
    for (const route of ['/api/admin/bots', '/api/admin/bots/{id}', '/api/db/restaurants/{id}/bots']) {
      for (const operation of Object.values(doc.paths[route]) as { summary: string; tags: string[] }[]) {
        expect(operation.summary, route).toBeTruthy();
        expect(operation.tags).toEqual(['bots']);
      }
    }
    const session = doc.paths['/api/bot-sessions/{botId}/{customerKey}'];
    expect(Object.keys(session).sort()).toEqual(['delete', 'get', 'put']);
    expect(session.put.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['if-match', 'if-none-match', 'botId', 'customerKey']),
    );
    const created = doc.paths['/api/admin/bots'].post.responses['201'].content['application/json'].schema;
    expect(created.properties.hasAuthToken).toBeDefined();
    expect(created.properties.authToken).toBeUndefined();
  });
});

describe("GET /api/admin/bots: a platform admin's view of every tenant", () => {
  type Listed = Bot & { tenant?: { id: string; slug: string; name: string } };

  /** Every page of the list, following the cursors. */
  async function walk(headers: Headers, allTenants: boolean, query = ''): Promise<Listed[]> {
    const seen: Listed[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/admin/bots?limit=3${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await call('GET', url, headers);
      expect(page.statusCode, page.body).toBe(200);
      const body = page.json() as Listed[] | { data: Listed[]; nextCursor: string | null };
      // Every tenant's bots come as seed 001 reads them: a bare array, the cursor in a header.
      const all = Array.isArray(body);
      expect(all).toBe(allTenants);
      const items = Array.isArray(body) ? body : body.data;
      expect(items.length).toBeLessThanOrEqual(3);
      seen.push(...items);
      cursor = Array.isArray(body)
        ? ((page.headers[NEXT_CURSOR_HEADER] as string | undefined) ?? null)
        : body.nextCursor;
    } while (cursor);
    return seen;
  }

  it('lists every tenant’s bots with their tenant, newest first, paged, for a key or a session', async () => {
    const a = await t.createTenant('bots-all-a');
    const b = await t.createTenant('bots-all-b');
    const inA = await registerOk(validBot({ name: 'All A' }), {
      ...bearer(t.adminToken),
      'x-tenant-id': a.slug,
    });
    const inB = await registerOk(validBot({ name: 'All B', status: 'INACTIVE' }), {
      ...bearer(t.adminToken),
      'x-tenant-id': b.id,
    });
    const total = Number((await t.db.query<{ n: string }>('SELECT count(*) AS n FROM bots')).rows[0]!.n);

    const login = await call(
      'POST',
      '/api/auth/login',
      {},
      { email: t.adminEmail, password: t.adminPassword },
    );
    expect(login.statusCode, login.body).toBe(200);
    const cookie = login.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    for (const headers of [bearer(t.adminToken), { cookie }]) {
      const all = await walk(headers, true);
      expect(all).toHaveLength(total);
      expect(new Set(all.map((bot) => bot.id)).size).toBe(total);
      const times = all.map((bot) => bot.createdAt);
      expect(times).toEqual([...times].sort().reverse());
      for (const bot of all) expect(bot.tenant?.id).toBe(bot.restaurantId);
      expect(all.find((bot) => bot.id === inA.id)?.tenant).toEqual({ id: a.id, slug: a.slug, name: a.name });
      expect(all.find((bot) => bot.id === inB.id)?.tenant).toEqual({ id: b.id, slug: b.slug, name: b.name });
      expect(all.map((bot) => bot.restaurantId)).toEqual(expect.arrayContaining([one.id, a.id, b.id]));
    }
    // The status filter applies across tenants too.
    const inactive = await walk(bearer(t.adminToken), true, '&status=inactive');
    expect(inactive.map((bot) => bot.id)).toContain(inB.id);
    expect(inactive.every((bot) => bot.status === 'INACTIVE')).toBe(true);
    expect(inactive.map((bot) => bot.id)).not.toContain(inA.id);
    const forged = await call('GET', '/api/admin/bots?cursor=WyJ4IiwicjEiXQ', bearer(t.adminToken));
    expect(forged.statusCode).toBe(400);
  });

  it('still lists one tenant, without tenants, when a tenant is named or the caller is not a platform admin', async () => {
    const named = await walk({ ...bearer(t.adminToken), 'x-restaurant-id': two.slug }, false);
    expect(named.every((bot) => bot.restaurantId === two.id && bot.tenant === undefined)).toBe(true);
    const own = await walk(admin(), false);
    expect(own.length).toBeGreaterThan(0);
    expect(own.every((bot) => bot.restaurantId === one.id && bot.tenant === undefined)).toBe(true);
    // A tenant key naming another tenant is refused as before, and lists nothing of it.
    expect((await call('GET', '/api/admin/bots', { ...admin(), 'x-tenant-id': two.slug })).statusCode).toBe(
      404,
    );
    expect((await call('GET', '/api/admin/bots', bearer(oneRead))).statusCode).toBe(403);
  });
});
