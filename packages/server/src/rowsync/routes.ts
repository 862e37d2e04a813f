import {
  createSourceSchema,
  sourceNameSchema,
  sourceSchema,
  sourceSecretSchema,
  sourceTableNameSchema,
  storableString,
  targetTableNameSchema,
  webhookLogResults,
  webhookLogSchema,
  webhookResultSchema,
} from '@syncdeck/core';
import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePlatformAdmin, requirePrincipal, requireTenant } from '../auth/index.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import { AppError } from '../lib/errors.ts';
import { pageQuerySchema, pageSchema } from '../http/pagination.ts';
import { errorResponses, uuidParamsSchema } from '../http/schemas.ts';
import { addSecret, createSource, getSource, mapSourceTable, removeSecret } from './admin.ts';
import type { RowSyncService } from './service.ts';
import { listSources, toSource } from './sources.ts';
import { sourceTenantRoutes } from './tenant-routes.ts';
import { findWebhookLog, listWebhookLogs } from './webhook-log.ts';

const sourceParams = z.object({ name: sourceNameSchema });

const logQuerySchema = pageQuerySchema.extend({
  source: sourceNameSchema.optional(),
  tenant: storableString().min(1).max(100).optional().describe('Tenant id or slug'),
  result: z.enum(webhookLogResults).optional(),
  table: storableString().max(100).optional(),
});

/** Seed 004's own path: the webhook of the source named `optiqo` (docs/rowsync.md). */
export const OPTIQO_WEBHOOK_PATH = '/api/optiqo-webhook';
export const OPTIQO_SOURCE = 'optiqo';

