import { createMemberSchema, memberSchema, updateMemberSchema } from '@syncdeck/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireTenant } from '../auth/index.ts';
import { AppError } from '../lib/errors.ts';
import { pageQuerySchema, pageSchema } from '../http/pagination.ts';
import { errorResponses, uuidParamsSchema } from '../http/schemas.ts';
import { addMember, listMembers, removeMember, updateMemberRole } from './store.ts';

export const userRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db } = app;

  app.get(
    '/api/admin/users',
    {
      schema: {
        tags: ['users'],
        summary: "The tenant's members, by email",
        querystring: pageQuerySchema,
        response: { 200: pageSchema(memberSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'admin');
      return listMembers(db, tenant.id, request.query);
    },
  );

  app.post(
    '/api/admin/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Add a member (creating the user if new; a generated password is returned once)',
        body: createMemberSchema,
        response: {
          201: z.object({
            member: memberSchema,
            userCreated: z.boolean(),
            generatedPassword: z.string().optional(),
          }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const { tenant } = await requireTenant(request, 'admin');
      const added = await db.transaction((tx) => addMember(tx, { tenantId: tenant.id, ...request.body }));
      return reply.code(201).send(added);
    },
  );

  app.put(
    '/api/admin/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: "Change a member's role",
        params: uuidParamsSchema,
        body: updateMemberSchema,
        response: { 200: memberSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'admin');
      const member = await updateMemberRole(db, tenant.id, request.params.id, request.body.role);
      if (!member) throw AppError.notFound('User');
      return member;
    },
  );

  app.delete(
    '/api/admin/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Remove a member from the tenant; their access ends at once',
        params: uuidParamsSchema,
        response: { 204: z.null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { tenant } = await requireTenant(request, 'admin');
      if (!(await removeMember(db, tenant.id, request.params.id))) throw AppError.notFound('User');
      return reply.code(204).send(null);
    },
  );
};
