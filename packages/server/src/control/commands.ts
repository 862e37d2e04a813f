import {
  createSourceSchema,
  createTenantSchema,
  updateTenantSchema,
  sourceNameSchema,
  sourceSecretSchema,
  tableMappingSchema,
  emailSchema,
  passwordSchema,
  roleSchema,
  scopeSchema,
  tenantSlugSchema,
} from '@syncdeck/core';
import { z } from 'zod';
import { loadSecretBox } from '../lib/secret-box.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/index.ts';
import { AppError } from '../lib/errors.ts';
import { initialise } from '../installation/index.ts';
import type { Page, PageQuery } from '../lib/pagination.ts';
import {
  addSecret,
  createSource,
  listSources,
  listSourceTenants,
  mapSourceTable,
  removeSecret,
  setSourceTenant,
  toSource,
  unmapSourceTenant,
} from '../rowsync/index.ts';
import { createApiKey, listApiKeys } from '../keys/index.ts';
import { findTenant, insertTenant, listTenants, updateTenant } from '../tenants/index.ts';
import { addMember, listMembers, setPassword } from '../users/index.ts';

/**
 * The CLI's commands that touch the database, as plain functions of (db, args). The CLI runs
 * them itself, or — when a PGlite server holds DATA_DIR — asks that server to run the very same.
 */
