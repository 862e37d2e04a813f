import type { Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twilioSignature } from '../channels/index.ts';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { EMPTY_TWIML } from './index.ts';

const PUBLIC_URL = 'https://deck.example.com';
const PATH = '/api/channels/twilio/whatsapp';
const SENDER = '+966508034010';
const ACCOUNT = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'twilio-auth-token-one';
const OTHER_ACCOUNT = 'ACfedcba9876543210fedcba9876543210';
const OTHER_TOKEN = 'twilio-auth-token-two';

let t: TestApp;
let one: Tenant;
let two: Tenant;
let oneRead: string;
let twoRead: string;

beforeAll(async () => {
  t = await createTestApp({ PUBLIC_URL });
  one = await t.createTenant('inbound-twilio-one');
  two = await t.createTenant('inbound-twilio-two');
  oneRead = (await t.createKey(one.id, ['read'])).token;
  twoRead = (await t.createKey(two.id, ['read'])).token;
  // The same number in two tenants, on two Twilio accounts: AccountSid tells them apart.
  for (const [tenant, accountSid, authToken] of [
    [one, ACCOUNT, TOKEN],
    [two, OTHER_ACCOUNT, OTHER_TOKEN],
  ] as const) {
    const admin = (await t.createKey(tenant.id, ['admin'])).token;
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/admin/bots',
      headers: bearer(admin),
      payload: {
        name: 'Sufrah',
        restaurantName: 'Sufrah',
        whatsappNumber: `whatsapp:${SENDER}`,
        accountSid,
        authToken,
      },
    });
    expect(response.statusCode).toBe(201);
  }
});
afterAll(() => t.close());

let sids = 0;
function inbound(overrides: Record<string, string> = {}): Record<string, string> {
  sids += 1;
  return {
    MessageSid: `SM${String(sids).padStart(32, '0')}`,
    AccountSid: ACCOUNT,
    From: 'whatsapp:+966501234567',
    To: `whatsapp:${SENDER}`,
    Body: 'I would like a shawarma',
    NumMedia: '0',
    ProfileName: 'Ahmed',
    WaId: '966501234567',
    ...overrides,
  };
}

/** Posts the form as Twilio would, signed with `token` over `signedUrl` unless told otherwise. */
function post(
  params: Record<string, string>,
  {
    token = TOKEN,
    signedUrl = `${PUBLIC_URL}${PATH}`,
    signature,
  }: { token?: string; signedUrl?: string; signature?: string | null } = {},
) {
  const sig = signature === undefined ? twilioSignature(token, signedUrl, params) : signature;
  return t.app.inject({
    method: 'POST',
    url: PATH,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(sig === null ? {} : { 'x-twilio-signature': sig }),
    },
    payload: new URLSearchParams(params).toString(),
  });
}

async function messagesWithSid(sid: string) {
  const result = await t.db.query<{ tenant_id: string; content: string; conversation_id: string }>(
    'SELECT tenant_id, content, conversation_id FROM messages WHERE wa_sid = $1',
    [sid],
  );
  return result.rows;
}

