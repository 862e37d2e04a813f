import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { autovacuumRuns } from './db/statistics.ts';
import { createTestDatabase, type TestDatabase, testSettings } from './testing/harness.ts';
import { credentialsIn, runCli, type ServerProcess, startServerProcess } from './testing/process.ts';

let database: TestDatabase;
const running: ServerProcess[] = [];

beforeEach(async () => {
  database = await createTestDatabase();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.kill('SIGKILL')));
  await database.drop();
});

async function start(env: Record<string, string> = {}): Promise<ServerProcess> {
  const server = await startServerProcess({ ...database.env, ...env });
  running.push(server);
  return server;
}

async function api(server: ServerProcess, method: string, url: string, token: string, body?: unknown) {
  const response = await fetch(server.url + url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('syncdeck start', () => {
  it('prints the admin login and API key on the first start only, and exits 0 on SIGTERM and SIGINT', async () => {
    const first = await start();
    const { key, password } = credentialsIn(first.output());
    expect(key).toBeDefined();
    expect(password).toBeDefined();
    expect(first.output()).toContain('admin@syncdeck.local');
    const me = await api(first, 'GET', '/api/me', key!);
    expect(me.status).toBe(200);
    const login = await fetch(`${first.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@syncdeck.local', password }),
    });
    expect(login.status).toBe(200);
    expect(await first.kill('SIGTERM'), first.output()).toBe(0);
    running.splice(0);

    // Started again as the README's first command starts it: with the demo's simulated bots.
    const second = await startServerProcess({ ...database.env }, 60_000, ['--demo']);
    running.push(second);
    expect(second.output()).not.toContain('Admin API key');
    expect(second.output()).not.toContain('Password');
    // The demo starts once the server listens, and says so.
    const deadline = Date.now() + 30_000;
    while (!/Demo: simulated bots of 2 restaurants/.test(second.output()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(second.output()).toMatch(/Demo: simulated bots of 2 restaurants/);
    expect((await api(second, 'GET', '/api/me', key!)).status).toBe(200);
    // Ctrl-C stops the demo's bots, then the server, and closes the database.
    expect(await second.kill('SIGINT'), second.output()).toBe(0);
    running.splice(0);
    if (testSettings.db === 'pglite') {
      // The data directory is released: the control file is gone.
      await expect(readFile(path.join(database.env.DATA_DIR!, 'syncdeck.pid.json'))).rejects.toThrow();
    }
  });

  it('loses nothing it acknowledged when killed with SIGKILL mid-stream', async () => {
    const server = await start();
    const { key } = credentialsIn(server.output());
    const acknowledged: string[] = [];
    let stop = false;
    const writer = async (worker: number) => {
      for (let i = 0; !stop; i++) {
        const slug = `t-${worker}-${i}`;
        try {
          const response = await api(server, 'POST', '/api/admin/tenants', key!, { slug });
          if (response.status === 201) acknowledged.push(slug);
        } catch {
          return; // the connection died with the server
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    while (acknowledged.length < 40) await new Promise((resolve) => setTimeout(resolve, 10));
    await server.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    running.splice(0);

    const restarted = await start();
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const page = await api(
        restarted,
        'GET',
        `/api/admin/tenants?limit=200${cursor ? `&cursor=${cursor}` : ''}`,
        key!,
      );
      for (const tenant of page.body.data as { slug: string }[]) seen.add(tenant.slug);
      cursor = page.body.nextCursor as string | null;
    } while (cursor);
    expect(acknowledged.filter((slug) => !seen.has(slug))).toEqual([]);
  });

  it('analyses its tables as they grow where no autovacuum runs, so plans follow the data', async () => {
    const db = await database.open();
    const selfAnalysing = !(await autovacuumRuns(db));
    await db.close();
    const server = await start({ STATISTICS_INTERVAL_SECONDS: '1', LOG_LEVEL: 'debug' });
    const { key } = credentialsIn(server.output());
    for (let i = 0; i < 60; i++) {
      expect((await api(server, 'POST', '/api/admin/tenants', key!, { slug: `grown-${i}` })).status).toBe(
        201,
      );
    }
    const analysedTenants = () => /"tables":\[[^\]]*"public\.tenants"[^\]]*\][^\n]*analysed changed tables/;
    const deadline = Date.now() + 10_000;
    while (!analysedTenants().test(server.output()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(analysedTenants().test(server.output()), server.output().slice(-2000)).toBe(selfAnalysing);
  });

  it('logs requests with their request id and never a token or password', async () => {
    // At debug every request is logged (at info only the answers that went wrong).
    const server = await start({ LOG_LEVEL: 'debug' });
    const { key, password } = credentialsIn(server.output());
    const me = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${key}` } });
    const requestId = me.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@syncdeck.local', password }),
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const afterBanner = server.output().split('Syncdeck is running')[1]!;
    expect(afterBanner).toContain(`"reqId":"${requestId}"`);
    expect(afterBanner).not.toContain(key!);
    expect(afterBanner).not.toContain(password!);
  });

  it('refuses a bad configuration naming the variable', async () => {
    const result = await runCli(['start'], { ...database.env, PORT: 'eighty' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/PORT/);
  });

  it('shares one database between two servers on PostgreSQL; on PGlite a second server is refused', async () => {
    if (testSettings.db === 'postgres') {
      const [a, b] = await Promise.all([start(), start()]);
      const printed = [a, b].filter((server) => server.output().includes('Admin API key'));
      expect(printed).toHaveLength(1);
      const { key } = credentialsIn(printed[0]!.output());
      expect((await api(a, 'POST', '/api/admin/tenants', key!, { slug: 'made-on-a' })).status).toBe(201);
      expect((await api(b, 'GET', '/api/admin/tenants/made-on-a', key!)).status).toBe(200);
    } else {
      await start();
      const second = await runCli(['start'], { ...database.env, PORT: '0' });
      expect(second.code).not.toBe(0);
      expect(second.stderr).toMatch(/in use by another Syncdeck server/);
    }
  });
});

describe('the syncdeck CLI', () => {
  it('initialises once, then says so', async () => {
    const first = await runCli(
      ['init', '--email', 'Boss@Example.com', '--password', 'a long password!', '--json'],
      database.env,
    );
    expect(first.code).toBe(0);
    const created = JSON.parse(first.stdout);
    expect(created).toMatchObject({ created: true, email: 'boss@example.com', password: null });
    expect(created.apiKey.token).toMatch(/^sdk_live_/);
    const second = await runCli(['init', '--json'], database.env);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual({ created: false, email: 'boss@example.com' });
    const human = await runCli(['init'], database.env);
    expect(human.stdout).toMatch(/Already initialised.*nothing was created/);
  });

  it('creates tenants, keys and users, also while the server is running', async () => {
    const offline = await runCli(
      ['tenant', 'create', 'offline-made', '--name', 'Made Offline', '--json'],
      database.env,
    );
    expect(offline.code).toBe(0);
    expect(JSON.parse(offline.stdout)).toMatchObject({ slug: 'offline-made', name: 'Made Offline' });

    const server = await start();
    const tenant = await runCli(['tenant', 'create', 'pizza', '--json'], database.env);
    expect(tenant.code, tenant.stderr).toBe(0);
    const key = await runCli(
      ['key', 'create', '--tenant', 'pizza', '--scopes', 'read,admin', '--json'],
      database.env,
    );
    expect(key.code, key.stderr).toBe(0);
    const token = JSON.parse(key.stdout).token as string;
    const keys = await api(server, 'GET', '/api/admin/keys', token);
    expect(keys.status).toBe(200);
    expect(JSON.stringify(keys.body)).not.toContain(token);

    const user = await runCli(
      ['user', 'create', '--email', 'cook@pizza.example', '--tenant', 'pizza', '--role', 'agent', '--json'],
      database.env,
    );
    expect(user.code, user.stderr).toBe(0);
    const added = JSON.parse(user.stdout);
    expect(added.member).toMatchObject({ email: 'cook@pizza.example', role: 'agent' });
    const login = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'cook@pizza.example', password: added.generatedPassword }),
    });
    expect(login.status).toBe(200);

    const members = await api(server, 'GET', '/api/admin/users', token);
    expect((members.body.data as { email: string }[]).map((m) => m.email)).toEqual(['cook@pizza.example']);
    const tenants = await api(server, 'GET', '/api/admin/tenants', token);
    expect((tenants.body.data as { slug: string }[]).map((x) => x.slug)).toEqual(['pizza']);
  });

  it('reports bad arguments and unknown tenants clearly, with a non-zero exit', async () => {
    const badScope = await runCli(
      ['key', 'create', '--tenant', 'nope', '--scopes', 'everything', '--json'],
      database.env,
    );
    expect(badScope.code).toBe(1);
    expect(JSON.parse(badScope.stdout).error.details).toEqual([
      { path: 'scopes.0', message: expect.any(String) },
    ]);
    const unknownTenant = await runCli(
      ['key', 'create', '--tenant', 'nope', '--scopes', 'read'],
      database.env,
    );
    expect(unknownTenant.code).toBe(1);
    expect(unknownTenant.stderr).toMatch(/Tenant "nope" not found/);
    const usage = await runCli(['frobnicate'], database.env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/Usage: syncdeck/);
  });

  it('keeps the server control route closed to anyone without the local token', async () => {
    const server = await start();
    for (const headers of [{}, { 'x-syncdeck-control': 'guess' }] as Record<string, string>[]) {
      const response = await fetch(`${server.url}/api/internal/cli`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ command: 'tenant create', args: { slug: 'sneaky' } }),
      });
      expect(response.status).toBe(404);
    }
    const tenants = await runCli(['tenant', 'create', 'sneaky', '--json'], database.env);
    // The slug was never taken by the refused calls.
    expect(tenants.code, tenants.stderr).toBe(0);
  });
});
