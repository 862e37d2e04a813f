import { randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { ApiKeyLookup } from './auth/index.ts';
import { sessionRoutes } from './sessions/routes.ts';
import { botSessionRoutes } from './bot-sessions/routes.ts';
import { botRoutes } from './bots/routes.ts';
import { controlRoutes } from './control/index.ts';
import type { Config } from './config.ts';
import { conversationRoutes } from './conversations/routes.ts';
import { customerRoutes } from './customers/routes.ts';
import type { Db } from './db/index.ts';
import { healthRoutes } from './health/routes.ts';
import { inboundRoutes } from './inbound/index.ts';
import { loadSecretBox } from './lib/secret-box.ts';
import { createSerializerCompiler } from './http/serializer.ts';
import { registerCors } from './http/cors.ts';
import { frameworkError, registerErrorHandling } from './http/errors.ts';
import { registerSecurityHeaders } from './http/security-headers.ts';
import { RequestLog } from './http/request-log.ts';
import { frameFeedTail } from './realtime/frames.ts';
import { realtimeRoutes } from './realtime/routes.ts';
import { ensureConfiguredSources } from './rowsync/index.ts';
import { rowSyncRoutes } from './rowsync/routes.ts';
import { RowSyncService } from './rowsync/service.ts';
import { RowChangeWriter } from './rowsync/writer.ts';
import { chartRoutes } from './charts/routes.ts';
import { syncedRoutes } from './synced/routes.ts';
import { ingestRoutes } from './ingest/routes.ts';
import { GroupCommitWriter } from './ingest/writer.ts';
import { keyRoutes } from './keys/routes.ts';
import { orderRoutes } from './orders/routes.ts';
import { overviewRoutes } from './overview/routes.ts';
import type { OutboxOptions } from './outbox/index.ts';
import { createReplyWorker, replyRoutes } from './replies/index.ts';
import { tenantRoutes } from './tenants/routes.ts';
import { userRoutes } from './users/routes.ts';
import { webRoutes } from './web/routes.ts';

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
    config: Config;
    /** Authenticates API keys, one query for many concurrent requests. */
    apiKeys: ApiKeyLookup;
    /** Set while a PGlite server owns DATA_DIR: the secret the local CLI proves itself with. */
    controlToken: string | null;
  }
}

export interface AppOptions {
  config: Config;
  db: Db;
  logger?: FastifyBaseLogger | false;
  controlToken?: string | null;
  /** The outbox worker's timings (tests shorten them). */
  outbox?: Partial<OutboxOptions>;
}

/** Builds the HTTP app around an open database. Nothing listens until the caller says so. */
export async function buildApp({
  config,
  db,
  logger = false,
  controlToken = null,
  outbox,
}: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    bodyLimit: config.bodyLimitBytes,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    return503OnClosing: true,
    // Row-sync tenant ids and source table names come in the path, longer than Fastify's 100.
    routerOptions: { maxParamLength: 500 },
    frameworkErrors: frameworkError,
    logController: new RequestLog(),
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(createSerializerCompiler({ validate: config.validateResponses }));
  app.decorate('db', db);
  app.decorate('config', config);
  const apiKeys = new ApiKeyLookup(db);
  app.decorate('apiKeys', apiKeys);
  app.addHook('onClose', await apiKeys.start());
  app.decorate('controlToken', controlToken);
  // Bodies are JSON only: a form or text post cannot ride on a logged-in operator's cookie.
  app.removeContentTypeParser(['text/plain']);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Before any route is registered: hooks added later would miss the routes already loaded.
  registerSecurityHeaders(app);
  registerCors(app, config.corsOrigins);

  registerErrorHandling(app);
  await app.register(fastifyCookie);
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Syncdeck API',
        version: '0.1.0',
        description:
          'Every route answers errors as `{"error": {"code", "message", "details": [{"path", "message"}]}}`. ' +
          'Authenticate with `Authorization: Bearer <API key>` or the session cookie from `POST /api/auth/login`; ' +
          'choose a tenant with `X-Tenant-Id` (or `X-Restaurant-Id`) where the credential may act for several.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key, `sdk_live_…`' },
          session: { type: 'apiKey', in: 'cookie', name: 'syncdeck_session' },
        },
      },
      security: [{ apiKey: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/api/docs' });

  // The app's long-lived parts, built once here and handed to the routes that use them.
  const secrets = await loadSecretBox(config);
  await ensureConfiguredSources(db, secrets, config, app.log);
  const ingestWriter = new GroupCommitWriter(
    db,
    app.log,
    config.ingestMaxBatch,
    config.ingestConcurrentTransactions,
  );
  app.addHook('onClose', () => ingestWriter.flush());
  const rowSync = new RowSyncService(
    db,
    secrets,
    new RowChangeWriter(
      db,
      app.log,
      config.ingestMaxBatch,
      RowChangeWriter.lanesFor(db.kind, config.dbPoolSize),
    ),
  );
  const feedTail = frameFeedTail(db, app.log, config.realtime.pollMs);
  await feedTail.start();
  app.addHook('onClose', () => feedTail.stop());

  await app.register(healthRoutes);
  await app.register(sessionRoutes);
  await app.register(tenantRoutes);
  await app.register(keyRoutes);
  await app.register(userRoutes);
  await app.register(ingestRoutes, { writer: ingestWriter });
  await app.register(inboundRoutes, { writer: ingestWriter, secrets });
  await app.register(realtimeRoutes, { tail: feedTail });
  await app.register(botRoutes, { secrets });
  await app.register(botSessionRoutes);
  await app.register(conversationRoutes);
  await app.register(customerRoutes);
  await app.register(orderRoutes);
  await app.register(rowSyncRoutes, { service: rowSync, box: secrets });
  await app.register(syncedRoutes);
  await app.register(chartRoutes);
  await app.register(overviewRoutes);
  await app.register(controlRoutes);
  await app.register(replyRoutes, { secrets });

  await app.register(webRoutes);

  // Sends replies once every route is in place; stopped on close before the database closes
  // (the caller closes the db after app.close()), after the sends under way are recorded.
  const outboxWorker = createReplyWorker(db, secrets, config, app.log, outbox);
  app.addHook('onReady', () => outboxWorker.start());
  app.addHook('onClose', () => outboxWorker.stop());
  return app;
}
