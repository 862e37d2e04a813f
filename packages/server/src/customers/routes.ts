import { customerProfileSchema, customerSchema, storableString } from '@syncdeck/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireTenant } from '../auth/index.ts';
import { AppError } from '../lib/errors.ts';
import { pageQuerySchema, pageSchema } from '../http/pagination.ts';
import { errorResponses, uuidParamsSchema } from '../http/schemas.ts';
import { searchPatterns } from './search.ts';
import { customerProfile, listCustomers } from './store.ts';

const customersQuery = pageQuerySchema.extend({
  q: storableString().trim().min(1).max(200).optional().describe('Name or phone (any spelling)'),
});

export const customerRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db, config } = app;

  app.get(
    '/api/customers',
    {
      schema: {
        tags: ['customers'],
        summary: "The tenant's customers, newest first; `q` searches names and phones",
        querystring: customersQuery,
        response: { 200: pageSchema(customerSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'read');
      const { q, ...page } = request.query;
      const search = q ? searchPatterns(q, config.phoneDefaultRegion) : undefined;
      return listCustomers(db, tenant.id, { ...page, search });
    },
  );

  app.get(
    '/api/customers/:id',
    {
      schema: {
        tags: ['customers'],
        summary: 'A customer in full: identities, conversations, orders, escalations and a timeline',
        description:
          'Conversations, orders and escalations: the newest 50 of each (the lists filter by `customerId` for more). The timeline (newest 100 entries) is assembled from the stored rows, so it reaches back past the change feed’s retention window.',
        params: uuidParamsSchema,
        response: { 200: customerProfileSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'read');
      const profile = await customerProfile(db, tenant.id, request.params.id);
      if (!profile) throw AppError.notFound('Customer');
      return profile;
    },
  );
};
