import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const sourceDir = fileURLToPath(new URL('.', import.meta.url));

describe('@syncdeck/sdk as a package', () => {
  it('has no runtime dependencies: its sources import only node: built-ins, themselves, and types', async () => {
    const manifest = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8'));
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.peerDependencies ?? {}).toEqual({});
    const files = (await readdir(sourceDir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(files).toContain('index.ts');
    for (const file of files) {
      const text = await readFile(path.join(sourceDir, file), 'utf8');
      for (const match of text.matchAll(/^import (type )?[^;]*? from '([^']+)';/gms)) {
        const [, typeOnly, specifier] = match;
        const allowed = specifier!.startsWith('node:') || specifier!.startsWith('./') || typeOnly;
        expect(allowed, `${file} imports ${specifier}`).toBeTruthy();
      }
    }
  });

  it('builds to JavaScript with declarations that plain Node imports without the workspace', async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'syncdeck-sdk-dist-'));
    try {
      const tsc = fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url));
      await run(process.execPath, [
        tsc,
        '-p',
        path.join(packageDir, 'tsconfig.build.json'),
        '--outDir',
        outDir,
      ]);
      const built = await readdir(outDir);
      expect(built).toEqual(expect.arrayContaining(['index.js', 'index.d.ts', 'client.js', 'client.d.ts']));
      expect(built.some((f) => f.includes('.test.'))).toBe(false);
      // No tsx, no source condition: what a bot that installed the package runs.
      const { stdout } = await run(process.execPath, [
        '--input-type=module',
        '-e',
        `const sdk = await import(${JSON.stringify(path.join(outDir, 'index.js'))});
         const sync = sdk.createSyncClient({});
         const outcome = await sync.customerSeen({ telegram_chat_id: 1 });
         console.log(JSON.stringify({ exports: Object.keys(sdk).sort(), outcome, status: sdk.mapSyrveStatus('OnWay') }));`,
      ]);
      expect(JSON.parse(stdout)).toEqual({
        exports: [
          'DEFAULT_ROW_SYNC_SENDER_OPTIONS',
          'DEFAULT_SESSION_STORE_OPTIONS',
          'DEFAULT_SYNC_CLIENT_OPTIONS',
          'RowSyncSender',
          'SessionStore',
          'SyncClient',
          'SyncdeckError',
          'consoleLogger',
          'createRowSyncSender',
          'createSessionStore',
          'createSyncClient',
          'mapSyrveStatus',
          'signBody',
          'silentLogger',
          'uuidv7',
        ],
        outcome: { status: 'skipped', reason: 'disabled' },
        status: 'delivering',
      });
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  });
});
