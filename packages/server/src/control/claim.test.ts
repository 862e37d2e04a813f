import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimDataDir, controlFilePath, DataDirBusyError, readControlFile } from './claim.ts';

const linux = existsSync('/proc/self/stat');
const entry = { role: 'server', port: null, host: null, token: null } as const;

let dir: string;
let parent: ChildProcess | null = null;
let child: number | null = null;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'syncdeck-claim-'));
});
afterEach(async () => {
  if (child) {
    try {
      process.kill(child, 'SIGKILL');
    } catch {
      // Already gone.
    }
    child = null;
  }
  // Ending the parent hands its zombie child to init, which reaps it.
  if (parent?.pid && parent.exitCode === null) {
    const exited = new Promise((resolve) => parent!.once('exit', resolve));
    process.kill(parent.pid, 'SIGKILL');
    await exited;
  }
  parent = null;
  await rm(dir, { recursive: true, force: true });
});

/**
 * A process that is not this one's child, so nothing here reaps it: a shell starts it in the
 * background and then becomes `sleep`, which never waits for children. Answers its pid.
 */
async function unreapedChild(): Promise<number> {
  parent = spawn('sh', ['-c', 'sleep 120 & echo $!; exec sleep 120'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const firstLine = await new Promise<string>((resolve, reject) => {
    let text = '';
    parent!.stdout!.on('data', (chunk) => {
      text += String(chunk);
      if (text.includes('\n')) resolve(text.split('\n')[0]!);
    });
    parent!.once('error', reject);
  });
  child = Number(firstLine);
  return child;
}

async function state(pid: number): Promise<string> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ')[0]!;
}

/** Records `pid` as the holder of `dir`, as that process's own claimDataDir would have. */
async function recordHolder(pid: number, started?: string) {
  await writeFile(controlFilePath(dir), JSON.stringify({ pid, ...entry, ...(started ? { started } : {}) }));
}

describe.runIf(linux)('claiming the data directory', () => {
  it('is refused while the holder lives, and granted once it is a zombie nobody reaped', async () => {
    const holder = await unreapedChild();
    await recordHolder(holder);
    await expect(claimDataDir(dir, entry)).rejects.toThrow(DataDirBusyError);
    expect((await readControlFile(dir))?.pid).toBe(holder);

    process.kill(holder, 'SIGKILL');
    for (let wait = 0; (await state(holder)) !== 'Z'; wait++) {
      if (wait > 100) throw new Error('the holder did not become a zombie');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // What made a restart fail: a signal still reaches the zombie.
    expect(() => process.kill(holder, 0)).not.toThrow();

    expect(await readControlFile(dir)).toBeNull();
    await claimDataDir(dir, entry);
    const claimed = JSON.parse(await readFile(controlFilePath(dir), 'utf8'));
    expect(claimed.pid).toBe(process.pid);
  });

  it('is granted when the recorded pid now belongs to a process that started later', async () => {
    const other = await unreapedChild();
    await recordHolder(other, '1');
    await claimDataDir(dir, entry);
    expect(JSON.parse(await readFile(controlFilePath(dir), 'utf8')).pid).toBe(process.pid);
  });

  it('records when the holder started, so a reused pid can be told from it', async () => {
    await claimDataDir(dir, entry);
    const claimed = JSON.parse(await readFile(controlFilePath(dir), 'utf8'));
    expect(claimed.started).toMatch(/^\d+$/);
  });
});

describe('the data directory', () => {
  it('is created readable by its owner only whatever the umask, and tightened when it exists', async () => {
    const previous = process.umask(0);
    try {
      const created = path.join(dir, 'new');
      await claimDataDir(created, entry);
      expect((await stat(created)).mode & 0o777).toBe(0o700);
      expect((await stat(controlFilePath(created))).mode & 0o777).toBe(0o600);

      const existing = path.join(dir, 'old');
      await claimDataDir(existing, entry);
      await chmod(existing, 0o777);
      await rm(controlFilePath(existing));
      await claimDataDir(existing, entry);
      expect((await stat(existing)).mode & 0o777).toBe(0o700);
    } finally {
      process.umask(previous);
    }
  });
});
