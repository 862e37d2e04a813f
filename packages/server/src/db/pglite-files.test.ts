import { chmod, cp, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { testSettings } from '../testing/harness.ts';
import { openPglite } from './pglite.ts';

let dir: string;
let umask: number;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'syncdeck-pglite-files-'));
  // As on a machine whose umask leaves everything open; each test ends with the one it began with.
  umask = process.umask(0);
});
afterEach(async () => {
  process.umask(umask);
  await rm(dir, { recursive: true, force: true });
});

/** Every directory and file under `root` whose permissions are not 0700 and 0600, with them. */
async function loosePaths(root: string): Promise<string[]> {
  const loose: string[] = [];
  const visit = async (current: string) => {
    const mode = (await stat(current)).mode & 0o777;
    if (mode !== 0o700) loose.push(`${path.relative(root, current) || '.'} ${mode.toString(8)}`);
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const child = path.join(current, entry.name);
      if (entry.isDirectory()) await visit(child);
      else if (entry.isFile()) {
        const fileMode = (await stat(child)).mode & 0o777;
        if (fileMode !== 0o600) loose.push(`${path.relative(root, child)} ${fileMode.toString(8)}`);
      }
    }
  };
  await visit(root);
  return loose;
}

/** Writes enough for PGlite to create files while it runs: a table, its index, WAL. */
async function writeSome(pgdata: string) {
  const db = await openPglite(pgdata);
  await db.exec(`CREATE TABLE private_check (id serial PRIMARY KEY, body text);
                 INSERT INTO private_check (body) SELECT repeat('x', 200) FROM generate_series(1, 2000);
                 CHECKPOINT;`);
  await db.close();
}

/** Opening a PGlite data directory once is the same on either project; only the PGlite one runs it. */
describe.runIf(testSettings.db === 'pglite')('PGlite data directory permissions', () => {
  it('creates a data directory its owner alone may read, under a umask of 0', async () => {
    const pgdata = path.join(dir, 'pgdata');
    await writeSome(pgdata);
    expect(await loosePaths(pgdata)).toEqual([]);
  });

  it('tightens the files of an existing directory that anyone could write, when it is opened', async () => {
    const pgdata = path.join(dir, 'pgdata');
    await cp(inject('pgliteTemplate'), pgdata, { recursive: true });
    const loosen = async (current: string) => {
      await chmod(current, 0o777);
      for (const entry of await readdir(current, { withFileTypes: true })) {
        const child = path.join(current, entry.name);
        if (entry.isDirectory()) await loosen(child);
        else if (entry.isFile()) await chmod(child, 0o666);
      }
    };
    await loosen(pgdata);
    expect((await loosePaths(pgdata)).length).toBeGreaterThan(100);

    await writeSome(pgdata);
    expect(await loosePaths(pgdata)).toEqual([]);
  });
});