export const cliCommands = {
  init: {
    args: z.object({ email: emailSchema.optional(), password: passwordSchema.optional() }),
    run: (db: Db, args: { email?: string | undefined; password?: string | undefined }) =>
      initialise(db, args),
  },
  'tenant list': {
    args: z.object({}),
    run: (db: Db) => everyPage((page) => listTenants(db, page, 'all')),
  },
  'tenant create': {
    args: createTenantSchema,
    run: (db: Db, args: z.infer<typeof createTenantSchema>) => insertTenant(db, args),
  },
  'tenant update': {
    args: updateTenantSchema
      .extend({ tenant: tenantSlugSchema.or(z.string().uuid()) })
      .refine((a) => a.name !== undefined || a.currency !== undefined, {
        message: 'give --name or --currency',
        path: ['currency'],
      }),
    run: async (db: Db, args: z.infer<typeof updateTenantSchema> & { tenant: string }) => {
      const { tenant: named, ...patch } = args;
      return (await updateTenant(db, (await requireTenantNamed(db, named)).id, patch))!;
    },
  },
  'key create': {
    args: z.object({
      tenant: tenantSlugSchema.or(z.string().uuid()),
      scopes: z.array(scopeSchema).min(1),
      name: z.string().trim().min(1).max(200).default('API key'),
    }),
    run: async (db: Db, args: { tenant: string; scopes: z.infer<typeof scopeSchema>[]; name: string }) => {
      const tenant = await requireTenantNamed(db, args.tenant);
      return createApiKey(db, { tenantId: tenant.id, name: args.name, scopes: args.scopes });
    },
  },
  'key list': {
    args: z.object({ tenant: tenantSlugSchema.or(z.string().uuid()) }),
    run: async (db: Db, args: { tenant: string }) => {
      const tenant = await requireTenantNamed(db, args.tenant);
      return everyPage((page) => listApiKeys(db, tenant.id, page));
    },
  },
  'user list': {
    args: z.object({ tenant: tenantSlugSchema.or(z.string().uuid()) }),
    run: async (db: Db, args: { tenant: string }) => {
      const tenant = await requireTenantNamed(db, args.tenant);
      return everyPage((page) => listMembers(db, tenant.id, page));
    },
  },
  'user password': {
    args: z.object({ email: emailSchema, password: passwordSchema.optional() }),
    run: async (db: Db, args: { email: string; password?: string | undefined }) => {
      const changed = await setPassword(db, args.email, args.password);
      if (!changed) throw AppError.notFound(`User "${args.email}"`);
      return changed;
    },
  },
  'user create': {
    args: z.object({
      email: emailSchema,
      tenant: tenantSlugSchema.or(z.string().uuid()),
      role: roleSchema,
      password: passwordSchema.optional(),
    }),
    run: async (
      db: Db,
      args: {
        email: string;
        tenant: string;
        role: z.infer<typeof roleSchema>;
        password?: string | undefined;
      },
    ) => {
      const tenant = await requireTenantNamed(db, args.tenant);
      return db.transaction(async (tx) => {
        const added = await addMember(tx, { ...args, tenantId: tenant.id });
        // An existing user's password is not changed by adding them to a tenant: say so rather
        // than ignore --password (the transaction rolls the membership back).
        if (!added.userCreated && args.password !== undefined) {
          throw AppError.conflict(
            `User ${args.email} already exists; --password was not applied. Use "user password" to change it`,
            [{ path: 'password', message: 'the user already exists' }],
          );
        }
        return added;
      });
    },
  },
  'source list': {
    args: z.object({}),
    run: async (db: Db) => (await listSources(db)).map(toSource),
  },
  'source create': {
    args: createSourceSchema,
    run: async (db: Db, args: z.infer<typeof createSourceSchema>, config: CommandConfig) =>
      createSource(db, await loadSecretBox(config), args),
  },
  'source secret': {
    args: z
      .object({
        name: sourceNameSchema,
        add: sourceSecretSchema.optional(),
        remove: z.string().min(1).optional(),
      })
      .refine((a) => (a.add === undefined) !== (a.remove === undefined), {
        message: 'give exactly one of --add or --remove',
        path: ['add'],
      }),
    run: async (
      db: Db,
      args: { name: string; add?: string | undefined; remove?: string | undefined },
      config: CommandConfig,
    ) =>
      args.add !== undefined
        ? addSecret(db, await loadSecretBox(config), args.name, args.add)
        : removeSecret(db, args.name, args.remove!),
  },
  'source map': {
    args: tableMappingSchema.extend({ name: sourceNameSchema }),
    run: (db: Db, args: { name: string; sourceTable: string; targetTable: string }) =>
      mapSourceTable(db, args.name, { sourceTable: args.sourceTable, targetTable: args.targetTable }),
  },
  // The tenant id and tenant are checked by the row-sync functions, as the admin API's are.
  'source tenants': {
    args: z.object({ name: sourceNameSchema }),
    run: (db: Db, args: { name: string }) => listSourceTenants(db, args.name),
  },
  'source map-tenant': {
    args: z.object({ name: sourceNameSchema, externalId: z.string(), tenant: z.string() }),
    run: (db: Db, args: { name: string; externalId: string; tenant: string }) =>
      setSourceTenant(db, args.name, args.externalId, args.tenant),
  },
  'source unmap-tenant': {
    args: z.object({ name: sourceNameSchema, externalId: z.string() }),
    run: async (db: Db, args: { name: string; externalId: string }) => {
      await unmapSourceTenant(db, args.name, args.externalId);
      return { source: args.name, externalId: args.externalId };
    },
  },
} as const;

/** What commands that seal secrets need: the master key, or where it is kept. */
export type CommandConfig = Pick<Config, 'secretKey' | 'dataDir'>;

export type CliCommandName = keyof typeof cliCommands;

export function isCliCommandName(name: string): name is CliCommandName {
  return Object.hasOwn(cliCommands, name);
}

/** Validates `args` for `name` and runs it: one entry point for the CLI and the control route. */
export async function runCliCommand(
  db: Db,
  name: CliCommandName,
  args: unknown,
  config: CommandConfig,
): Promise<unknown> {
  const command = cliCommands[name];
  const parsed = command.args.parse(args);
  return (command.run as (db: Db, args: unknown, config: CommandConfig) => Promise<unknown>)(
    db,
    parsed,
    config,
  );
}

async function requireTenantNamed(db: Db, idOrSlug: string) {
  const tenant = await findTenant(db, idOrSlug);
  if (!tenant) throw AppError.notFound(`Tenant "${idOrSlug}"`);
  return tenant;
}

/** Every row of a keyset-paged list, for commands that print a whole list. */
async function everyPage<T>(fetch: (page: PageQuery) => Promise<Page<T>>): Promise<T[]> {
  const rows: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetch({ limit: 200, cursor });
    rows.push(...page.data);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return rows;
}
