import { isoDateSchema, OVERVIEW_MAX_DAYS, overviewSchema } from '@syncdeck/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireTenant } from '../auth/index.ts';
import { errorResponses } from '../http/schemas.ts';
import { daysBetween, readOverview } from './store.ts';

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** Today's date in a time zone, `YYYY-MM-DD`. */
export function todayIn(tz: string, now = new Date()): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: tz,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
}

function shiftDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

const querySchema = z
  .object({
    from: isoDateSchema.optional().describe('First day (inclusive); default 13 days before `to`'),
    to: isoDateSchema.optional().describe('Last day (inclusive); default today in `tz`'),
    tz: z
      .string()
      .min(1)
      .max(64)
      .refine(isTimeZone, 'must be an IANA time zone, e.g. Asia/Riyadh')
      .default('UTC')
      .describe('IANA time zone the days are counted in'),
  })
  .strict()
  .superRefine((query, ctx) => {
    if (query.from && query.to) {
      if (query.from > query.to)
        ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
      else if (daysBetween(query.from, query.to).length > OVERVIEW_MAX_DAYS)
        ctx.addIssue({
          code: 'custom',
          path: ['from'],
          message: `the range may span at most ${OVERVIEW_MAX_DAYS} days`,
        });
    }
  });

export const overviewRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db } = app;

  app.get(
    '/api/overview',
    {
      schema: {
        tags: ['overview'],
        summary: "The dashboard's overview: today's cards and per-day series for a date range",
        description:
          'Days are counted in `tz`. Cards: conversations opened today, active conversations, unread messages ' +
          '(the counters), open escalations, orders created today and their revenue (cancelled orders left out). ' +
          'Series: one entry per day from `from` to `to` (both included, at most 366 days), zeros included.',
        querystring: querySchema,
        response: { 200: overviewSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'read');
      const { tz } = request.query;
      const today = todayIn(tz);
      const to = request.query.to ?? (request.query.from ? shiftDays(request.query.from, 13) : today);
      const from = request.query.from ?? shiftDays(to, -13);
      return readOverview(db, tenant.id, { from, to, tz, today });
    },
  );
};
