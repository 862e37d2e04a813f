import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
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
}

export class DataDirBusyError extends Error {
  override name = 'DataDirBusyError';
}

export function controlFilePath(dataDir: string): string {
  return path.join(dataDir, 'syncdeck.pid.json');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
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
    return parsed.pid !== process.pid && isAlive(parsed.pid) ? parsed : null;
  } catch {
    return null;
  }
}

/** Claims `dataDir` for this process, or throws when a live process already holds it. */
export async function claimDataDir(dataDir: string, entry: Omit<ControlFile, 'pid'>): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const file = controlFilePath(dataDir);
  const content = JSON.stringify({ pid: process.pid, ...entry });
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
}

/** Rewrites this process's claim (the server learns its port only after listening). */
export async function updateClaim(dataDir: string, entry: Omit<ControlFile, 'pid'>): Promise<void> {
  await writeFile(controlFilePath(dataDir), JSON.stringify({ pid: process.pid, ...entry }), { mode: 0o600 });
}

export async function releaseDataDir(dataDir: string): Promise<void> {
  try {
    const parsed = JSON.parse(await readFile(controlFilePath(dataDir), 'utf8')) as ControlFile;
    if (parsed.pid === process.pid) await rm(controlFilePath(dataDir), { force: true });
  } catch {
    // Nothing to release.
  }
}
