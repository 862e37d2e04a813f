import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

const REDACTED = '[redacted]';

/** Query parameters that carry a credential, by name lowercased without `-` and `_`. */
const SECRET_PARAMS = new Set([
  'token',
  'key',
  'apikey',
  'accesstoken',
  'ticket',
  'secret',
  'password',
  'passwd',
  'auth',
  'authorization',
  'signature',
  'sig',
  'session',
  'sessionid',
  'credential',
  'credentials',
]);
const SECRET_PARAM_ENDINGS = ['token', 'secret', 'password', 'apikey', 'ticket'];

/** An API key wherever it appears, `_` written plainly or percent-encoded. */
const API_KEY = /sdk(?:_|%5f)live(?:_|%5f)[\w%-]*/gi;

function isSecretParam(rawName: string): boolean {
  let name: string;
  try {
    name = decodeURIComponent(rawName.replace(/\+/g, ' '));
  } catch {
    name = rawName;
  }
  name = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SECRET_PARAMS.has(name) || SECRET_PARAM_ENDINGS.some((ending) => name.endsWith(ending));
}

/**
 * `url` with the credentials it may carry replaced: the values of query parameters named like
 * one (`?token=`, `?apiKey=`…) and anything shaped like an API key, in the path or the query.
 * Clients put tokens in URLs where they cannot set a header (a WebSocket, a link), and a log
 * line is kept, shipped and read far more widely than the credential may be.
 */
export function redactUrl(url: string): string {
  const withoutKeys = url.replace(API_KEY, REDACTED);
  const queryAt = withoutKeys.indexOf('?');
  if (queryAt === -1) return withoutKeys;
  const query = withoutKeys
    .slice(queryAt + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals === -1 ? pair : pair.slice(0, equals);
      return equals !== -1 && isSecretParam(name) ? `${name}=${REDACTED}` : pair;
    })
    .join('&');
  return `${withoutKeys.slice(0, queryAt)}?${query}`;
}

/**
 * The request as logged: itself, or when its URL carries a query or an API key, an object that
 * reads as the request with the URL redacted, for the `req` serializer to describe.
 */
function loggedRequest(request: FastifyRequest): FastifyRequest {
  const { url } = request;
  if (!url.includes('?') && !/sdk/i.test(url)) return request;
  return Object.create(request, { url: { value: redactUrl(url), enumerable: true } }) as FastifyRequest;
}

/**
 * One line per answer, when it has been sent: at info for an answer that went wrong, at debug
 * for a success. Fastify's default, two lines at info for every request, buried the first
 * start's printed credentials under the demo's traffic and cost a busy server two writes a
 * request; `LOG_LEVEL=debug` brings every request back. Every URL it writes is redacted.
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
    metadata?: Record<string, unknown>,
  ): void {
    if (error) {
      super.requestCompleted(error, request, reply, metadata);
      return;
    }
    const level = reply.statusCode >= 400 ? 'info' : 'debug';
    reply.log[level](
      { req: loggedRequest(request), res: reply, responseTime: Math.round(reply.elapsedTime * 10) / 10 },
      'request completed',
    );
  }

  override defaultErrorLog(
    error: Error,
    request: FastifyRequest,
    reply: FastifyReply,
    metadata?: Record<string, unknown>,
  ): void {
    super.defaultErrorLog(error, loggedRequest(request), reply, metadata);
  }

  override writeHeadError(
    error: Error,
    request: FastifyRequest,
    reply: FastifyReply,
    metadata?: Record<string, unknown>,
  ): void {
    super.writeHeadError(error, loggedRequest(request), reply, metadata);
  }

  override routeNotFound(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.info(`Route ${request.method}:${redactUrl(request.url)} not found`);
  }
}
