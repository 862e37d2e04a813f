import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type CreatedApiKey, type Scope, scopes, type Tenant } from '@syncdeck/core';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterEach, beforeEach, inject } from 'vitest';
import { buildApp } from '../app.ts';
import { type Config, loadConfig, loadTestSettings } from '../config.ts';
import { type Db, migrate } from '../db/index.ts';
import { openPglite } from '../db/pglite.ts';
import { openPostgres } from '../db/postgres.ts';
import { initialise } from '../installation/index.ts';
import { createApiKey } from '../keys/index.ts';
import { insertTenant } from '../tenants/index.ts';
import { type ServerProcess, startServerProcess } from './process.ts';

export const testSettings = loadTestSettings();

export interface TestDatabase {
  /** What a spawned server or CLI needs to use this database: DATA_DIR or DATABASE_URL. */
  env: Record<string, string>;
  open(): Promise<Db>;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database for one test file: its own PostgreSQL database (created here,
 * dropped after), or a PGlite directory of its own, copied from the run's empty template
 * (see pglite-template.ts).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (testSettings.db === 'pglite') {
    const dir = await mkdtemp(path.join(tmpdir(), 'syncdeck-test-'));
    await cp(inject('pgliteTemplate'), path.join(dir, 'pgdata'), { recursive: true });
    return {
      env: { DATA_DIR: dir },
      open: () => openPglite(path.join(dir, 'pgdata')),
      drop: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const name = `syncdeck_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testSettings.adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(testSettings.adminUrl);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    open: async () => openPostgres(url.toString(), 5),
    async drop() {
      const client = new pg.Client({ connectionString: testSettings.adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * For a test file that runs `syncdeck start` as a process of its own: each test gets a fresh
 * database to start servers on, and after it the server still running is killed (SIGKILL)
 * and the database dropped.
 */
export function spawnedServerPerTest() {
  let database: TestDatabase | undefined;
  let running: ServerProcess | null = null;
  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    await running?.kill('SIGKILL');
    running = null;
    await database?.drop();
  });
  return {
    /** This test's database. */
    get database(): TestDatabase {
      return database!;
    },
    /** The server started last; it must still be running. */
    get server(): ServerProcess {
      if (!running) throw new Error('no server is running');
      return running;
    },
    /** Starts `syncdeck start` (with `args`, e.g. `--demo`) on this test's database. */
    async start(args: string[] = [], timeoutMs?: number): Promise<ServerProcess> {
      running = await startServerProcess(database!.env, timeoutMs, args);
      return running;
    },
    /** Stops the running server with `signal`; answers its exit code. */
    async stop(signal: NodeJS.Signals): Promise<number | null> {
      const code = await running!.kill(signal);
      running = null;
      return code;
    },
  };
}

/** A promise and the function that resolves it, for a test to hold work at a point of its choosing. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

export interface TestApp {
  app: FastifyInstance;
  db: Db;
  config: Config;
  adminToken: string;
  /** Opens another connection to the same database, as a second process would. */
  openDb(): Promise<Db>;
  adminEmail: string;
  adminPassword: string;
  createTenant(slug: string): Promise<Tenant>;
  createKey(tenantId: string, keyScopes: Scope[]): Promise<CreatedApiKey>;
  close(): Promise<void>;
}

export const TEST_ADMIN = { email: 'admin@example.com', password: 'correct horse battery' };

/** A fixed master key, so test apps never generate key files of their own. */
export const TEST_SECRET_KEY = '5ec2e7'.padEnd(64, '0');

/** The whole app on a fresh migrated, initialised database, driven with `app.inject`. */
export async function createTestApp(
  env: Record<string, string> = {},
  /** Adds test-only routes before the app is sealed. */
  setup?: (app: FastifyInstance) => void,
  /** Where the app logs; by default it does not. */
  logger?: FastifyBaseLogger,
): Promise<TestApp> {
  const database = await createTestDatabase();
  const db = await database.open();
  await migrate(db);
  const init = await initialise(db, TEST_ADMIN);
  if (!init.created) throw new Error('a fresh test database was already initialised');
  const config = loadConfig({
    DATA_DIR: path.join(tmpdir(), 'unused'),
    LOG_LEVEL: 'silent',
    SECRET_KEY: TEST_SECRET_KEY,
    VALIDATE_RESPONSES: 'true',
    ...env,
  });
  const app = await buildApp({ config, db, logger });
  setup?.(app);
  await app.ready();
  return {
    app,
    db,
    config,
    adminToken: init.apiKey.token,
    openDb: () => database.open(),
    adminEmail: TEST_ADMIN.email,
    adminPassword: TEST_ADMIN.password,
    createTenant: (slug) => insertTenant(db, { slug, name: `Tenant ${slug}` }),
    createKey: (tenantId, keyScopes) => createApiKey(db, { tenantId, name: 'test key', scopes: keyScopes }),
    async close() {
      await app.close();
      await db.close();
      await database.drop();
    },
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export const allScopes = scopes;
