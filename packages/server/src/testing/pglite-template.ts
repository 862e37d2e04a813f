import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { openPglite } from '../db/pglite.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A PGlite data directory as PGlite creates it, before any migration; test databases start as copies. */
    pgliteTemplate: string;
  }
}

/**
 * Vitest global setup of the PGlite project. Creating a PGlite data directory runs initdb in
 * WebAssembly, about 5 seconds here; copying one takes a fraction of that. So the run creates
 * one, empty, and every test database (and every spawned server's DATA_DIR) starts as a copy:
 * the same files PGlite would have written, with migrations still run by the code under test.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'syncdeck-pglite-template-'));
  const dataDir = path.join(dir, 'pgdata');
  const db = await openPglite(dataDir);
  await db.close();
  project.provide('pgliteTemplate', dataDir);
  return () => rm(dir, { recursive: true, force: true });
}
