import { createTenantSchema, storableString, tenantSchema, updateTenantSchema } from '@syncdeck/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePlatformAdmin, requirePrincipal, requireScope, visibleTenant } from '../auth/index.ts';
import { pageQuerySchema, pageSchema } from '../http/pagination.ts';
import { errorResponses } from '../http/schemas.ts';
import { insertTenant, listTenants, updateTenant } from './store.ts';

const tenantParams = z.object({ id: storableString().min(1).max(100).describe('Tenant id or slug') });
// Unknown fields are refused, not silently dropped, exactly as on PATCH.
const createTenantBody = createTenantSchema.strict();

export const tenantRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db } = app;

  app.get(
    '/api/admin/tenants',
    {
      schema: {
        tags: ['tenants'],
        summary: 'Tenants the caller may act for (all of them for a platform admin)',
        querystring: pageQuerySchema,
        response: { 200: pageSchema(tenantSchema), ...errorResponses(400, 401) },
      },
    },
    async (request) => {
      const principal = await requirePrincipal(request);
      return listTenants(db, request.query, principal.platformAdmin ? 'all' : [...principal.grants.keys()]);
    },
  );

  app.post(
    '/api/admin/tenants',
    {
      schema: {
        tags: ['tenants'],
        summary: 'Create a tenant (platform admin)',
        body: createTenantBody,
        response: { 201: tenantSchema, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      await requirePlatformAdmin(request);
      return reply.code(201).send(await insertTenant(db, request.body));
    },
  );

  app.get(
    '/api/admin/tenants/:id',
    {
      schema: {
        tags: ['tenants'],
        summary: 'One tenant, by id or slug',
        params: tenantParams,
        response: { 200: tenantSchema, ...errorResponses(401, 404) },
      },
    },
    async (request) => {
      return visibleTenant(request, await requirePrincipal(request), request.params.id);
    },
  );

  app.patch(
    '/api/admin/tenants/:id',
    {
      schema: {
        tags: ['tenants'],
        summary: 'Rename a tenant or set its currency (platform admin, or an admin of that tenant)',
        params: tenantParams,
        body: updateTenantSchema,
        response: { 200: tenantSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const principal = await requirePrincipal(request);
      const tenant = await visibleTenant(request, principal, request.params.id);
      requireScope(principal, tenant.id, 'admin');
      return (await updateTenant(db, tenant.id, request.body))!;
    },
  );
};
