import type { IncomingMessage } from 'node:http';
import type { Tenant } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { bearer, createTestApp, TEST_ADMIN, type TestApp } from '../testing/harness.ts';

/*
 * Who may open the realtime socket, and how: the session cookie only from the server's own
 * origin or an allowed one; an API key from anywhere, in Authorization or as a subprotocol.
 */

const PUBLIC_ORIGIN = 'https://deck.example.com';
const ALLOWED_ORIGIN = 'https://admin.example.com';

let t: TestApp;
let tenant: Tenant;
let readKey: string;
let cookie: string;
let wsBase: string;
let ownOrigin: string;

beforeAll(async () => {
  t = await createTestApp({
    PUBLIC_URL: PUBLIC_ORIGIN,
    CORS_ORIGINS: `${ALLOWED_ORIGIN},http://localhost:3000`,
  });
  tenant = await t.createTenant('handshake');
  readKey = (await t.createKey(tenant.id, ['read'])).token;
  const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: TEST_ADMIN });
  const session = login.cookies.find((c) => c.name === 'syncdeck_session');
  if (!session) throw new Error(`no session cookie: ${login.body}`);
  cookie = `syncdeck_session=${session.value}`;
  const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
  wsBase = address.replace(/^http/, 'ws');
  ownOrigin = address;
});
afterAll(() => t.close());

interface Opened {
  socket: WebSocket;
  /** The handshake's answer, as the client received it. */
  response: IncomingMessage;
  firstFrame: unknown;
}

/** Opens a socket to the tenant's feed; resolves once the hello frame came, rejects with the HTTP status. */
function open(options: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<Opened> {
  const socket = new WebSocket(`${wsBase}/api/realtime?tenant=${tenant.slug}`, options.protocols ?? [], {
    headers: options.headers ?? {},
  });
  return new Promise((resolve, reject) => {
    let response: IncomingMessage | undefined;
    socket.once('upgrade', (answer) => {
      response = answer;
    });
    socket.once('message', (data) => {
      resolve({ socket, response: response!, firstFrame: JSON.parse(data.toString()) });
    });
    socket.once('unexpected-response', (_request, answer) => {
      reject(new Error(`HTTP ${answer.statusCode}`));
    });
    socket.once('error', reject);
  });
}

async function opensWith(options: Parameters<typeof open>[0]): Promise<Opened> {
  const opened = await open(options);
  expect(opened.firstFrame).toMatchObject({ type: 'hello' });
  opened.socket.close();
  return opened;
}

describe('a socket authenticated by the session cookie', () => {
  it("opens from the server's own origin, PUBLIC_URL's, an allowed one, or a client sending no Origin", async () => {
    for (const origin of [ownOrigin, PUBLIC_ORIGIN, ALLOWED_ORIGIN, 'http://localhost:3000']) {
      await opensWith({ headers: { cookie, origin } });
    }
    await opensWith({ headers: { cookie } });
  });

  it('is refused before the upgrade from any other origin', async () => {
    for (const origin of [
      'https://evil.example',
      'null',
      'http://deck.example.com',
      'https://admin.example.com.evil.example',
      `${ownOrigin}.evil.example`,
    ]) {
      await expect(open({ headers: { cookie, origin } }), origin).rejects.toThrow('HTTP 403');
    }
  });
});

describe('a socket authenticated by an API key', () => {
  it('opens from any origin, with the key in Authorization', async () => {
    await opensWith({ headers: { ...bearer(readKey), origin: 'https://evil.example' } });
  });

  it('opens with the key offered as a subprotocol, and the server selects the marker, never the key', async () => {
    for (const protocols of [
      ['syncdeck.bearer', `syncdeck.key.${readKey}`],
      // Key first: a server selecting the first offer would echo it.
      [`syncdeck.key.${readKey}`, 'syncdeck.bearer'],
    ]) {
      const { socket, response } = await opensWith({
        protocols,
        headers: { origin: 'https://other.example' },
      });
      expect(socket.protocol).toBe('syncdeck.bearer');
      expect(response.headers['sec-websocket-protocol']).toBe('syncdeck.bearer');
      expect(JSON.stringify(response.headers)).not.toContain(readKey);
    }
  });

  it('checks a key offered as a subprotocol like one in Authorization', async () => {
    await expect(open({ protocols: ['syncdeck.bearer', 'syncdeck.key.sdk_live_unknown'] })).rejects.toThrow(
      'HTTP 401',
    );
    const ingestKey = (await t.createKey(tenant.id, ['ingest'])).token;
    await expect(open({ protocols: ['syncdeck.bearer', `syncdeck.key.${ingestKey}`] })).rejects.toThrow(
      'HTTP 403',
    );
  });

  it('refuses a key offered without the marker, the marker without a key, or a key sent twice', async () => {
    await expect(open({ protocols: [`syncdeck.key.${readKey}`] })).rejects.toThrow('HTTP 400');
    await expect(open({ protocols: ['syncdeck.bearer'] })).rejects.toThrow('HTTP 400');
    await expect(
      open({ protocols: ['syncdeck.bearer', `syncdeck.key.${readKey}`], headers: bearer(readKey) }),
    ).rejects.toThrow('HTTP 400');
  });

  it('never selects a subprotocol it does not speak', async () => {
    // ws, like a browser, fails a handshake whose answer selects none of the offered subprotocols.
    await expect(open({ protocols: ['json'], headers: bearer(readKey) })).rejects.toThrow(
      'Server sent no subprotocol',
    );
  });
});
