import { parseArgs } from 'node:util';
import type { CliCommandName } from '../control/index.ts';

export const USAGE = `Usage: syncdeck <command> [options]

Commands:
  start [--demo]                          Start the server (PORT, DATA_DIR or DATABASE_URL from the environment);
                                          --demo also runs simulated restaurant bots through @syncdeck/sdk
  init [--email E] [--password P]         Create the schema, the platform admin and an admin API key (once)
  tenant create SLUG [--name NAME] [--currency CODE]
                                          Create a tenant (amounts in CODE, ISO 4217; default USD)
  tenant update SLUG [--name NAME] [--currency CODE]
                                          Rename a tenant or set its currency
  tenant list                             List every tenant
  key create --tenant SLUG --scopes ingest,read,operate,admin [--name NAME]
                                          Create an API key; the token is printed once
  key list --tenant SLUG                  List a tenant's API keys (never their tokens)
  user create --email E --tenant SLUG --role owner|admin|agent|viewer [--password P]
                                          Add a user to a tenant (created with a generated password if new)
  user list --tenant SLUG                 List a tenant's members
  user password --email E [--password P]  Set a user's password (a generated one if none is given) and end their sessions
  source create NAME --secret S [--schema SCHEMA]
                                          Create a row-sync source (webhook POST /api/webhooks/NAME)
  source list                             List the row-sync sources (never their secrets)
  source secret NAME --add S | --remove S Add a second secret, or remove one (rotation without downtime)
  source map NAME SOURCE_TABLE TARGET_TABLE
                                          Map a source table to a target table
  source tenants NAME                     List the source's tenant ids and the tenants they land in
  source map-tenant NAME EXTERNAL_ID TENANT
                                          Send later pushes with tenant_id EXTERNAL_ID to an existing
                                          tenant (slug or id); rows pushed before stay where they are
  source unmap-tenant NAME EXTERNAL_ID    Forget it: the next push of that id creates a new tenant

Every command takes --json for output a script can read.
`;

export class CliUsageError extends Error {}

export interface Invocation {
  name: CliCommandName;
  args: Record<string, unknown>;
  json: boolean;
}

type Values = Partial<Record<string, string | boolean>>;

interface CommandSpec {
  /** The flags the command reads; any other flag given is refused, never ignored. */
  flags: readonly string[];
  /** The positional arguments it takes, by name (all required). */
  positionals: readonly string[];
  args: (values: Values, positionals: string[]) => Record<string, unknown>;
}

const list = (text: unknown) =>
  typeof text === 'string'
    ? text
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean)
    : undefined;

const COMMANDS: Record<CliCommandName, CommandSpec> = {
  init: {
    flags: ['email', 'password'],
    positionals: [],
    args: (v) => ({ email: v.email, password: v.password }),
  },
  'tenant create': {
    flags: ['name', 'currency'],
    positionals: ['SLUG'],
    args: (v, [slug]) => ({ slug, name: v.name, currency: v.currency }),
  },
  'tenant update': {
    flags: ['name', 'currency'],
    positionals: ['SLUG'],
    args: (v, [tenant]) => ({ tenant, name: v.name, currency: v.currency }),
  },
  'tenant list': { flags: [], positionals: [], args: () => ({}) },
  'key create': {
    flags: ['tenant', 'scopes', 'name'],
    positionals: [],
    args: (v) => ({ tenant: v.tenant, scopes: list(v.scopes), name: v.name }),
  },
  'key list': { flags: ['tenant'], positionals: [], args: (v) => ({ tenant: v.tenant }) },
  'user create': {
    flags: ['email', 'tenant', 'role', 'password'],
    positionals: [],
    args: (v) => ({ email: v.email, tenant: v.tenant, role: v.role, password: v.password }),
  },
  'user list': { flags: ['tenant'], positionals: [], args: (v) => ({ tenant: v.tenant }) },
  'user password': {
    flags: ['email', 'password'],
    positionals: [],
    args: (v) => ({ email: v.email, password: v.password }),
  },
  'source create': {
    flags: ['secret', 'schema'],
    positionals: ['NAME'],
    args: (v, [name]) => ({ name, secret: v.secret, schema: v.schema }),
  },
  'source list': { flags: [], positionals: [], args: () => ({}) },
  'source secret': {
    flags: ['add', 'remove'],
    positionals: ['NAME'],
    args: (v, [name]) => ({ name, add: v.add, remove: v.remove }),
  },
  'source map': {
    flags: [],
    positionals: ['NAME', 'SOURCE_TABLE', 'TARGET_TABLE'],
    args: (_v, [name, sourceTable, targetTable]) => ({ name, sourceTable, targetTable }),
  },
  'source tenants': { flags: [], positionals: ['NAME'], args: (_v, [name]) => ({ name }) },
  'source map-tenant': {
    flags: [],
    positionals: ['NAME', 'EXTERNAL_ID', 'TENANT'],
    args: (_v, [name, externalId, tenant]) => ({ name, externalId, tenant }),
  },
  'source unmap-tenant': {
    flags: [],
    positionals: ['NAME', 'EXTERNAL_ID'],
    args: (_v, [name, externalId]) => ({ name, externalId }),
  },
};

/** Flags that mean the same to every command. */
const COMMON_FLAGS = new Set(['json', 'help', 'demo']);

/** The command line as a command and its arguments; `start`, `demo` and `help` run no command. */
export function parseInvocation(argv: string[]): Invocation | 'start' | 'demo' | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean', default: false },
      email: { type: 'string' },
      password: { type: 'string' },
      name: { type: 'string' },
      currency: { type: 'string' },
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
  const [first] = positionals;
  if (values.help || !first || first === 'help') return 'help';
  if (first === 'start') return values.demo ? 'demo' : 'start';
  const words = first === 'init' ? 1 : 2;
  const name = positionals.slice(0, words).join(' ');
  const spec = Object.hasOwn(COMMANDS, name) ? COMMANDS[name as CliCommandName] : undefined;
  if (!spec) throw new CliUsageError(`Unknown command "${positionals.join(' ')}"`);
  const rest = positionals.slice(words);
  if (rest.length !== spec.positionals.length) {
    throw new CliUsageError(
      spec.positionals.length === 0
        ? `${name} takes no arguments besides its options`
        : `${name} needs ${spec.positionals.join(' ')}`,
    );
  }
  const given = Object.keys(values).filter(
    (flag) => !COMMON_FLAGS.has(flag) && values[flag as keyof typeof values] !== undefined,
  );
  const unused = given.filter((flag) => !spec.flags.includes(flag));
  if (unused.length > 0) {
    throw new CliUsageError(`${name} does not take ${unused.map((flag) => `--${flag}`).join(', ')}`);
  }
  if (values.demo) throw new CliUsageError('--demo goes with start only');
  return { name: name as CliCommandName, json: values.json ?? false, args: spec.args(values, rest) };
}