/** Row sync: the signed webhook, the sources' admin API and the webhook log. */
export const rowSyncRoutes: FastifyPluginAsyncZod<{ service: RowSyncService; box: SecretBox }> = async (
  app,
  { service, box },
) => {
  const { db, config } = app;

  app.decorateRequest('startedAt', 0);
  app.addHook('onRequest', async (request) => {
    request.startedAt = performance.now();
  });

  await app.register(async (hook) => {
    // The signature covers the bytes as sent: the body stays a Buffer until it is verified.
    hook.removeAllContentTypeParsers();
    hook.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: config.rowSyncBodyLimitBytes },
      (_request, body, done) => done(null, body),
    );
    const description =
      'Signed with `x-webhook-signature: sha256=<hex HMAC-SHA256 of the raw body>` or the Standard Webhooks ' +
      'headers (`webhook-id`, `webhook-timestamp` within 5 minutes, `webhook-signature: v1,<base64>`); a ' +
      'repeated `webhook-id` is acknowledged as `duplicate`; with `x-webhook-signature`, which signs only the ' +
      'body, a body already received from the source (within the retention window) is. Bodies: `{type: INSERT|UPDATE|DELETE, table, ' +
      'tenant_id, record, old_record}` or `{type: FULL_SYNC, table, tenant_id, sync_id, offset, records, ' +
      'total?, is_last?}`. An update older (`updated_at`) than the stored row is `ignored`. A full sync with ' +
      '`total` or `is_last` is staged: the old rows stay until the last batch, then the rows the run did not ' +
      'carry are removed. Without either, offset 0 clears the tenant’s table first, as senders that give neither expect. ' +
      'Text PostgreSQL cannot store (NUL, unpaired surrogates), anywhere in the body, is refused with 400.';
    const response = { 200: webhookResultSchema, ...errorResponses(400, 401, 404, 413, 422) };
    const typed = hook.withTypeProvider<ZodTypeProvider>();
    typed.post(
      '/api/webhooks/:source',
      {
        bodyLimit: config.rowSyncBodyLimitBytes,
        schema: {
          tags: ['row sync'],
          summary: 'Receive signed row changes and full syncs from a source',
          description,
          params: z.object({ source: storableString().min(1).max(100) }),
          response,
        },
      },
      async (request) => {
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        return service.receive(request.params.source, body, request.headers, request.startedAt, request.log);
      },
    );
    typed.post(
      OPTIQO_WEBHOOK_PATH,
      {
        bodyLimit: config.rowSyncBodyLimitBytes,
        schema: {
          tags: ['row sync'],
          summary: `Seed 004's path: the webhook of the source named "${OPTIQO_SOURCE}"`,
          description: `The same as \`POST /api/webhooks/${OPTIQO_SOURCE}\`. ${description}`,
          response,
        },
      },
      async (request) => {
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        return service.receive(OPTIQO_SOURCE, body, request.headers, request.startedAt, request.log);
      },
    );
  });

  app.get(
    '/api/admin/sources',
    {
      schema: {
        tags: ['row sync'],
        summary: 'Row-sync sources (platform admin)',
        response: { 200: z.object({ data: z.array(sourceSchema) }), ...errorResponses(401, 403) },
      },
    },
    async (request) => {
      await requirePlatformAdmin(request);
      return { data: (await listSources(db)).map(toSource) };
    },
  );

  app.post(
    '/api/admin/sources',
    {
      schema: {
        tags: ['row sync'],
        summary: 'Create a row-sync source (platform admin)',
        description:
          'Its schema (default: the name) is created with one table per target table. The default mapping ' +
          '(adhoc_work_orders → work_orders, attendance_events → attendance_events, zone_categories → zones) ' +
          'is included, less the target tables another source holds (a target table belongs to one source); ' +
          '`tables` adds to it, and a target table of `tables` another source holds is a 409. The secret is ' +
          'encrypted at rest and never returned.',
        body: createSourceSchema,
        response: { 201: sourceSchema, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      await requirePlatformAdmin(request);
      const source = await createSource(db, box, request.body);
      return reply.code(201).send(source);
    },
  );

  app.get(
    '/api/admin/sources/:name',
    {
      schema: {
        tags: ['row sync'],
        summary: 'One source (platform admin)',
        params: sourceParams,
        response: { 200: sourceSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      await requirePlatformAdmin(request);
      return getSource(db, request.params.name);
    },
  );

  app.post(
    '/api/admin/sources/:name/secrets',
    {
      schema: {
        tags: ['row sync'],
        summary: 'Add a secret to a source (rotation: at most two are active)',
        params: sourceParams,
        body: z.object({ secret: sourceSecretSchema }).strict(),
        response: { 200: sourceSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      await requirePlatformAdmin(request);
      const source = await addSecret(db, box, request.params.name, request.body.secret);
      return source;
    },
  );

  app.delete(
    '/api/admin/sources/:name/secrets/:fingerprint',
    {
      schema: {
        tags: ['row sync'],
        summary: 'Remove a secret of a source, by fingerprint (the last one stays)',
        params: sourceParams.extend({ fingerprint: z.string().regex(/^[0-9a-f]{16}$/) }),
        response: { 200: sourceSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      await requirePlatformAdmin(request);
      const source = await removeSecret(db, request.params.name, request.params.fingerprint);
      return source;
    },
  );

  app.put(
    '/api/admin/sources/:name/tables/:sourceTable',
    {
      schema: {
        tags: ['row sync'],
        summary: 'Map a source table to a target table',
        description: 'Creates the target table in the source’s schema. A target table belongs to one source.',
        params: sourceParams.extend({ sourceTable: sourceTableNameSchema }),
        body: z.object({ targetTable: targetTableNameSchema }).strict(),
        response: { 200: sourceSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      await requirePlatformAdmin(request);
      const source = await mapSourceTable(db, request.params.name, {
        sourceTable: request.params.sourceTable,
        targetTable: request.body.targetTable,
      });
      return source;
    },
  );

  await app.register(sourceTenantRoutes);

  app.get(
    '/api/webhook-logs',
    {
      schema: {
        tags: ['row sync'],
        summary: 'Webhook attempts, newest first',
        description:
          'A platform admin sees every attempt (also those refused before a tenant was known), or one ' +
          "tenant's with `X-Tenant-Id` or `tenant`; a tenant credential (scope `read`) sees its own tenant's.",
        querystring: logQuerySchema,
        response: { 200: pageSchema(webhookLogSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const principal = await requirePrincipal(request);
      const { tenant: named, ...query } = request.query;
      const header = request.headers['x-tenant-id'] ?? request.headers['x-restaurant-id'];
      let tenantId: string | null = null;
      if (!principal.platformAdmin || header || named) {
        tenantId = (await requireTenant(request, 'read', named)).tenant.id;
      }
      return listWebhookLogs(db, { ...query, tenantId });
    },
  );

  app.get(
    '/api/webhook-logs/:id',
    {
      schema: {
        tags: ['row sync'],
        summary: 'One webhook attempt',
        description:
          "Seen by whoever may list it: a platform admin any, a tenant credential (scope `read`) its own tenant's.",
        params: uuidParamsSchema,
        response: { 200: webhookLogSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const principal = await requirePrincipal(request);
      const header = request.headers['x-tenant-id'] ?? request.headers['x-restaurant-id'];
      const tenantId =
        principal.platformAdmin && !header ? null : (await requireTenant(request, 'read')).tenant.id;
      const entry = await findWebhookLog(db, request.params.id, tenantId);
      if (!entry) throw AppError.notFound('Webhook log entry');
      return entry;
    },
  );
};

declare module 'fastify' {
  interface FastifyRequest {
    /** When the request arrived, for the webhook log's durations. */
    startedAt: number;
  }
}
