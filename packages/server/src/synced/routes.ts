import { syncedColumnSchema, syncedTableSchema, targetTableNameSchema } from '@syncdeck/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireTenant } from '../auth/index.ts';
import { pageQuerySchema, pageSchema } from '../http/pagination.ts';
import { errorResponses } from '../http/schemas.ts';
import { parseFilterParam, readSyncedRows, tenantTable } from './query.ts';
import { listTenantTables } from './store.ts';

const syncedQuerySchema = pageQuerySchema.extend({
  sort: z
    .string()
    .regex(/^-?[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'a column name, with - in front for descending')
    .optional()
    .describe('Column to sort by (`-column` for descending); rows with no value come last; ties by id'),
  filter: z
    .union([z.string().max(600), z.array(z.string().max(600)).max(20)])
    .optional()
    .describe(
      'Repeatable `column:op:value`, op one of eq, ne, lt, lte, gt, gte, contains (text), isnull, notnull (no value)',
    ),
});

const syncedPageSchema = pageSchema(z.record(z.string(), z.unknown())).extend({
  columns: z.array(syncedColumnSchema),
});

/** A tenant's synced tables and rows, read through its own views. */
export const syncedRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db } = app;

  app.get(
    '/api/synced',
    {
      schema: {
        tags: ['row sync'],
        summary: "The tenant's synced tables, with their columns",
        description:
          'Every table something was pushed to for this tenant, by name, with the columns its view exposes ' +
          '(as `GET /api/synced/:table` reads them) and the time of its last push.',
        response: {
          200: z.object({ data: z.array(syncedTableSchema) }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'read');
      return { data: await listTenantTables(db, tenant.id) };
    },
  );

  app.get(
    '/api/synced/:table',
    {
      schema: {
        tags: ['row sync'],
        summary: "The tenant's synced rows of a table",
        description:
          "Read through the tenant's own view: only its rows and the columns pushed for it. `columns` lists " +
          'them with their types. A table nothing was pushed to for this tenant answers 404.',
        params: z.object({ table: targetTableNameSchema }),
        querystring: syncedQuerySchema,
        response: { 200: syncedPageSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'read');
      const table = await tenantTable(db, tenant.id, request.params.table);
      const raw = request.query.filter;
      const filters = (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]).map(parseFilterParam);
      const sort = request.query.sort
        ? { column: request.query.sort.replace(/^-/, ''), descending: request.query.sort.startsWith('-') }
        : null;
      const page = await readSyncedRows(db, table, {
        filters,
        sort,
        limit: request.query.limit,
        cursor: request.query.cursor,
      });
      return { ...page, columns: [...table.columns].map(([name, type]) => ({ name, type })) };
    },
  );
};
