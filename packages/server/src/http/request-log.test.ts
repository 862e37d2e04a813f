import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

/** An app logging at `level` into memory, and the answers it logged as `request completed`. */
async function appLoggingAt(level: 'info' | 'debug') {
  type Line = { msg: string; req?: { method: string; url: string }; res?: { statusCode: number } };
  const text: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text.push(String(chunk));
      done();
    },
  });
  t = await createTestApp({}, undefined, pino({ level }, stream));
  const answered = () =>
    text
      .map((line) => JSON.parse(line) as Line)
      .filter((line) => line.msg === 'request completed')
      .map((line) => `${line.req?.method} ${line.req?.url} ${line.res?.statusCode}`);
  return { app: t.app, token: t.adminToken, answered, text: () => text.join('') };
}

describe('request log', () => {
  it('at info, has a line for each answer that went wrong and none for the ones that did not', async () => {
    const { app, token, answered } = await appLoggingAt('info');
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(
      (await app.inject({ method: 'GET', url: '/api/admin/tenants', headers: bearer(token) })).statusCode,
    ).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/admin/tenants' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/nowhere' })).statusCode).toBe(404);
    expect(answered()).toEqual(['GET /api/admin/tenants 401', 'GET /api/nowhere 404']);
  });

  it('at debug, has a line for every answer, with its time and without the credential', async () => {
    const { app, token, answered, text } = await appLoggingAt('debug');
    await app.inject({ method: 'GET', url: '/healthz' });
    await app.inject({ method: 'GET', url: '/api/admin/tenants', headers: bearer(token) });
    expect(answered()).toEqual(['GET /healthz 200', 'GET /api/admin/tenants 200']);
    expect(text()).toContain('"responseTime":');
    expect(text()).not.toContain(token);
  });
});

describe('request log of a URL carrying a credential', () => {
  const secrets = [
    'sekrit-token-value',
    'sekrit-key-value',
    'sekrit-apikey-value',
    'sekrit-access-value',
    'sekrit-ticket-value',
    'sekrit-x-api-key',
  ];
  const query =
    `token=${secrets[0]}&key=${secrets[1]}&apiKey=${secrets[2]}&access_token=${secrets[3]}` +
    `&ticket=${secrets[4]}&X-Api-Key=${secrets[5]}&since=42`;

  it('at info, redacts credentials from the URL of an answer that went wrong', async () => {
    const { app, token, answered, text } = await appLoggingAt('info');
    expect((await app.inject({ method: 'GET', url: `/api/nowhere?${query}` })).statusCode).toBe(404);
    expect(
      (await app.inject({ method: 'GET', url: `/api/realtime?token=${token}` })).statusCode,
    ).toBeGreaterThan(399);
    expect(
      (await app.inject({ method: 'GET', url: `/api/keys/${token}` })).statusCode,
    ).toBeGreaterThanOrEqual(400);
    expect(
      (await app.inject({ method: 'GET', url: `/api/nowhere?q=${token.replace(/_/g, '%5F')}` })).statusCode,
    ).toBe(404);
    const logged = text();
    for (const secret of [...secrets, token, token.replace(/_/g, '%5F'), token.slice('sdk_live_'.length)]) {
      expect(logged).not.toContain(secret);
    }
    expect(answered()).toContain(
      'GET /api/nowhere?token=[redacted]&key=[redacted]&apiKey=[redacted]&access_token=[redacted]' +
        '&ticket=[redacted]&X-Api-Key=[redacted]&since=42 404',
    );
    expect(answered().some((line) => line.startsWith('GET /api/realtime?token=[redacted] 4'))).toBe(true);
  });

  it('at debug, redacts credentials from the URL of every answer', async () => {
    const { app, token, answered, text } = await appLoggingAt('debug');
    expect((await app.inject({ method: 'GET', url: `/healthz?${query}` })).statusCode).toBe(200);
    await app.inject({
      method: 'GET',
      url: `/api/admin/tenants?limit=5&apiKey=${token}`,
      headers: bearer(token),
    });
    const logged = text();
    for (const secret of [...secrets, token]) expect(logged).not.toContain(secret);
    expect(
      answered().some((line) => line.startsWith('GET /api/admin/tenants?limit=5&apiKey=[redacted] ')),
    ).toBe(true);
    expect(answered().some((line) => line.startsWith('GET /healthz?token=[redacted]&'))).toBe(true);
  });
});
