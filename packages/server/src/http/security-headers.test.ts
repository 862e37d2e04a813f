import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('every answer', () => {
  it('forbids type sniffing and framing: API answers, errors, the API reference and the dashboard', async () => {
    const requests = [
      { url: '/healthz' },
      { url: '/api/me', headers: bearer(t.adminToken) },
      { url: '/api/me' },
      { url: '/api/nope' },
      { url: '/api/docs/' },
      { url: '/' },
      { url: '/t/some-tenant/inbox' },
    ];
    for (const { url, headers } of requests) {
      const response = await t.app.inject({ method: 'GET', url, headers });
      expect(response.statusCode, url).toBeLessThan(500);
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
      expect(response.headers['x-frame-options'], url).toBe('DENY');
      expect(String(response.headers['content-security-policy']), url).toContain("frame-ancestors 'none'");
    }
  });

  it("gives the dashboard's page a policy that allows only this server's scripts, styles and sockets", async () => {
    const response = await t.app.inject({ method: 'GET', url: '/', headers: { host: 'deck.example.com' } });
    const policy = Object.fromEntries(
      String(response.headers['content-security-policy'])
        .split(';')
        .map((directive) => directive.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values]),
    );
    expect(policy['default-src']).toEqual(["'self'"]);
    expect(policy['script-src']).toEqual(["'self'"]);
    expect(policy['style-src']?.[0]).toBe("'self'");
    expect(policy['style-src']).not.toContain("'unsafe-inline'");
    expect(policy['connect-src']).toEqual(["'self'", 'ws://deck.example.com', 'wss://deck.example.com']);
    expect(policy['object-src']).toEqual(["'none'"]);
    expect(policy['frame-ancestors']).toEqual(["'none'"]);
  });

  it('writes no Host into the policy that is not a plain host', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/',
      headers: { host: "x; script-src 'unsafe-inline'" },
    });
    const policy = String(response.headers['content-security-policy']);
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).toContain("connect-src 'self';");
  });
});
