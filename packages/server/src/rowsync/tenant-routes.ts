import { sourceNameSchema, storableString } from '@syncdeck/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePlatformAdmin } from '../auth/index.ts';
import { errorResponses } from '../http/schemas.ts';
import { listSourceTenants, setSourceTenant, unmapSourceTenant } from './admin.ts';
import {
  mappedSourceTenantSchema,
  mapSourceTenantBodySchema,
  sourceTenantMappingSchema,
} from './mapping-schemas.ts';

const mappingParams = z.object({
  name: sourceNameSchema,
  // Checked as the webhook reads tenant_id by the admin functions; here only what a path holds.
  externalId: storableString().min(1).max(200),
});

/** Which Syncdeck tenant each of a source's tenant ids lands in (platform admin). */
export const sourceTenantRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db } = app;

  app.get(
    '/api/admin/sources/:name/tenants',
    {
      schema: {
        tags: ['row sync'],
        summary: "A source's tenant ids and the tenants they land in (platform admin)",
        params: z.object({ name: sourceNameSchema }),
        response: {
          200: z.object({ data: z.array(sourceTenantMappingSchema) }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      await requirePlatformAdmin(request);
      return { data: await listSourceTenants(db, request.params.name) };
    },
  );

  app.put(
    '/api/admin/sources/:name/tenants/:externalId',
    {
      schema: {
        tags: ['row sync'],
        summary: "Send a source's tenant id to an existing tenant (platform admin)",
        description:
          'Later pushes with this `tenant_id` land in the tenant (by slug or id). Rows pushed before stay in ' +
          'the tenant they landed in (`previousTenant`); a full sync from the source fills the new one. A tenant ' +
          'takes one tenant id per source (409 otherwise).',
        params: mappingParams,
        body: mapSourceTenantBodySchema,
        response: { 200: mappedSourceTenantSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      await requirePlatformAdmin(request);
      const { name, externalId } = request.params;
      return setSourceTenant(db, name, externalId, request.body.tenant);
    },
  );

  app.delete(
    '/api/admin/sources/:name/tenants/:externalId',
    {
      schema: {
        tags: ['row sync'],
        summary: "Forget where a source's tenant id lands (platform admin)",
        description:
          'The tenant and its rows stay; the next push with this `tenant_id` creates a new tenant, as for any ' +
          'tenant id the source never pushed.',
        params: mappingParams,
        response: { 204: z.null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await requirePlatformAdmin(request);
      await unmapSourceTenant(db, request.params.name, request.params.externalId);
      return reply.code(204).send(null);
    },
  );
};
