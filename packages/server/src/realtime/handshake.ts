import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/index.ts';
import type { Config } from '../config.ts';
import { AppError } from '../lib/errors.ts';

/**
 * The subprotocol a client offers, beside `syncdeck.key.<API key>`, to authenticate a socket
 * where it cannot set `Authorization` (a browser's WebSocket). The server selects this one, so
 * the key is never echoed in the handshake's answer.
 */
export const BEARER_PROTOCOL = 'syncdeck.bearer';
export const KEY_PROTOCOL_PREFIX = 'syncdeck.key.';

/** ws's choice of subprotocol: ours when offered, otherwise none (never the first offered, a key). */
export function selectProtocol(offered: Set<string>): string | false {
  return offered.has(BEARER_PROTOCOL) ? BEARER_PROTOCOL : false;
}

/**
 * Takes an API key offered as a subprotocol and hands it to authentication as the
 * `Authorization` header it stands for, so that `auth/` checks it exactly like one. A key in
 * the URL would end up in proxy and access logs; a subprotocol is a header, logged by no one.
 */
export function keyFromProtocols(request: FastifyRequest): void {
  const header = request.headers['sec-websocket-protocol'];
  if (header === undefined) return;
  const offered = header.split(',').map((protocol) => protocol.trim());
  const keys = offered.filter((protocol) => protocol.startsWith(KEY_PROTOCOL_PREFIX));
  const marked = offered.includes(BEARER_PROTOCOL);
  if (keys.length === 0 && !marked) return;
  const path = 'headers.sec-websocket-protocol';
  if (keys.length !== 1 || !marked) {
    throw AppError.badRequest(
      `Offer the subprotocols "${BEARER_PROTOCOL}" and "${KEY_PROTOCOL_PREFIX}<API key>", once each`,
      [{ path, message: `must hold "${BEARER_PROTOCOL}" and one "${KEY_PROTOCOL_PREFIX}<API key>"` }],
    );
  }
  if (request.headers.authorization !== undefined) {
    throw AppError.badRequest('Send the API key either in Authorization or as a subprotocol, not both', [
      { path, message: 'an Authorization header was sent too' },
    ]);
  }
  // Fastify's setter adds to the headers as received rather than replacing them.
  request.headers = { authorization: `Bearer ${keys[0]!.slice(KEY_PROTOCOL_PREFIX.length)}` };
}

/**
 * Refuses a cookie-authenticated socket opened by a page of another origin (cross-site
 * WebSocket hijacking: WebSockets are not bound by CORS, and the browser sends the cookie
 * along). Allowed are this server's own origin (`PUBLIC_URL`, or the Host the request came to,
 * over either scheme, since a proxy in front may end TLS) and `CORS_ORIGINS`. Browsers always
 * send Origin on a WebSocket; a client that sends none is not a browser and is not at risk.
 * Sockets authenticated by an API key carry no ambient credential and are not checked.
 */
export function checkCookieOrigin(request: FastifyRequest, principal: Principal, config: Config): void {
  if (principal.kind !== 'user') return;
  const origin = request.headers.origin;
  if (origin === undefined) return;
  if (origin === new URL(config.publicUrl).origin || config.corsOrigins.includes(origin)) return;
  if (isOriginOfHost(origin, request.headers.host)) return;
  throw AppError.forbidden('A socket authenticated by the session cookie may not be opened from this origin');
}

function isOriginOfHost(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    const url = new URL(origin);
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      url.origin === origin &&
      url.host === host.toLowerCase()
    );
  } catch {
    return false;
  }
}
