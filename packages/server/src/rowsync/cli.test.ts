import { describe, expect, it } from 'vitest';
import { spawnedServerPerTest } from '../testing/harness.ts';
import { runCli } from '../testing/process.ts';
import { signSeed } from './signature.ts';

const spawned = spawnedServerPerTest();
const cli = (...args: string[]) => runCli(args, spawned.database.env);

const FIRST = 'cli-first-secret-0123456789';
const SECOND = 'cli-second-secret-9876543210';

async function push(secret: string, table = 'sites') {
  const body = JSON.stringify({ type: 'INSERT', table, tenant_id: 'acme', record: { id: 'r1' } });
  const response = await fetch(`${spawned.server.url}/api/webhooks/optiqo`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-webhook-signature': `sha256=${signSeed(body, secret)}`,
    },
    body,
  });
  return response.status;
}

describe('syncdeck source', () => {
  it('creates a source, maps a table and rotates its secret, also while the server runs', async () => {
    const created = await cli('source', 'create', 'optiqo', '--secret', FIRST, '--json');
    expect(created.code, created.stderr).toBe(0);
    const source = JSON.parse(created.stdout);
    expect(source).toMatchObject({ name: 'optiqo', schema: 'optiqo' });
    expect(source.tables).toContainEqual({ sourceTable: 'zone_categories', targetTable: 'zones' });
    expect(created.stdout).not.toContain(FIRST);

    await spawned.start();
    const mapped = await cli('source', 'map', 'optiqo', 'sites', 'sites', '--json');
    expect(mapped.code, mapped.stderr).toBe(0);
    expect(JSON.parse(mapped.stdout).tables).toContainEqual({ sourceTable: 'sites', targetTable: 'sites' });
    expect(await push(FIRST)).toBe(200);

    const added = await cli('source', 'secret', 'optiqo', '--add', SECOND, '--json');
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout).secrets).toHaveLength(2);
    const removed = await cli('source', 'secret', 'optiqo', '--remove', FIRST);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/Updated source optiqo/);
    // A server caches a source for at most a second.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await push(SECOND)).toBe(200);
    expect(await push(FIRST)).toBe(401);

    const neither = await cli('source', 'secret', 'optiqo', '--json');
    expect(neither.code).toBe(1);
    expect(JSON.parse(neither.stdout).error.code).toBe('validation_failed');
    const duplicate = await cli('source', 'create', 'optiqo', '--secret', FIRST, '--json');
    expect(duplicate.code).toBe(1);
    expect(JSON.parse(duplicate.stdout).error.code).toBe('conflict');
    const usage = await cli('source', 'map', 'optiqo', 'only_one');
    expect(usage.code).toBe(2);
  }, 180_000);
});
