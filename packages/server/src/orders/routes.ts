import {
  escalationSchema,
  escalationStatuses,
  escalationWithCustomerSchema,
  orderWithCustomerSchema,
  orderStatusSchema,
  resolveEscalationSchema,
} from '@syncdeck/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireTenant } from '../auth/index.ts';
import { retryingTransaction } from '../db/retry.ts';
import { AppError } from '../lib/errors.ts';
import { pageQuerySchema, pageSchema } from '../http/pagination.ts';
import { errorResponses, uuidParamsSchema } from '../http/schemas.ts';
import { getEscalation, getOrder, listEscalations, listOrders, resolveEscalation } from './store.ts';

const instant = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value))
  .optional();

const ordersQuery = pageQuerySchema
  .extend({
    status: orderStatusSchema.optional(),
    from: instant.describe('Created at or after (ISO 8601)'),
    to: instant.describe('Created before (ISO 8601)'),
    customerId: z.string().uuid().optional(),
  })
  .superRefine((query, ctx) => {
    if (query.from && query.to && query.from >= query.to)
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be later than from' });
  });

const escalationsQuery = pageQuerySchema.extend({
  status: z.enum(escalationStatuses).optional(),
  customerId: z.string().uuid().optional(),
});

export const orderRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db } = app;

  app.get(
    '/api/orders',
    {
      schema: {
        tags: ['orders'],
        summary: "The tenant's orders, newest first, each with its status history and customer's name",
        description: 'Filter by `status`, creation time (`from` inclusive, `to` exclusive) and `customerId`.',
        querystring: ordersQuery,
        response: { 200: pageSchema(orderWithCustomerSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'read');
      return listOrders(db, tenant.id, request.query);
    },
  );

  app.get(
    '/api/orders/:id',
    {
      schema: {
        tags: ['orders'],
        summary: 'One order with its status history',
        params: uuidParamsSchema,
        response: { 200: orderWithCustomerSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'read');
      const order = await getOrder(db, tenant.id, request.params.id);
      if (!order) throw AppError.notFound('Order');
      return order;
    },
  );

  app.get(
    '/api/escalations',
    {
      schema: {
        tags: ['escalations'],
        summary: "The tenant's escalations, newest first, each with its customer's name",
        querystring: escalationsQuery,
        response: { 200: pageSchema(escalationWithCustomerSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'read');
      return listEscalations(db, tenant.id, request.query);
    },
  );

  app.get(
    '/api/escalations/:id',
    {
      schema: {
        tags: ['escalations'],
        summary: 'One escalation',
        params: uuidParamsSchema,
        response: { 200: escalationWithCustomerSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'read');
      const escalation = await getEscalation(db, tenant.id, request.params.id);
      if (!escalation) throw AppError.notFound('Escalation');
      return escalation;
    },
  );

  app.post(
    '/api/escalations/:id/resolve',
    {
      schema: {
        tags: ['escalations'],
        summary: 'Resolve an open escalation as an operator (scope `operate`)',
        description:
          "Records who resolved it, hands the customer's active conversation back to the bot, and appends `escalation.resolved` and `conversation.updated` to the change feed, in one transaction — exactly what an ingested `escalation.resolved` does. An escalation already resolved answers 409.",
        params: uuidParamsSchema,
        body: resolveEscalationSchema.nullish(),
        response: { 200: escalationSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const { tenant, principal } = await requireTenant(request, 'operate');
      const operator = { kind: principal.kind, id: principal.id, name: principal.name };
      const outcome = await retryingTransaction(db, (tx) =>
        resolveEscalation(tx, tenant.id, request.params.id, operator, request.body?.resolutionSummary),
      );
      if (outcome.status === 'not_found') throw AppError.notFound('Escalation');
      if (outcome.status === 'already_resolved') {
        throw AppError.conflict('The escalation is already resolved', [
          { path: 'params.id', message: `resolved at ${outcome.escalation.resolvedAt}` },
        ]);
      }
      return outcome.escalation;
    },
  );
};
