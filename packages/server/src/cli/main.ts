import { parseArgs } from 'node:util';
import type { CreatedApiKey, ErrorBody, Source, Tenant } from '@syncdeck/core';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { ConfigError, type Config, loadConfig } from '../config.ts';
import { migrate, openDatabase } from '../db/index.ts';
import { AppError, detailsFromZod } from '../lib/errors.ts';
import type { InitialiseResult } from '../installation/index.ts';
import { startDemo } from '../demo/index.ts';
import { createLogger } from '../logger.ts';
import { type RunningServer, startServer, stopOnSignals } from '../server.ts';
import type { AddedMember } from '../users/index.ts';
import {
  type CliCommandName,
  CONTROL_HEADER,
  claimDataDir,
  DataDirBusyError,
  readControlFile,
  releaseDataDir,
  runCliCommand,
} from '../control/index.ts';

const USAGE = `Usage: syncdeck <command> [options]

Commands:
  start [--demo]                          Start the server (PORT, DATA_DIR or DATABASE_URL from the environment);
                                          --demo also runs simulated restaurant bots through @syncdeck/sdk
  init [--email E] [--password P]         Create the schema, the platform admin and an admin API key (once)
  tenant create SLUG [--name NAME]        Create a tenant
  key create --tenant SLUG --scopes ingest,read,operate,admin [--name NAME]
                                          Create an API key; the token is printed once
  user create --email E --tenant SLUG --role owner|admin|agent|viewer [--password P]
                                          Add a user to a tenant (created with a generated password if new)
  source create NAME --secret S [--schema SCHEMA]
                                          Create a row-sync source (webhook POST /api/webhooks/NAME)
  source secret NAME --add S | --remove S Add a second secret, or remove one (rotation without downtime)
  source map NAME SOURCE_TABLE TARGET_TABLE
                                          Map a source table to a target table

Every command takes --json for output a script can read.
`;

const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);

export class CliUsageError extends Error {}

interface Invocation {
  name: CliCommandName;
  args: Record<string, unknown>;
  json: boolean;
}

function parseInvocation(argv: string[]): Invocation | 'start' | 'demo' | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean', default: false },
      email: { type: 'string' },
      password: { type: 'string' },
      name: { type: 'string' },
      tenant: { type: 'string' },
      scopes: { type: 'string' },
      role: { type: 'string' },
      secret: { type: 'string' },
      schema: { type: 'string' },
      add: { type: 'string' },
      remove: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      demo: { type: 'boolean', default: false },
    },
  });
  const [first, second, ...rest] = positionals;
  const json = values.json ?? false;
  if (values.help || !first || first === 'help') return 'help';
  if (first === 'start') return values.demo ? 'demo' : 'start';
  if (first === 'init')
    return { name: 'init', json, args: { email: values.email, password: values.password } };
  if (first === 'tenant' && second === 'create') {
    if (!rest[0]) throw new CliUsageError('tenant create needs a SLUG');
    return { name: 'tenant create', json, args: { slug: rest[0], name: values.name } };
  }
  if (first === 'key' && second === 'create') {
    const scopes = values.scopes
      ?.split(',')
      .map((scope) => scope.trim())
      .filter(Boolean);
    return { name: 'key create', json, args: { tenant: values.tenant, scopes, name: values.name } };
  }
  if (first === 'user' && second === 'create') {
    return {
      name: 'user create',
      json,
      args: { email: values.email, tenant: values.tenant, role: values.role, password: values.password },
    };
  }
  if (first === 'source' && second === 'create') {
    if (!rest[0]) throw new CliUsageError('source create needs a NAME');
    return {
      name: 'source create',
      json,
      args: { name: rest[0], secret: values.secret, schema: values.schema },
    };
  }
  if (first === 'source' && second === 'secret') {
    if (!rest[0]) throw new CliUsageError('source secret needs a NAME');
    return { name: 'source secret', json, args: { name: rest[0], add: values.add, remove: values.remove } };
  }
  if (first === 'source' && second === 'map') {
    if (rest.length !== 3) throw new CliUsageError('source map needs NAME SOURCE_TABLE TARGET_TABLE');
    return {
      name: 'source map',
      json,
      args: { name: rest[0], sourceTable: rest[1], targetTable: rest[2] },
    };
  }
  throw new CliUsageError(`Unknown command "${positionals.join(' ')}"`);
}

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

function describe(name: CliCommandName, result: unknown): string {
  switch (name) {
    case 'init': {
      const init = result as InitialiseResult;
      if (!init.created)
        return `Already initialised (admin: ${init.email ?? 'unknown'}); nothing was created.`;
      return [
        'Initialised. Keep these; they are shown only this once:',
        `  Admin login:   ${init.email}`,
        `  Password:      ${init.password ?? '(the one you gave)'}`,
        `  Admin API key: ${init.apiKey.token}`,
      ].join('\n');
    }
    case 'tenant create': {
      const tenant = result as Tenant;
      return `Created tenant ${tenant.slug} (${tenant.name}), id ${tenant.id}`;
    }
    case 'key create': {
      const key = result as CreatedApiKey;
      return `Created API key "${key.name}" with scopes ${key.scopes.join(',')}. Token (shown once):\n${key.token}`;
    }
    case 'source create':
    case 'source secret':
    case 'source map': {
      const source = result as Source;
      const verb = { 'source create': 'Created', 'source secret': 'Updated', 'source map': 'Mapped' }[name];
      return [
        `${verb} source ${source.name} (schema ${source.schema}); webhook: POST /api/webhooks/${source.name}`,
        `  Active secrets: ${source.secrets.map((s) => s.fingerprint).join(', ')}`,
        ...source.tables.map((t) => `  ${t.sourceTable} -> ${t.targetTable}`),
      ].join('\n');
    }
    case 'user create': {
      const added = result as AddedMember;
      const lines = [
        `${added.userCreated ? 'Created user' : 'User'} ${added.member.email} is now ${added.member.role} of this tenant.`,
      ];
      if (added.generatedPassword) lines.push(`Generated password (shown once): ${added.generatedPassword}`);
      return lines.join('\n');
    }
  }
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
async function withDemo(server: RunningServer, logger: Logger, host: string): Promise<RunningServer> {
  const address = server.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${local.includes(':') ? `[${local}]` : local}:${port}`;
  const demo = await startDemo({ db: server.db, url, logger: logger.child({ module: 'demo' }) });
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
      const logger = createLogger(config);
      const server = startServer(config, out, logger);
      const starting =
        invocation === 'demo' ? server.then((running) => withDemo(running, logger, config.host)) : server;
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
