import type { WebhookResult } from '@syncdeck/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import { describe as describeResult } from '../cli/describe.ts';
import { parseInvocation } from '../cli/invocation.ts';
import { runCliCommand } from '../control/index.ts';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { rowChange } from '../testing/rowsync.ts';
import { loadSecretBox } from '../lib/secret-box.ts';
import { ensureConfiguredSource } from './configured-source.ts';
import { mapSourceTenant } from './index.ts';
import { nestsDeeperThan } from './payload.ts';
import { signSeed } from './signature.ts';

/** Issue 26, items 16 and 17: a source's tenant ids mapped to existing tenants, and the env's secret. */
let t: TestApp;
// The one source of this file is the one the environment makes (a target table belongs to one source).
const SECRET = 'optiqo-env-secret-0123456789abcdef';

type Response = Awaited<ReturnType<TestApp['app']['inject']>>;

function push(
  payload: unknown,
  options: { secret?: string; url?: string; raw?: string } = {},
): Promise<Response> {
  const body = options.raw ?? JSON.stringify(payload);
  return t.app.inject({
    method: 'POST',
    url: options.url ?? '/api/webhooks/optiqo',
    headers: {
      'content-type': 'application/json',
      'x-webhook-signature': `sha256=${signSeed(body, options.secret ?? SECRET)}`,
    },
    payload: body,
  });
}

