import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCommand } from '../control/index.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { describe as describeResult } from './describe.ts';
import { CliUsageError, parseInvocation } from './invocation.ts';

describe('the command line', () => {
  it('refuses a flag its command does not read, rather than ignore it', () => {
    expect(() => parseInvocation(['tenant', 'create', 'pizza', '--scopes', 'read'])).toThrow(
      /does not take --scopes/,
    );
    expect(() => parseInvocation(['tenant', 'list', '--tenant', 'pizza'])).toThrow(CliUsageError);
    expect(() => parseInvocation(['key', 'list', '--tenant', 'pizza', '--demo'])).toThrow(/--demo/);
    expect(() => parseInvocation(['source', 'list', 'extra'])).toThrow(/takes no arguments/);
    expect(parseInvocation(['user', 'password', '--email', 'a@b.co', '--json'])).toEqual({
      name: 'user password',
      json: true,
      args: { email: 'a@b.co', password: undefined },
    });
  });
});

describe('tenant create and update --currency', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('creates a tenant in a currency, sets another, and refuses a code that is not one', async () => {
    const create = parseInvocation(['tenant', 'create', 'riyadh', '--currency', 'sar']);
    expect(create).toMatchObject({ name: 'tenant create', args: { slug: 'riyadh', currency: 'sar' } });
    const run = (invocation: ReturnType<typeof parseInvocation>) => {
      if (typeof invocation === 'string') throw new Error(invocation);
      return runCliCommand(t.db, invocation.name, invocation.args, t.config) as Promise<{ currency: string }>;
    };
    expect((await run(create)).currency).toBe('SAR');
    expect((await run(parseInvocation(['tenant', 'update', 'riyadh', '--currency', 'AED']))).currency).toBe(
      'AED',
    );
    await expect(run(parseInvocation(['tenant', 'update', 'riyadh', '--currency', 'AE']))).rejects.toThrow();
    await expect(run(parseInvocation(['tenant', 'update', 'riyadh']))).rejects.toThrow(
      /--name or --currency/,
    );
    await expect(
      run(parseInvocation(['tenant', 'update', 'nowhere', '--currency', 'AED'])),
    ).rejects.toMatchObject({
      code: 'not_found',
    });
  });
});

describe('user password', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const login = (password: string) =>
    t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: t.adminEmail, password } });

  it('sets a new password and ends the sessions made with the old one', async () => {
    const before = await login(t.adminPassword);
    const cookie = before.cookies.find((c) => c.name === 'syncdeck_session')!;
    const me = () =>
      t.app.inject({ method: 'GET', url: '/api/me', cookies: { syncdeck_session: cookie.value } });
    expect((await me()).statusCode).toBe(200);

    const changed = (await runCliCommand(t.db, 'user password', { email: t.adminEmail }, t.config)) as {
      generatedPassword: string;
    };
    expect(changed.generatedPassword.length).toBeGreaterThanOrEqual(12);
    expect((await me()).statusCode).toBe(401);
    expect((await login(t.adminPassword)).statusCode).toBe(401);
    expect((await login(changed.generatedPassword)).statusCode).toBe(200);

    await expect(
      runCliCommand(t.db, 'user password', { email: 'nobody@example.com' }, t.config),
    ).rejects.toMatchObject({
      code: 'not_found',
    });
  });
});

describe('syncdeck list commands', () => {
  // In process, as the server's control route runs them: spawning a process per command would
  // open the database each time. server.test.ts runs the real binary end to end.
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());
  async function cli(...argv: string[]): Promise<{ result: unknown; text: string }> {
    const invocation = parseInvocation(argv);
    if (typeof invocation === 'string') throw new Error(`not a command: ${invocation}`);
    const result = await runCliCommand(t.db, invocation.name, invocation.args, t.config);
    return { result, text: describeResult(invocation.name, result) };
  }

  it('lists tenants, keys, members and sources, and refuses a --password it would not apply', async () => {
    expect((await cli('init')).text).toMatch(/Already initialised/);
    await cli('tenant', 'create', 'pizza', '--name', 'Pizza Palace');
    const key = (await cli('key', 'create', '--tenant', 'pizza', '--scopes', 'read', '--name', 'Dash'))
      .result as { token: string };
    await cli('user', 'create', '--email', 'cook@example.com', '--tenant', 'pizza', '--role', 'agent');
    await cli('source', 'create', 'optiqo_list', '--secret', 'list-test-secret-0123456789');

    const tenants = await cli('tenant', 'list');
    expect(tenants.text).toMatch(/pizza/);
    expect(tenants.text).toMatch(/Pizza Palace/);
    const keys = await cli('key', 'list', '--tenant', 'pizza');
    expect(keys.text).toMatch(/Dash/);
    expect(JSON.stringify(keys.result)).not.toContain(key.token);
    expect(keys.text).not.toContain(key.token);
    const members = await cli('user', 'list', '--tenant', 'pizza');
    expect(members.result).toMatchObject([{ email: 'cook@example.com', role: 'agent' }]);
    const sources = await cli('source', 'list');
    expect(sources.text).toMatch(/optiqo_list/);
    expect(JSON.stringify(sources.result)).not.toContain('list-test-secret');

    await expect(
      cli(
        'user',
        'create',
        '--email',
        'cook@example.com',
        '--tenant',
        'pizza',
        '--role',
        'admin',
        '--password',
        'a-new-password-123',
      ),
    ).rejects.toMatchObject({ code: 'conflict' });
    // Refused whole: the role did not change either.
    expect((await cli('user', 'list', '--tenant', 'pizza')).result).toMatchObject([
      { email: 'cook@example.com', role: 'agent' },
    ]);
  });
});
