import {
  botSchema,
  botStatusInputSchema,
  createBotSchema,
  deletedBotSchema,
  restaurantBotSchema,
  storableString,
  updateBotSchema,
} from '@syncdeck/core';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePrincipal, requireScope, requireTenant, visibleTenant } from '../auth/index.ts';
import { AppError } from '../lib/errors.ts';
import { NEXT_CURSOR_HEADER, pageQuerySchema, pageSchema } from '../http/pagination.ts';
import { errorResponses, uuidParamsSchema } from '../http/schemas.ts';
import { normalisePhone } from '../lib/phones.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import {
  type BotChanges,
  deleteBot,
  findBot,
  listAllBots,
  listBots,
  listRestaurantBots,
  registerBot,
  updateBot,
} from './store.ts';

const listQuerySchema = pageQuerySchema.extend({ status: botStatusInputSchema.optional() });
const listedBotSchema = botSchema.extend({
  tenant: z
    .object({ id: z.string().uuid(), slug: z.string(), name: z.string() })
    .optional()
    .describe("The bot's tenant; given when a platform admin lists every tenant's bots"),
});

/** Whether the request names a tenant (`X-Tenant-Id` / `X-Restaurant-Id`), as `requireTenant` reads it. */
function namesTenant(request: FastifyRequest): boolean {
  const raw = request.headers['x-tenant-id'] ?? request.headers['x-restaurant-id'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return Boolean(value?.trim());
}
const restaurantParams = z.object({ id: storableString().min(1).max(100).describe('Tenant id or slug') });

/** The context a bot's auth token is sealed under: the token opens only in its own tenant. */
export function authTokenContext(tenantId: string): string {
  return `bots.auth_token:${tenantId}`;
}

export const botRoutes: FastifyPluginAsyncZod<{ secrets: SecretBox }> = async (app, { secrets }) => {
  const { db, config } = app;
  // Loaded at start-up, so an unreadable or wrong key file stops the server rather than a request.

  function e164(input: string): string {
    const number = normalisePhone(input, config.phoneDefaultRegion);
    if (!number) {
      throw AppError.badRequest('The request is not valid', [
        { path: 'whatsappNumber', message: `"${input}" is not a phone number` },
      ]);
    }
    return number;
  }

  app.get(
    '/api/admin/bots',
    {
      schema: {
        tags: ['bots'],
        summary: "The tenant's bots (senders), newest first; every tenant's for a platform admin",
        description:
          'Senders registered by an admin and those ingest met first. `status` filters (any case). ' +
          'The auth token is never shown: `hasAuthToken` says whether one is stored. A platform admin ' +
          "who names no tenant gets every tenant's bots, each with its `tenant` (id, slug, name), as a " +
          `bare JSON array (the shape seed 001's all-restaurants page maps over), the next page's cursor in \`${NEXT_CURSOR_HEADER}\`.`,
        querystring: listQuerySchema,
        response: {
          200: z.union([pageSchema(listedBotSchema), z.array(listedBotSchema)]),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      // Seed 001's all-restaurants page asks without a tenant, and maps over the answer.
      const principal = await requirePrincipal(request);
      if (principal.platformAdmin && !namesTenant(request)) {
        const page = await listAllBots(db, request.query);
        if (page.nextCursor) reply.header(NEXT_CURSOR_HEADER, page.nextCursor);
        return page.data;
      }
      const { tenant } = await requireTenant(request, 'admin');
      return listBots(db, tenant.id, request.query);
    },
  );

  app.post(
    '/api/admin/bots',
    {
      schema: {
        tags: ['bots'],
        summary: 'Register a WhatsApp sender',
        description:
          'The registration body bots already send (`senderSid`, `wabaId`, …). The number is stored as E.164; one already registered in the tenant ' +
          'answers 409. A sender ingest already met under that number is claimed and filled in. ' +
          'The auth token is encrypted at rest (AES-256-GCM) and never returned.',
        body: createBotSchema,
        response: { 201: botSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { tenant } = await requireTenant(request, 'admin');
      const body = request.body;
      const bot = await registerBot(db, tenant.id, {
        name: body.name,
        restaurantName: body.restaurantName,
        address: e164(body.whatsappNumber),
        accountSid: body.accountSid,
        sealedAuthToken: secrets.seal(body.authToken, authTokenContext(tenant.id)),
        senderSid: body.senderSid ?? null,
        wabaId: body.wabaId ?? null,
        status: body.status,
        supportContact: body.supportContact ?? null,
      });
      return reply.code(201).send(bot);
    },
  );

  app.get(
    '/api/admin/bots/:id',
    {
      schema: {
        tags: ['bots'],
        summary: 'One bot of the tenant',
        params: uuidParamsSchema,
        response: { 200: botSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'admin');
      const bot = await findBot(db, tenant.id, request.params.id);
      if (!bot) throw AppError.notFound('Bot');
      return bot;
    },
  );

  app.put(
    '/api/admin/bots/:id',
    {
      schema: {
        tags: ['bots'],
        summary: "Change a bot's fields",
        description:
          'Only the fields given change; `null` clears `senderSid`, `wabaId` or `supportContact`. ' +
          '`isActive` switches status between ACTIVE and INACTIVE. A new `authToken` replaces the stored one.',
        params: uuidParamsSchema,
        body: updateBotSchema,
        response: { 200: botSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'admin');
      const { whatsappNumber, authToken, isActive, status, ...rest } = request.body;
      const changes: BotChanges = {
        ...rest,
        status: status ?? (isActive === undefined ? undefined : isActive ? 'ACTIVE' : 'INACTIVE'),
        address: whatsappNumber === undefined ? undefined : e164(whatsappNumber),
        sealedAuthToken:
          authToken === undefined ? undefined : secrets.seal(authToken, authTokenContext(tenant.id)),
      };
      const bot = await updateBot(db, tenant.id, request.params.id, changes);
      if (!bot) throw AppError.notFound('Bot');
      return bot;
    },
  );

  app.delete(
    '/api/admin/bots/:id',
    {
      schema: {
        tags: ['bots'],
        summary: 'Delete a bot, or deactivate it when it has conversations',
        description:
          'A bot without conversations is deleted (with its sessions). One with conversations keeps its ' +
          'history: it is set INACTIVE, and the answer says so (`deleted: false, deactivated: true`).',
        params: uuidParamsSchema,
        response: { 200: deletedBotSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { tenant } = await requireTenant(request, 'admin');
      const result = await deleteBot(db, tenant.id, request.params.id);
      if (!result) throw AppError.notFound('Bot');
      return result;
    },
  );

  app.get(
    '/api/db/restaurants/:id/bots',
    {
      schema: {
        tags: ['bots'],
        summary: "A restaurant's bots, in the `/api/db` shape existing dashboards read",
        description: `Every bot of the tenant (id or slug), oldest first, at most 1000; a plain array.`,
        params: restaurantParams,
        response: { 200: z.array(restaurantBotSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const principal = await requirePrincipal(request);
      const tenant = await visibleTenant(request, principal, request.params.id);
      requireScope(principal, tenant.id, 'read');
      return listRestaurantBots(db, tenant.id);
    },
  );
};
