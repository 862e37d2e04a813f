import { existsSync } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * Builds the dashboard when dist/ is missing or older than its sources, so `npm start` on a
 * fresh clone serves it. Builds into a directory of its own and swaps it in, so two runs at
 * once (the test projects) never serve a half-written bundle.
 */

export const webDir = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(webDir, 'dist');
const sources = ['index.html', 'vite.config.ts', 'package.json', 'src'];

async function newest(entry: string): Promise<number> {
  const info = await stat(entry);
  if (!info.isDirectory()) return info.mtimeMs;
  let latest = info.mtimeMs;
  for (const name of await readdir(entry)) latest = Math.max(latest, await newest(path.join(entry, name)));
  return latest;
}

export async function isStale(): Promise<boolean> {
  const index = path.join(dist, 'index.html');
  if (!existsSync(index)) return true;
  const built = (await stat(index)).mtimeMs;
  for (const source of sources) {
    const entry = path.join(webDir, source);
    if (existsSync(entry) && (await newest(entry)) > built) return true;
  }
  return false;
}

export async function ensureBuilt(options: { quiet?: boolean } = {}): Promise<boolean> {
  if (!(await isStale())) return false;
  const { build } = await import('vite');
  const staging = path.join(webDir, `.dist-${process.pid}-${Date.now()}`);
  try {
    await build({
      root: webDir,
      logLevel: options.quiet ? 'error' : 'info',
      build: { outDir: staging, emptyOutDir: true },
    });
    const old = `${staging}-old`;
    if (existsSync(dist)) await rename(dist, old).catch(() => {});
    await rename(staging, dist).catch(async () => {
      // Another build swapped its own in first: theirs is as fresh as ours.
      await rm(staging, { recursive: true, force: true });
    });
    await rm(old, { recursive: true, force: true });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const built = await ensureBuilt();
  process.stdout.write(built ? 'dashboard built\n' : 'dashboard is up to date\n');
}
