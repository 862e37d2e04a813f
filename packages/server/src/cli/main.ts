import type { ErrorBody } from '@syncdeck/core';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { ConfigError, type Config, loadConfig } from '../config.ts';
import { migrate, openDatabase } from '../db/index.ts';
import { AppError, detailsFromZod } from '../lib/errors.ts';
import type { RunningServer } from '../server.ts';
import { describe } from './describe.ts';
import { CliUsageError, type Invocation, parseInvocation, USAGE } from './invocation.ts';
import {
  CONTROL_HEADER,
  claimDataDir,
  DataDirBusyError,
  readControlFile,
  releaseDataDir,
  runCliCommand,
} from '../control/index.ts';

const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);

/** Runs a command on the database directly, or through the PGlite server that holds DATA_DIR. */
async function execute(config: Config, invocation: Invocation): Promise<unknown> {
  if (config.databaseUrl) return runDirectly(config, invocation);
  const holder = await waitForServerPort(config.dataDir);
  if (holder) return viaServer(holder, invocation);
  await claimDataDir(config.dataDir, { role: 'cli', port: null, host: null, token: null });
  try {
    return await runDirectly(config, invocation);
  } finally {
    await releaseDataDir(config.dataDir);
  }
}

async function runDirectly(config: Config, invocation: Invocation): Promise<unknown> {
  const db = await openDatabase(config);
  try {
    await migrate(db);
    return await runCliCommand(db, invocation.name, invocation.args, config);
  } finally {
    await db.close();
  }
}

/** A server that is still starting has claimed DATA_DIR but not yet written its port. */
async function waitForServerPort(dataDir: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const holder = await readControlFile(dataDir);
    if (!holder) return null;
    if (holder.role === 'cli')
      throw new DataDirBusyError(`${dataDir} is in use by another syncdeck command (pid ${holder.pid})`);
    if (holder.port && holder.token) return { port: holder.port, host: holder.host, token: holder.token };
    if (Date.now() > deadline)
      throw new DataDirBusyError(`The Syncdeck server (pid ${holder.pid}) did not finish starting`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function viaServer(
  holder: { port: number; host: string | null; token: string },
  invocation: Invocation,
) {
  const host = !holder.host || holder.host === '0.0.0.0' || holder.host === '::' ? '127.0.0.1' : holder.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${holder.port}/api/internal/cli`;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [CONTROL_HEADER]: holder.token },
    body: JSON.stringify({ command: invocation.name, args: invocation.args }),
  });
  const body = (await response.json()) as { result: unknown } & Partial<ErrorBody>;
  if (!response.ok) {
    const error = body.error;
    throw new AppError(
      error?.code ?? 'internal_error',
      error?.message ?? `HTTP ${response.status}`,
      error?.details,
    );
  }
  return body.result;
}

function reportError(error: unknown, json: boolean): number {
  let code = 'error';
  let message = error instanceof Error ? error.message : String(error);
  let details: { path: string; message: string }[] | undefined;
  if (error instanceof AppError) {
    code = error.code;
    details = error.details;
  } else if (error instanceof ZodError) {
    code = 'validation_failed';
    message = 'The arguments are not valid';
    details = detailsFromZod(error);
  } else if (
    error instanceof CliUsageError ||
    (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
  ) {
    code = 'usage';
  } else if (error instanceof ConfigError) {
    code = 'config';
  }
  if (json) {
    out(JSON.stringify({ error: { code, message, ...(details ? { details } : {}) } }));
  } else {
    process.stderr.write(`syncdeck: ${message}\n`);
    for (const detail of details ?? []) process.stderr.write(`  --${detail.path}: ${detail.message}\n`);
    if (code === 'usage') process.stderr.write(`\n${USAGE}`);
  }
  return code === 'usage' ? 2 : 1;
}

/** Runs the demo's simulated bots against this server's own port; stopping the server stops them first. */
async function withDemo(server: RunningServer, logger: Logger, config: Config): Promise<RunningServer> {
  const { host } = config;
  const address = server.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${local.includes(':') ? `[${local}]` : local}:${port}`;
  const { startDemo } = await import('../demo/index.ts');
  const demo = await startDemo({ db: server.db, url, logger: logger.child({ module: 'demo' }), config });
  out(demo.description);
  return {
    ...server,
    async stop() {
      await demo.stop();
      await server.stop();
    },
  };
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  try {
    const invocation = parseInvocation(argv);
    if (invocation === 'help') {
      out(USAGE);
      return 0;
    }
    const config = loadConfig();
    if (invocation === 'start' || invocation === 'demo') {
      // Loaded only here: the server and its routes are most of a command's start-up time.
      const { startServer, stopOnSignals } = await import('../server.ts');
      const { createLogger } = await import('../logger.ts');
      const logger = createLogger(config);
      const server = startServer(config, out, logger);
      const starting =
        invocation === 'demo' ? server.then((running) => withDemo(running, logger, config)) : server;
      stopOnSignals(starting, config.shutdownTimeoutMs, logger);
      await starting;
      return -1;
    }
    const result = await execute(config, invocation);
    out(invocation.json ? JSON.stringify(result) : describe(invocation.name, result));
    return 0;
  } catch (error) {
    return reportError(error, json);
  }
}
