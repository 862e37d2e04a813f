import { chartDataSchema, chartSchema, createChartSchema, storableJson } from '@syncdeck/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireTenant } from '../auth/index.ts';
import { AppError } from '../lib/errors.ts';
import { pageQuerySchema, pageSchema } from '../http/pagination.ts';
import { errorResponses, uuidParamsSchema } from '../http/schemas.ts';
import { iso } from '../lib/time.ts';
import { tenantTable } from '../synced/index.ts';
import {
  checkSpec,
  computeChart,
  findChart,
  findChartCache,
  insertChart,
  listCharts,
  storeChartCache,
} from './store.ts';

/**
 * The chart body, under core's text rule: its name and every string of its spec must be text
 * PostgreSQL can store (the spec is kept as jsonb), else 400 naming the field, never a 500.
 */
const chartBodySchema = storableJson(createChartSchema);

/** Charts over a tenant's synced tables, cached until a push to a table they read. */
export const chartRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db } = app;

  app.post(
    '/api/charts',
    {
      schema: {
        tags: ['charts'],
        summary: 'Create a chart from a declarative spec',
        description:
          '`spec`: `table` (a synced table of the tenant), `metric` `{fn: count|sum|avg|min|max, column}`, ' +
          'optional `groupBy` `{column, bucket?: day|week|month}` and `filters` `[{column, op, value}]`. ' +
          'Columns must be columns pushed for this tenant; sum, avg, min and max need a numeric one. No SQL is accepted.',
        body: chartBodySchema,
        response: { 201: chartSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { tenant } = await requireTenant(request, 'operate');
      const { name, spec } = request.body;
      const table = await tenantTable(db, tenant.id, spec.table).catch((error: unknown) => {
        if (error instanceof AppError && error.code === 'not_found')
          throw AppError.badRequest('The chart is not valid', [
            { path: 'spec.table', message: `no rows were synced to "${spec.table}" for this tenant` },
          ]);
        throw error;
      });
      checkSpec(table, spec);
      return reply.code(201).send(await db.transaction((tx) => insertChart(tx, tenant.id, name, spec)));
    },
  );

  app.get(
    '/api/charts',
    {
      schema: {
        tags: ['charts'],
        summary: "The tenant's charts, newest first, with their cache status",
        querystring: pageQuerySchema,
        response: { 200: pageSchema(chartSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'read');
      return listCharts(db, tenant.id, request.query);
    },
  );

  app.get(
    '/api/charts/:id',
    {
      schema: {
        tags: ['charts'],
        summary: 'One chart, with its cache status (`fresh` or `stale`)',
        params: uuidParamsSchema,
        response: { 200: chartSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'read');
      const chart = await findChart(db, tenant.id, request.params.id);
      if (!chart) throw AppError.notFound('Chart');
      return chart;
    },
  );

  app.get(
    '/api/charts/:id/data',
    {
      schema: {
        tags: ['charts'],
        summary: "A chart's data: the cached result, or recomputed when a push made it stale",
        description:
          '`cacheStatus` says what the cache was when asked: `fresh` (served from the cache) or `stale` ' +
          '(recomputed for this answer; the cache is fresh again unless another push arrived meanwhile).',
        params: uuidParamsSchema,
        response: { 200: chartDataSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'read');
      const chart = await findChart(db, tenant.id, request.params.id);
      const cache = chart && (await findChartCache(db, tenant.id, chart.id));
      if (!chart || !cache) throw AppError.notFound('Chart');
      if (
        cache.status === 'fresh' &&
        cache.rows &&
        cache.cachedVersion === cache.version &&
        cache.computedAt
      ) {
        return {
          chartId: chart.id,
          cacheStatus: 'fresh' as const,
          computedAt: iso(cache.computedAt),
          rows: cache.rows,
        };
      }
      const table = await tenantTable(db, tenant.id, chart.spec.table);
      try {
        checkSpec(table, chart.spec);
      } catch (error) {
        // The columns changed type since the chart was made (a column that became text, say).
        if (error instanceof AppError)
          throw new AppError(
            'chart_invalid',
            `The chart no longer fits its table: ${error.details?.[0]?.message}`,
          );
        throw error;
      }
      const rows = await computeChart(db, table, chart.spec);
      const computedAt = await storeChartCache(db, tenant.id, chart.id, cache.version, rows);
      return { chartId: chart.id, cacheStatus: 'stale' as const, computedAt: iso(computedAt), rows };
    },
  );
};
