import type { FastifyInstance, FastifyReply } from 'fastify';

/** What a dashboard on another origin may send: its key, a JSON body, the tenant and conditions. */
export const CORS_ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'X-Tenant-Id',
  'X-Restaurant-Id',
  'If-Match',
  'If-None-Match',
];
export const CORS_ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
/** Response headers a script on another origin may read: the next page, versions, the request's id. */
export const CORS_EXPOSED_HEADERS = ['X-Next-Cursor', 'ETag', 'X-Request-Id'];
/** How long a browser may reuse a preflight's answer (Chromium caps it at 2 hours). */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * CORS for the exact origins in `CORS_ORIGINS`, and for nothing when it is empty. Written here
 * rather than taken from @fastify/cors: an exact list and no credentials need a set lookup and
 * four headers, and this keeps what is allowed readable in one place.
 *
 * Credentials mode is never allowed (no `Access-Control-Allow-Credentials`): a dashboard on
 * another origin authenticates with an API key in `Authorization`, so the operator's session
 * cookie is never sent or honoured from it, and a listed origin that were compromised could not
 * act with a logged-in operator's session. An origin not listed gets no CORS headers at all, so
 * the browser keeps the answer from its script.
 */
export function registerCors(app: FastifyInstance, origins: readonly string[]): void {
  if (origins.length === 0) return;
  const allowed = new Set(origins);

  app.addHook('onRequest', (request, reply, done) => {
    // Every answer depends on Origin once some origins are allowed: caches must key on it.
    addVary(reply, 'Origin');
    const origin = request.headers.origin;
    if (origin !== undefined && allowed.has(origin)) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-expose-headers', CORS_EXPOSED_HEADERS.join(', '));
    }
    done();
  });

  // A preflight is an OPTIONS request no route answers; it carries no credential, so it is
  // answered here for any path, like the routes it asks about would be.
  app.route({
    method: 'OPTIONS',
    url: '*',
    schema: { hide: true },
    handler: async (request, reply) => {
      const origin = request.headers.origin;
      if (origin !== undefined && allowed.has(origin) && request.headers['access-control-request-method']) {
        reply.header('access-control-allow-methods', CORS_ALLOWED_METHODS.join(', '));
        reply.header('access-control-allow-headers', CORS_ALLOWED_HEADERS.join(', '));
        reply.header('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS));
        addVary(reply, 'Access-Control-Request-Method');
        addVary(reply, 'Access-Control-Request-Headers');
      }
      return reply.code(204).send();
    },
  });
}

function addVary(reply: FastifyReply, name: string): void {
  const current = reply.getHeader('vary');
  if (current === undefined) {
    reply.header('vary', name);
    return;
  }
  const names = String(current)
    .split(',')
    .map((part) => part.trim().toLowerCase());
  if (!names.includes(name.toLowerCase()) && !names.includes('*'))
    reply.header('vary', `${current}, ${name}`);
}
