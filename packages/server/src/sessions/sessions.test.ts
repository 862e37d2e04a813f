import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { ensureUser } from '../users/index.ts';

const LIMIT = 5;
const PASSWORD = 'the right password';
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ LOGIN_MAX_FAILURES: String(LIMIT), LOGIN_WINDOW_MINUTES: '15' });
});
afterAll(() => t.close());

/** A user of the test's own, so no test's failures count against another's account. */
async function user(name: string): Promise<string> {
  const email = `${name}@example.com`;
  await ensureUser(t.db, { email, password: PASSWORD });
  return email;
}

function login(email: string, password: string, ip: string) {
  return t.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { email, password },
    remoteAddress: ip,
  });
}

async function statusOf(email: string, password: string, ip: string): Promise<number> {
  return (await login(email, password, ip)).statusCode;
}

describe('login lockout', () => {
  it('checks at most the limit of concurrent wrong passwords from one address and refuses the rest', async () => {
    const victim = await user('concurrent-victim');
    const answers = await Promise.all(Array.from({ length: 30 }, () => login(victim, 'a guess', '10.9.0.1')));
    const statuses = answers.map((answer) => answer.statusCode);
    expect(statuses.filter((status) => status === 401)).toHaveLength(LIMIT);
    expect(statuses.filter((status) => status === 429)).toHaveLength(30 - LIMIT);
    const refused = answers.find((answer) => answer.statusCode === 429)!;
    expect(refused.json().error.code).toBe('too_many_attempts');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
  });

  it('checks at most the limit of concurrent wrong passwords against one account from many addresses', async () => {
    const victim = await user('distributed-victim');
    const statuses = await Promise.all(
      Array.from({ length: 30 }, (_, index) => statusOf(victim, 'a guess', `10.9.1.${index}`)),
    );
    expect(statuses.filter((status) => status === 401)).toHaveLength(LIMIT);
    expect(statuses.filter((status) => status === 429)).toHaveLength(30 - LIMIT);
    // Locked means locked: the right password from a fresh address is refused as well.
    expect(await statusOf(victim, PASSWORD, '10.9.1.200')).toBe(429);
  });

  it('does not reset an address when someone logs in from it with a valid account of their own', async () => {
    const victim = await user('victim-of-an-insider');
    const insider = await user('insider');
    const ip = '10.9.2.1';
    for (let guess = 1; guess < LIMIT; guess++)
      expect(await statusOf(victim, `guess ${guess}`, ip)).toBe(401);
    expect(await statusOf(insider, PASSWORD, ip)).toBe(200);
    expect(await statusOf(victim, 'one more guess', ip)).toBe(401);
    expect(await statusOf(victim, 'and another', ip)).toBe(429);
    // Nor does a valid login of another account reset the attacked account's count.
    expect(await statusOf(victim, 'from elsewhere', '10.9.2.2')).toBe(429);
  });

  it('starts the count of the account that logged in over, and of no other', async () => {
    const forgetful = await user('forgetful');
    const other = await user('other-account');
    for (let guess = 1; guess < LIMIT; guess++) {
      expect(await statusOf(forgetful, `typo ${guess}`, `10.9.3.${guess}`)).toBe(401);
      expect(await statusOf(other, `typo ${guess}`, `10.9.4.${guess}`)).toBe(401);
    }
    expect(await statusOf(forgetful, PASSWORD, '10.9.3.100')).toBe(200);
    // The forgetful account has its whole allowance again…
    for (let guess = 1; guess <= LIMIT; guess++) {
      expect(await statusOf(forgetful, `new typo ${guess}`, `10.9.5.${guess}`)).toBe(401);
    }
    expect(await statusOf(forgetful, PASSWORD, '10.9.5.100')).toBe(429);
    // …the other one only what it had left.
    expect(await statusOf(other, 'last typo', '10.9.4.100')).toBe(401);
    expect(await statusOf(other, PASSWORD, '10.9.4.101')).toBe(429);
  });

  it('does not count refused attempts against the address', async () => {
    const locked = await user('locked-account');
    for (let guess = 1; guess <= LIMIT; guess++) {
      expect(await statusOf(locked, `guess ${guess}`, `10.9.6.${guess}`)).toBe(401);
    }
    const sharedAddress = '10.9.7.1';
    for (let retry = 0; retry < LIMIT * 2; retry++)
      expect(await statusOf(locked, PASSWORD, sharedAddress)).toBe(429);
    const colleague = await user('colleague');
    expect(await statusOf(colleague, PASSWORD, sharedAddress)).toBe(200);
  });
});

describe('GET /api/session, the page probing its session', () => {
  const probe = (headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url: '/api/session', headers });
  const nobody = { user: null, apiKey: null, memberships: [] };

  it('answers 200 with no user, not 401, without a session or with one that ended', async () => {
    const none = await probe();
    expect(none.statusCode).toBe(200);
    expect(none.json()).toEqual(nobody);
    expect(none.headers['cache-control']).toBe('no-store');
    expect((await probe({ cookie: 'syncdeck_session=not-a-session' })).json()).toEqual(nobody);
    // /api/me keeps its 401 for the clients that rely on it.
    expect((await t.app.inject({ method: 'GET', url: '/api/me' })).statusCode).toBe(401);
  });

  it('answers exactly what /api/me does for a session, and nobody again after logout', async () => {
    const email = await user('probe');
    const session = (await login(email, PASSWORD, '10.9.9.9')).cookies.find(
      (c) => c.name === 'syncdeck_session',
    )!;
    const cookie = { cookie: `syncdeck_session=${session.value}` };
    const me = await t.app.inject({ method: 'GET', url: '/api/me', headers: cookie });
    const probed = await probe(cookie);
    expect(probed.statusCode).toBe(200);
    expect(probed.json()).toEqual(me.json());
    expect(probed.json().user.email).toBe(email);
    await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: cookie });
    expect((await probe(cookie)).json()).toEqual(nobody);
  });

  it('still refuses a malformed or unknown API key with 401', async () => {
    expect((await probe({ authorization: 'Bearer sdk_live_unknown' })).statusCode).toBe(401);
    expect((await probe({ authorization: 'Basic abc' })).statusCode).toBe(401);
  });
});
