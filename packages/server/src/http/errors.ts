import type { ErrorBody, ErrorDetail } from '@syncdeck/core';
import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ZodError } from 'zod';

/** The one error type of Syncdeck: every failure a client should see carries its HTTP status. */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }

  static badRequest(message: string, details?: ErrorDetail[]) {
    return new AppError(400, 'bad_request', message, details);
  }
  static unauthorized(message = 'Authentication required') {
    return new AppError(401, 'unauthorized', message);
  }
  static forbidden(message: string) {
    return new AppError(403, 'forbidden', message);
  }
  /** Also the answer for another tenant's object: it must look exactly like a missing one. */
  static notFound(what: string) {
    return new AppError(404, 'not_found', `${what} not found`);
  }
  static conflict(message: string, details?: ErrorDetail[]) {
    return new AppError(409, 'conflict', message, details);
  }
}

function joinPath(parts: (string | number | undefined)[]): string {
  return parts.filter((part) => part !== undefined && part !== '').join('.');
}

/**
 * One detail per wrong field, with a dotted path (`events.3.data.phone`). An unknown key is
 * its own field: its path names it, rather than the object that holds it.
 */
function toDetails(
  issue: { path: (string | number)[]; message: string; unknownKeys?: string[] | undefined },
  prefix: string | undefined,
): ErrorDetail[] {
  if (issue.unknownKeys?.length) {
    return issue.unknownKeys.map((key) => ({
      path: joinPath([prefix, ...issue.path, key]),
      message: 'is not a known field',
    }));
  }
  return [{ path: joinPath([prefix, ...issue.path]), message: issue.message }];
}

export function detailsFromZod(error: ZodError, prefix?: string): ErrorDetail[] {
  return error.issues.flatMap((issue) =>
    toDetails(
      {
        path: issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)),
        message: issue.message,
        unknownKeys: issue.code === 'unrecognized_keys' ? issue.keys : undefined,
      },
      prefix,
    ),
  );
}

const contextPrefix: Record<string, string | undefined> = {
  body: undefined,
  querystring: 'query',
  params: 'params',
  headers: 'headers',
};

// Fastify's own client errors, mapped to stable codes.
const fastifyClientErrors: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'body_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'bad_request' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json' },
};

function body(code: string, message: string, requestId: string, details?: ErrorDetail[]): ErrorBody {
  return { error: { code, message, ...(details ? { details } : {}), requestId } };
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .send(
        body('route_not_found', `No route for ${request.method} ${request.url.split('?')[0]}`, request.id),
      );
  });

  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    if (error instanceof AppError) {
      if (error.headers) reply.headers(error.headers);
      return reply.code(error.status).send(body(error.code, error.message, request.id, error.details));
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const prefix = contextPrefix[(error as FastifyError).validationContext ?? 'body'];
      const details = error.validation.flatMap((issue) =>
        toDetails(
          {
            path: issue.instancePath.split('/').filter(Boolean),
            message: issue.message ?? 'is not valid',
            unknownKeys: issue.keyword === 'unrecognized_keys' ? (issue.params.keys as string[]) : undefined,
          },
          prefix,
        ),
      );
      return reply.code(400).send(body('validation_failed', 'The request is not valid', request.id, details));
    }
    if (error instanceof ZodError) {
      return reply
        .code(400)
        .send(body('validation_failed', 'The request is not valid', request.id, detailsFromZod(error)));
    }
    const fastifyError = error as FastifyError;
    const known = fastifyError.code ? fastifyClientErrors[fastifyError.code] : undefined;
    if (known) return reply.code(known.status).send(body(known.code, fastifyError.message, request.id));
    if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
      return reply
        .code(400)
        .send(body('invalid_json', `Body is not valid JSON: ${error.message}`, request.id));
    }
    if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      return reply.code(fastifyError.statusCode).send(body('bad_request', fastifyError.message, request.id));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send(body('internal_error', 'Something went wrong on our side', request.id));
  });
}