async function pushed(payload: unknown, options?: Parameters<typeof push>[1]): Promise<WebhookResult> {
  const response = await push(payload, options);
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

function admin(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) {
  return t.app.inject({ method, url, headers: bearer(t.adminToken), ...(payload ? { payload } : {}) });
}

beforeAll(async () => {
  t = await createTestApp({ OPTIQO_WEBHOOK_SECRET: SECRET });
});
afterAll(() => t.close());

describe('mapSourceTenant', () => {
  it('sends later pushes of a tenant id to an existing tenant', async () => {
    const sufrah = await t.createTenant('sufrah');
    await mapSourceTenant(t.db, 'optiqo', 'sufrah', sufrah.id);
    const result = await pushed(rowChange('INSERT', 'adhoc_work_orders', 'sufrah', { id: 'wo-1' }));
    expect(result.tenantId).toBe(sufrah.id);
    const made = await t.db.query("SELECT 1 FROM tenants WHERE slug LIKE 'optiqo-%'");
    expect(made.rows).toHaveLength(0);
  });

  it('throws not_found for an unknown source or tenant', async () => {
    const tenant = await t.createTenant('nowhere');
    await expect(mapSourceTenant(t.db, 'nosuch', 'x', tenant.id)).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(
      mapSourceTenant(t.db, 'optiqo', 'x', '00000000-0000-4000-8000-000000000000'),
    ).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('the source tenants API', () => {
  it('lists, maps, remaps and forgets; later pushes follow, earlier rows stay', async () => {
    const first = await pushed(rowChange('INSERT', 'adhoc_work_orders', 'branch-7', { id: 'old-1' }));
    const list = await admin('GET', '/api/admin/sources/optiqo/tenants');
    expect(list.statusCode, list.body).toBe(200);
    const auto = list.json().data.find((m: { externalId: string }) => m.externalId === 'branch-7');
    expect(auto).toMatchObject({ origin: 'push', tenant: { id: first.tenantId, slug: 'optiqo-branch-7' } });

    const kitchen = await t.createTenant('kitchen');
    const mapped = await admin('PUT', '/api/admin/sources/optiqo/tenants/branch-7', { tenant: 'kitchen' });
    expect(mapped.statusCode, mapped.body).toBe(200);
    expect(mapped.json()).toMatchObject({
      externalId: 'branch-7',
      origin: 'admin',
      tenant: { id: kitchen.id, slug: 'kitchen' },
      previousTenant: { id: first.tenantId, slug: 'optiqo-branch-7' },
    });
    const later = await pushed(rowChange('INSERT', 'adhoc_work_orders', 'branch-7', { id: 'new-1' }));
    expect(later.tenantId).toBe(kitchen.id);
    const where = await t.db.query<{ tenant_id: string; id: string }>(
      'SELECT tenant_id, id FROM optiqo.work_orders WHERE id IN ($1, $2) ORDER BY id',
      ['new-1', 'old-1'],
    );
    expect(where.rows).toEqual([
      { tenant_id: kitchen.id, id: 'new-1' },
      { tenant_id: first.tenantId, id: 'old-1' },
    ]);

    // The push log says where each push landed, by slug.
    const log = await admin('GET', '/api/webhook-logs?source=optiqo&limit=2');
    expect(log.json().data.map((e: { tenantSlug: string }) => e.tenantSlug)).toEqual([
      'kitchen',
      'optiqo-branch-7',
    ]);

    const forgotten = await admin('DELETE', '/api/admin/sources/optiqo/tenants/branch-7');
    expect(forgotten.statusCode, forgotten.body).toBe(204);
    const again = await admin('DELETE', '/api/admin/sources/optiqo/tenants/branch-7');
    expect(again.statusCode).toBe(404);
    const fresh = await pushed(rowChange('INSERT', 'adhoc_work_orders', 'branch-7', { id: 'new-2' }));
    expect([kitchen.id, first.tenantId]).not.toContain(fresh.tenantId);
  });

  it('lets a tenant take one tenant id of a source', async () => {
    const shared = await t.createTenant('shared-one');
    expect(
      (await admin('PUT', '/api/admin/sources/optiqo/tenants/a-1', { tenant: 'shared-one' })).statusCode,
    ).toBe(200);
    // Mapping the same id to the same tenant again changes nothing and is fine.
    expect(
      (await admin('PUT', '/api/admin/sources/optiqo/tenants/a-1', { tenant: shared.id })).statusCode,
    ).toBe(200);
    const second = await admin('PUT', '/api/admin/sources/optiqo/tenants/a-2', { tenant: 'shared-one' });
    expect(second.statusCode, second.body).toBe(409);
    expect(second.json().error.details[0].path).toBe('tenant');
  });

  it('answers 4xx with the field, 404 for an unknown source or tenant, 403 for others', async () => {
    const cases: [string, object | undefined, number, string | null][] = [
      ['/api/admin/sources/nosuch/tenants/x', { tenant: 'kitchen' }, 404, null],
      ['/api/admin/sources/optiqo/tenants/x', { tenant: 'no-such-tenant' }, 404, null],
      ['/api/admin/sources/optiqo/tenants/x', { tenant: 'Not A Slug' }, 400, 'tenant'],
      ['/api/admin/sources/optiqo/tenants/x', { tenant: 'kitchen', extra: 1 }, 400, 'extra'],
      ['/api/admin/sources/optiqo/tenants/x', {}, 400, 'tenant'],
      ['/api/admin/sources/optiqo/tenants/a%00b', { tenant: 'kitchen' }, 400, 'params.externalId'],
      ['/api/admin/sources/optiqo/tenants/%20%20', { tenant: 'kitchen' }, 400, 'externalId'],
      ['/api/admin/sources/Bad%00/tenants/x', { tenant: 'kitchen' }, 400, 'params.name'],
    ];
    for (const [url, body, status, path] of cases) {
      const response = await admin('PUT', url, body);
      expect(response.statusCode, `${url} ${response.body}`).toBe(status);
      if (path) expect(response.json().error.details[0].path, url).toBe(path);
    }
    expect((await admin('GET', '/api/admin/sources/nosuch/tenants')).statusCode).toBe(404);
    const tenant = await t.createTenant('not-admin');
    const key = (await t.createKey(tenant.id, ['admin'])).token;
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const url =
        method === 'GET' ? '/api/admin/sources/optiqo/tenants' : '/api/admin/sources/optiqo/tenants/x';
      const response = await t.app.inject({
        method,
        url,
        headers: bearer(key),
        ...(method === 'PUT' ? { payload: { tenant: 'not-admin' } } : {}),
      });
      expect(response.statusCode, `${method} ${response.body}`).toBe(403);
    }
  });
});

describe('syncdeck source tenants / map-tenant / unmap-tenant', () => {
  /** What `syncdeck …` runs and prints, in this process (the spawned CLI runs the same table). */
  async function cli(...argv: string[]) {
    const invocation = parseInvocation(argv);
    if (typeof invocation === 'string') throw new Error(invocation);
    const result = await runCliCommand(t.db, invocation.name, invocation.args, t.config);
    return { result, text: describeResult(invocation.name, result) };
  }

  it('maps, lists and forgets a tenant id, refusing what the API refuses', async () => {
    await pushed(rowChange('INSERT', 'adhoc_work_orders', 'cli-7', { id: 'c1' }));
    const bistro = await t.createTenant('bistro');
    const mapped = await cli('source', 'map-tenant', 'optiqo', 'cli-7', 'bistro');
    expect(mapped.text).toBe(
      'Pushes with tenant_id cli-7 now land in tenant bistro.\n' +
        'Rows pushed before stay in optiqo-cli-7; a full sync fills the new tenant.',
    );
    expect((await pushed(rowChange('INSERT', 'adhoc_work_orders', 'cli-7', { id: 'c2' }))).tenantId).toBe(
      bistro.id,
    );
    expect((await cli('source', 'tenants', 'optiqo')).text).toMatch(/^cli-7\s+bistro\s+admin\s/m);
    await expect(cli('source', 'map-tenant', 'optiqo', 'cli-7', 'no-such-tenant')).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(cli('source', 'map-tenant', 'optiqo', 'a\u0000', 'bistro')).rejects.toMatchObject({
      code: 'validation_failed',
      details: [{ path: 'externalId' }],
    });
    await expect(cli('source', 'tenants', 'Not_A_Source')).rejects.toThrow();
    expect((await cli('source', 'unmap-tenant', 'optiqo', 'cli-7')).text).toMatch(/Forgot tenant id cli-7/);
    expect(() => parseInvocation(['source', 'map-tenant', 'optiqo', 'cli-7'])).toThrow(/EXTERNAL_ID TENANT/);
    expect(() => parseInvocation(['source', 'tenants', 'optiqo', '--tenant', 'x'])).toThrow(/--tenant/);
  });
});

describe('OPTIQO_WEBHOOK_SECRET and POST /api/optiqo-webhook', () => {
  const count = async (sql: string) => Number((await t.db.query<{ n: string }>(sql)).rows[0]!.n);

  it('serves source optiqo with the environment secret at seed 004’s path', async () => {
    const landed = await pushed(rowChange('INSERT', 'adhoc_work_orders', 'sufrah', { id: 'wo-9' }), {
      url: '/api/optiqo-webhook',
      secret: SECRET,
    });
    expect(landed).toMatchObject({ result: 'applied', table: 'work_orders' });
    const stored = await t.db.query('SELECT id FROM optiqo.work_orders WHERE id = $1', ['wo-9']);
    expect(stored.rows).toHaveLength(1);
    const forged = await push(rowChange('INSERT', 'adhoc_work_orders', 'sufrah', { id: 'wo-10' }), {
      url: '/api/optiqo-webhook',
      secret: 'not-the-secret-0123456789abcdef',
    });
    expect(forged.statusCode).toBe(401);
    expect((await t.db.query('SELECT 1 FROM optiqo.work_orders WHERE id = $1', ['wo-10'])).rows).toHaveLength(
      0,
    );
  });

  it('is idempotent over restarts and keeps secrets added by the CLI', async () => {
    const added = await admin('POST', '/api/admin/sources/optiqo/secrets', {
      secret: 'added-by-cli-0123456789abcdef',
    });
    expect(added.statusCode, added.body).toBe(200);
    for (let i = 0; i < 2; i++) {
      const restarted = await buildApp({ config: t.config, db: t.db });
      await restarted.ready();
      await restarted.close();
    }
    expect(await count("SELECT count(*) AS n FROM sync_sources WHERE name = 'optiqo'")).toBe(1);
    const source = (await admin('GET', '/api/admin/sources/optiqo')).json();
    expect(source.secrets).toHaveLength(2);
    expect(source.tables).toHaveLength(3);
    const both = await pushed(rowChange('INSERT', 'adhoc_work_orders', 'sufrah', { id: 'wo-11' }), {
      url: '/api/optiqo-webhook',
      secret: 'added-by-cli-0123456789abcdef',
    });
    expect(both.result).toBe('applied');
    // Two secrets are active: a third from the environment is not added (the start logs why).
    const box = await loadSecretBox(t.config);
    expect(await ensureConfiguredSource(t.db, box, 'optiqo', 'a-third-secret-0123456789abcdef')).toBe('full');
    expect((await admin('GET', '/api/admin/sources/optiqo')).json().secrets).toHaveLength(2);
    expect(await ensureConfiguredSource(t.db, box, 'optiqo', SECRET)).toBe('unchanged');
  });
});

describe('text PostgreSQL cannot store', () => {
  const logged = async () =>
    (await t.db.query<{ n: string }>('SELECT count(*) AS n FROM webhook_logs')).rows[0]!.n;

  it('is refused with 400 and the field, writing nothing but the log line', async () => {
    const fullSync = (over: object) => ({
      type: 'FULL_SYNC',
      table: 'adhoc_work_orders',
      tenant_id: 'text-rule',
      sync_id: 'run-1',
      offset: 0,
      records: [{ id: 'r1' }],
      total: 1,
      ...over,
    });
    const cases: [object, string][] = [
      [
        rowChange('INSERT', 'adhoc_work_orders', 'text-rule', { id: 'n1', title: 'a\u0000b' }),
        'record.title',
      ],
      [rowChange('INSERT', 'adhoc_work_orders', 'text-rule', { id: 'n1', title: 'x\ud800' }), 'record.title'],
      [rowChange('INSERT', 'adhoc_work_orders', 'text-rule', { id: 'n1', 'k\u0000': 1 }), 'record.k\u0000'],
      [rowChange('INSERT', 'adhoc_work_orders', 'text-rule', { id: 'n\udc00' }), 'record.id'],
      [rowChange('INSERT', 'adhoc_work_orders', 'text\u0000rule', { id: 'n1' }), 'tenant_id'],
      [rowChange('INSERT', 'adhoc_\u0000orders', 'text-rule', { id: 'n1' }), 'table'],
      [fullSync({ sync_id: 'run\u0000' }), 'sync_id'],
      [fullSync({ records: [{ id: 'r1', nested: { deep: ['ok', '\ud83d'] } }] }), 'records.0.nested.deep.1'],
    ];
    for (const [payload, path] of cases) {
      const before = Number(await logged());
      const response = await push(payload);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'validation_failed', details: [{ path }] });
      expect(Number(await logged())).toBe(before + 1);
    }
    const written = await t.db.query(
      "SELECT 1 FROM optiqo.work_orders WHERE id IN ('n1', 'r1') UNION ALL SELECT 1 FROM tenants WHERE slug LIKE 'optiqo-text%'",
    );
    expect(written.rows).toHaveLength(0);
    const line = (await admin('GET', '/api/webhook-logs?source=optiqo&limit=1')).json().data[0];
    expect(line).toMatchObject({ result: 'rejected', status: 400 });
    // A pair written as escapes is a character like any other.
    const emoji = await pushed(
      rowChange('INSERT', 'adhoc_work_orders', 'text-rule', { id: 'e1', t: '\ud83d\ude00' }),
    );
    expect(emoji.result).toBe('applied');
  });

  it('refuses nesting jsonb cannot take with 400 (it was a 500), in time linear in the body', async () => {
    const deep = (depth: number, extra = '') =>
      `{"type":"INSERT","table":"adhoc_work_orders","tenant_id":"deep","record":{"id":"d1"${extra},"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    const refused = await push(null, { raw: deep(5_000) });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().error.details[0]).toMatchObject({ path: `record.x${'.0'.repeat(62)}` });
    const started = performance.now();
    const both = await push(null, { raw: deep(100_000, ',"t":"a\\u0000"') });
    expect(both.statusCode, both.body).toBe(400);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(
      (await pushed(rowChange('INSERT', 'adhoc_work_orders', 'deep', { id: 'd2', x: [[[1]]] }))).result,
    ).toBe('applied');
  });

  it('in a source name or a log filter is a 400, never a 500', async () => {
    const named = await push({}, { url: '/api/webhooks/opt%00iqo' });
    expect(named.statusCode, named.body).toBe(400);
    expect(named.json().error.details[0].path).toBe('params.source');
    for (const [query, path] of [
      ['table=a%00', 'query.table'],
      ['tenant=a%00', 'query.tenant'],
    ]) {
      const response = await admin('GET', `/api/webhook-logs?${query}`);
      expect(response.statusCode, `${query} ${response.body}`).toBe(400);
      expect(response.json().error.details[0].path).toBe(path);
    }
  });
});

describe('nestsDeeperThan', () => {
  it('counts brackets outside strings only, whatever the escapes', () => {
    const nest = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(nestsDeeperThan(`{"a":${nest(63)}}`)).toBe(false);
    expect(nestsDeeperThan(`{"a":${nest(64)}}`)).toBe(true);
    expect(nestsDeeperThan(`{"a":"${'['.repeat(100)}"}`)).toBe(false);
    expect(nestsDeeperThan(`{"a":"\\"${'['.repeat(100)}"}`)).toBe(false);
    expect(nestsDeeperThan(`{"a":"\\\\","b":${nest(64)}}`)).toBe(true);
  });
});
