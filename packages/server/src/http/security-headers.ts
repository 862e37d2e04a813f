import type { FastifyInstance } from 'fastify';

/**
 * What every answer's Content-Security-Policy says unless its route sets a fuller one (the
 * dashboard's page does, web/routes.ts): no page of this server may be framed by another, which
 * is all a JSON answer or the API reference needs from it.
 */
export const DEFAULT_CSP = "frame-ancestors 'none'";

/**
 * Headers on every answer, API and dashboard alike: browsers must not guess a type other than
 * the one sent (a JSON answer holding a customer's text is never run as HTML or script), and no page may be framed, so
 * a logged-in operator cannot be tricked into clicking through an invisible dashboard.
 * `X-Frame-Options` says the same as `frame-ancestors` for browsers that predate CSP 2.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', DEFAULT_CSP);
    done(null, payload);
  });
}
