import fastifyWebsocket from '@fastify/websocket';
import { realtimeCloseCodes, storableString } from '@syncdeck/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePrincipal, requireTenant } from '../auth/index.ts';
import { AppError, detailsFromZod } from '../lib/errors.ts';
import { errorResponses } from '../http/schemas.ts';
import { RealtimeClient } from './client.ts';
import { checkCookieOrigin, keyFromProtocols, selectProtocol } from './handshake.ts';
import type { FeedTail } from '../feed/index.ts';
import type { FrameRun } from './frames.ts';

const querySchema = z
  .object({
    since: z.coerce.number().int().min(0).optional(),
    // Looked up by id or slug: text PostgreSQL cannot take is refused here (core's text rule).
    tenant: storableString().min(1).max(200).optional(),
    batch: z.enum(['true', 'false']).default('false'),
  })
  .strict();

const description = `A WebSocket following the tenant's change feed. Authenticate with \`Authorization: Bearer <key
with scope read>\`; or, where a client cannot set headers, with the same key offered as two subprotocols,
\`syncdeck.bearer\` and \`syncdeck.key.<key>\` (the server selects \`syncdeck.bearer\` and never echoes the key); or
with the session cookie, refused (403) to a page of another origin than the server's own or one in \`CORS_ORIGINS\`.
Never a token in the URL. A browser that cannot send \`X-Tenant-Id\` chooses its tenant with \`?tenant=\`
(id or slug). The first frame is \`{"type":"hello","seq"}\` with the feed's current seq. With \`?since=SEQ\`
every later change of the tenant follows, once and in order, then live ones.
Changes are \`{"seq","type","data"}\` with \`data\` shaped as the REST object; with \`?batch=true\` each frame
is instead a JSON array of them, every change a read of the feed brought at once (a commit's changes arrive
together; a replay comes in arrays of up to 500), so a client handles one message per commit, not per change.
\`{"type":"heartbeat","seq"}\` comes while idle (and a ping a client must answer); \`{"type":"reset","seq"}\` means \`since\` is older than the kept
feed: reload, then follow from that seq. Close code ${realtimeCloseCodes.tooSlow}: the client read too slowly;
reconnect with \`since\` = the last seq received. A plain HTTP request answers 426.`;

export const realtimeRoutes: FastifyPluginAsyncZod<{ tail: FeedTail<FrameRun> }> = async (app, { tail }) => {
  const { config, db } = app;
  const clients = new Set<RealtimeClient>();

  await app.register(fastifyWebsocket, {
    // Without handleProtocols, ws would select the first subprotocol offered: possibly the key.
    options: { maxPayload: 4096, handleProtocols: selectProtocol },
    preClose(done) {
      for (const socket of this.websocketServer.clients) {
        socket.close(realtimeCloseCodes.goingAway, 'server shutting down: reconnect with since');
      }
      done();
    },
  });
  const heartbeat = setInterval(() => {
    for (const client of clients) if (!client.heartbeat()) client.terminate();
  }, config.realtime.heartbeatMs);
  heartbeat.unref();
  app.addHook('onClose', async () => {
    clearInterval(heartbeat);
  });

  for (const url of ['/api/realtime', '/ws']) {
    app.route({
      method: 'GET',
      url,
      schema: {
        tags: ['realtime'],
        summary: 'Live changes over a WebSocket, resumable by seq',
        description,
        querystring: querySchema,
        response: errorResponses(400, 401, 403, 404, 426),
      },
      // Authorised before the upgrade: a refused client gets a plain HTTP error answer.
      preValidation: async (request) => {
        // preValidation runs before Fastify validates the query: parse it here, or a repeated
        // or unstorable `tenant` would reach the tenant lookup as it came.
        const parsed = querySchema.safeParse(request.query);
        if (!parsed.success) throw AppError.invalid(detailsFromZod(parsed.error, 'query'));
        const query = parsed.data;
        keyFromProtocols(request);
        checkCookieOrigin(request, await requirePrincipal(request), config);
        request.realtimeTenantId = (await requireTenant(request, 'read', query.tenant)).tenant.id;
      },
      handler: async () => {
        throw new AppError('upgrade_required', 'This route speaks WebSocket only');
      },
      wsHandler: (socket, request) => {
        const client = new RealtimeClient(socket, request.realtimeTenantId!, tail, db, {
          maxBufferedBytes: config.realtime.maxBufferedBytes,
          batch: (request.query as z.infer<typeof querySchema>).batch === 'true',
        });
        clients.add(client);
        socket.on('close', () => clients.delete(client));
        // Clients only listen; anything they send is ignored.
        socket.on('message', () => {});
        const { since } = request.query as z.infer<typeof querySchema>;
        client.start(since ?? null).catch((error) => {
          request.log.error({ err: error }, 'realtime replay failed');
          socket.close(1011, 'internal error: reconnect with since');
        });
      },
    });
  }
};

declare module 'fastify' {
  interface FastifyRequest {
    realtimeTenantId?: string;
  }
}
