import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * PGlite lets one process open a data directory. The process that holds it writes this file
 * (mode 0600): its pid, and — for a server — the port and a control token, so the CLI on this
 * machine can ask the running server to act for it instead of opening the directory itself.
 */
export interface ControlFile {
  pid: number;
  role: 'server' | 'cli';
  port: number | null;
  host: string | null;
  token: string | null;
  /** When the holder started (Linux), so a pid reused by another process is not taken for it. */
  started?: string | null;
}

export class DataDirBusyError extends Error {
  override name = 'DataDirBusyError';
}

export function controlFilePath(dataDir: string): string {
  return path.join(dataDir, 'syncdeck.pid.json');
}

/**
 * Linux's view of a process: its state letter and when it started (clock ticks since boot), or
 * null when there is no such process. Undefined where there is no /proc to ask.
 */
function procStat(pid: number): { state: string; started: string } | null | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return existsSync('/proc/self/stat') ? null : undefined;
    return undefined;
  }
  // The name in parentheses may itself hold spaces and parentheses: fields follow the last `)`.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', started: fields[19] ?? '' };
}

/** When this process started, as procStat reads it; null where there is no /proc. */
function startedAt(pid: number): string | null {
  return procStat(pid)?.started ?? null;
}

/**
 * Whether `holder` still runs. A signal 0 is not enough: it reaches a zombie, and a server
 * killed with -9 stays one until its parent reaps it (a shell, a supervisor that is slow to,
 * a container whose init does not), so a restart would be refused by the dead. Where /proc
 * tells, a zombie or dying process is dead, and so is a pid taken over since by another process.
 */
function isAlive(holder: Pick<ControlFile, 'pid' | 'started'>): boolean {
  const stat = procStat(holder.pid);
  if (stat === null) return false;
  if (stat) {
    if (stat.state === 'Z' || stat.state === 'X' || stat.state === 'x') return false;
    if (holder.started && stat.started !== holder.started) return false;
  }
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The holder of `dataDir`, when a live process holds it. */
export async function readControlFile(dataDir: string): Promise<ControlFile | null> {
  let text: string;
  try {
    text = await readFile(controlFilePath(dataDir), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = JSON.parse(text) as ControlFile;
    return parsed.pid !== process.pid && isAlive(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/** What this process writes as the holder. */
function ownClaim(entry: Omit<ControlFile, 'pid' | 'started'>): string {
  return JSON.stringify({ pid: process.pid, started: startedAt(process.pid), ...entry });
}

/**
 * Creates `dataDir` if need be, readable by its owner only whatever the umask, and tightens
 * it on every start: an install made before, or under a umask of 0, may have left it open.
 * What is inside (PGlite's files, db/pglite.ts) is tightened when it is opened.
 */
export async function createDataDir(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
}

/** Claims `dataDir` for this process, or throws when a live process already holds it. */
export async function claimDataDir(
  dataDir: string,
  entry: Omit<ControlFile, 'pid' | 'started'>,
): Promise<void> {
  await createDataDir(dataDir);
  const file = controlFilePath(dataDir);
  const content = ownClaim(entry);
  try {
    await writeFile(file, content, { flag: 'wx', mode: 0o600 });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const holder = await readControlFile(dataDir);
  if (holder) {
    throw new DataDirBusyError(`${dataDir} is in use by another Syncdeck ${holder.role} (pid ${holder.pid})`);
  }
  // The previous holder died without cleaning up (kill -9): its claim is stale.
  await writeFile(file, content, { mode: 0o600 });
  await chmod(file, 0o600);
}

/** Rewrites this process's claim (the server learns its port only after listening). */
export async function updateClaim(
  dataDir: string,
  entry: Omit<ControlFile, 'pid' | 'started'>,
): Promise<void> {
  await writeFile(controlFilePath(dataDir), ownClaim(entry), { mode: 0o600 });
}

export async function releaseDataDir(dataDir: string): Promise<void> {
  try {
    const parsed = JSON.parse(await readFile(controlFilePath(dataDir), 'utf8')) as ControlFile;
    if (parsed.pid === process.pid) await rm(controlFilePath(dataDir), { force: true });
  } catch {
    // Nothing to release.
  }
}
