import type { ErrorBody, ErrorCode, ErrorDetail } from '@syncdeck/core';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ZodError } from 'zod';
import { AppError, detailsFromZod, toDetails } from '../lib/errors.ts';

/** The HTTP status of each error code: the one place where Syncdeck's errors meet HTTP. */
export const STATUS_OF: Record<ErrorCode, number> = {
  validation_failed: 400,
  bad_request: 400,
  invalid_json: 400,
  bad_data: 400,
  unauthorized: 401,
  invalid_credentials: 401,
  forbidden: 403,
  not_found: 404,
  route_not_found: 404,
  conflict: 409,
  session_exists: 409,
  version_conflict: 409,
  chart_invalid: 409,
  body_too_large: 413,
  state_too_large: 413,
  unsupported_media_type: 415,
  unmapped_table: 422,
  upgrade_required: 426,
  too_many_attempts: 429,
  internal_error: 500,
};

/** The status a response carrying this error code answers with. */
export function httpStatusOf(code: ErrorCode): number {
  return STATUS_OF[code];
}

const contextPrefix: Record<string, string | undefined> = {
  body: undefined,
  querystring: 'query',
  params: 'params',
  headers: 'headers',
};

// Fastify's own client errors, mapped to stable codes.
const fastifyClientErrors: Record<string, { status: number; code: ErrorCode }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'body_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'bad_request' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json' },
};

function body(code: ErrorCode, message: string, requestId: string, details?: ErrorDetail[]): ErrorBody {
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
      return reply
        .code(STATUS_OF[error.code])
        .send(body(error.code, error.message, request.id, error.details));
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

/**
 * Fastify's `frameworkErrors`: a path that is not valid percent-encoded UTF-8, or a path
 * parameter over `maxParamLength`, is refused before any route runs; it answers in our error
 * body like every other refusal, not in Fastify's own.
 */
export function frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  reply.code(status).send(
    body('bad_request', 'The request path is not valid', request.id, [
      { path: 'url', message: error.message },
    ]),
  );
}