describe('POST /api/channels/twilio/whatsapp', () => {
  it('stores a signed message, answers empty TwiML, and the message is in the conversation and on the feed', async () => {
    const params = inbound();
    const response = await post(params);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/xml/);
    expect(response.body).toBe(EMPTY_TWIML);

    const [stored] = await messagesWithSid(params.MessageSid!);
    expect(stored).toMatchObject({ tenant_id: one.id, content: 'I would like a shawarma' });

    const conversation = await t.app.inject({
      url: `/api/db/conversations/${stored!.conversation_id}/messages`,
      headers: bearer(oneRead),
    });
    expect(conversation.json()).toEqual([
      expect.objectContaining({
        direction: 'IN',
        content: 'I would like a shawarma',
        waSid: params.MessageSid,
      }),
    ]);
    const feed = await t.db.query<{ type: string }>(
      `SELECT type FROM events WHERE tenant_id = $1 AND payload::jsonb->>'waSid' = $2`,
      [one.id, params.MessageSid],
    );
    expect(feed.rows.map((r) => r.type)).toEqual(['message.created']);
  });

  it('stores a redelivered MessageSid once', async () => {
    const params = inbound();
    expect((await post(params)).statusCode).toBe(200);
    expect((await post(params)).statusCode).toBe(200);
    expect(await messagesWithSid(params.MessageSid!)).toHaveLength(1);
  });

  it("picks the tenant whose sender has the request's AccountSid, checked with that sender's token", async () => {
    const params = inbound({ AccountSid: OTHER_ACCOUNT });
    expect((await post(params, { token: TOKEN })).statusCode).toBe(403);
    expect((await post(params, { token: OTHER_TOKEN })).statusCode).toBe(200);
    const rows = await messagesWithSid(params.MessageSid!);
    expect(rows.map((r) => r.tenant_id)).toEqual([two.id]);
    const list = await t.app.inject({ url: '/api/db/conversations', headers: bearer(twoRead) });
    expect(list.json()).toHaveLength(1);
  });

  it('accepts the signature with the query string and with the default port', async () => {
    const params = inbound();
    const response = await t.app.inject({
      method: 'POST',
      url: `${PATH}?source=whatsapp`,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSignature(
          TOKEN,
          `https://deck.example.com:443${PATH}?source=whatsapp`,
          params,
        ),
      },
      payload: new URLSearchParams(params).toString(),
    });
    expect(response.statusCode).toBe(200);
  });

  describe('refuses with 403 and stores nothing', () => {
    const refusals: [
      string,
      () => Promise<{ params: Record<string, string>; response: Awaited<ReturnType<typeof post>> }>,
    ][] = [
      [
        'a wrong token',
        async () => {
          const params = inbound();
          return { params, response: await post(params, { token: 'not-the-token' }) };
        },
      ],
      [
        'an altered parameter',
        async () => {
          const params = inbound();
          const signature = twilioSignature(TOKEN, `${PUBLIC_URL}${PATH}`, params);
          const altered = { ...params, Body: 'I would like ten shawarmas' };
          return { params: altered, response: await post(altered, { signature }) };
        },
      ],
      [
        'an added parameter',
        async () => {
          const params = inbound();
          const signature = twilioSignature(TOKEN, `${PUBLIC_URL}${PATH}`, params);
          const added = { ...params, NumMedia: '1', MediaUrl0: 'https://evil.example.com/x.jpg' };
          return { params: added, response: await post(added, { signature }) };
        },
      ],
      [
        'a wrong URL',
        async () => {
          const params = inbound();
          return { params, response: await post(params, { signedUrl: `https://other.example.com${PATH}` }) };
        },
      ],
      [
        'no signature',
        async () => {
          const params = inbound();
          return { params, response: await post(params, { signature: null }) };
        },
      ],
      [
        'an unknown number',
        async () => {
          const params = inbound({ To: 'whatsapp:+966500000001' });
          return { params, response: await post(params) };
        },
      ],
      [
        'a number that is no number',
        async () => {
          const params = inbound({ To: 'whatsapp:nope' });
          return { params, response: await post(params) };
        },
      ],
    ];
    for (const [what, attempt] of refusals) {
      it(what, async () => {
        const { params, response } = await attempt();
        expect(response.statusCode).toBe(403);
        // The same answer whatever was wrong: nothing to tell a prober which part failed.
        expect(response.json().error).toMatchObject({
          code: 'forbidden',
          message: 'The request is not signed by a registered sender',
        });
        expect(response.json().error.details).toBeUndefined();
        expect(await messagesWithSid(params.MessageSid!)).toHaveLength(0);
      });
    }

    it('a JSON body signed as if it were the form', async () => {
      const params = inbound();
      const response = await t.app.inject({
        method: 'POST',
        url: PATH,
        headers: { 'x-twilio-signature': twilioSignature(TOKEN, `${PUBLIC_URL}${PATH}`, params) },
        payload: { ...params, NumMedia: 0 },
      });
      expect(response.statusCode).toBe(403);
    });
  });

  it('answers a malformed but signed request 400 with the field paths', async () => {
    const params = inbound({ From: '+966501234567', MessageSid: 'nope' });
    const response = await post(params);
    expect(response.statusCode).toBe(400);
    const paths = response.json().error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['From', 'MessageSid']));
  });

  it('stores media as the message media_url and type', async () => {
    const params = inbound({
      Body: '',
      NumMedia: '1',
      MediaUrl0: 'https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME1',
      MediaContentType0: 'image/jpeg',
    });
    expect((await post(params)).statusCode).toBe(200);
    const result = await t.db.query<{ message_type: string; media_url: string }>(
      'SELECT message_type, media_url FROM messages WHERE wa_sid = $1',
      [params.MessageSid],
    );
    expect(result.rows).toEqual([{ message_type: 'image', media_url: params.MediaUrl0 }]);
  });
});
