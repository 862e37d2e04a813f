import { apiKeySchema, createApiKeySchema, createdApiKeySchema } from '@syncdeck/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireTenant } from '../auth/index.ts';
import { AppError } from '../lib/errors.ts';
import { pageQuerySchema, pageSchema } from '../http/pagination.ts';
import { errorResponses, uuidParamsSchema } from '../http/schemas.ts';
import { createApiKey, listApiKeys, revokeApiKey } from './store.ts';

export const keyRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db } = app;

  app.get(
    '/api/admin/keys',
    {
      schema: {
        tags: ['api keys'],
        summary: "The tenant's API keys, newest first; tokens are never shown again",
        querystring: pageQuerySchema,
        response: { 200: pageSchema(apiKeySchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'admin');
      return listApiKeys(db, tenant.id, request.query);
    },
  );

  app.post(
    '/api/admin/keys',
    {
      schema: {
        tags: ['api keys'],
        summary: 'Create an API key for the tenant; the answer holds the token, shown this once',
        body: createApiKeySchema,
        response: { 201: createdApiKeySchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { tenant } = await requireTenant(request, 'admin');
      const created = await createApiKey(db, {
        tenantId: tenant.id,
        name: request.body.name,
        scopes: request.body.scopes,
      });
      return reply.code(201).send(created);
    },
  );

  app.delete(
    '/api/admin/keys/:id',
    {
      schema: {
        tags: ['api keys'],
        summary: 'Revoke an API key; it stops working at once',
        params: uuidParamsSchema,
        response: { 200: apiKeySchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'admin');
      const revoked = await revokeApiKey(db, tenant.id, request.params.id);
      if (!revoked) throw AppError.notFound('API key');
      return revoked;
    },
  );
};
