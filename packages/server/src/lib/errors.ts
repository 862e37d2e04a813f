import type { ErrorCode, ErrorDetail } from '@syncdeck/core';
import type { ZodError } from 'zod';

/**
 * The one error type of Syncdeck: a failure a client should see, named by a stable code from
 * `@syncdeck/core`'s `errorCodes`. Stores and services throw it without knowing about HTTP;
 * `http/errors.ts` alone turns each code into a status and the error body.
 *
 * @example
 * ```ts
 * if (!row) throw AppError.notFound('Conversation');
 * throw new AppError('version_conflict', 'The session changed', [{ path: 'headers.if-match', message: '…' }]);
 * ```
 */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    /** Response headers the answer carries (`retry-after`, `etag`); set by routes only. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }

  static badRequest(message: string, details?: ErrorDetail[]) {
    return new AppError('bad_request', message, details);
  }
  static invalid(details: ErrorDetail[], message = 'The request is not valid') {
    return new AppError('validation_failed', message, details);
  }
  static unauthorized(message = 'Authentication required') {
    return new AppError('unauthorized', message);
  }
  static forbidden(message: string) {
    return new AppError('forbidden', message);
  }
  /** Also the answer for another tenant's object: it must look exactly like a missing one. */
  static notFound(what: string) {
    return new AppError('not_found', `${what} not found`);
  }
  static conflict(message: string, details?: ErrorDetail[]) {
    return new AppError('conflict', message, details);
  }
}

function joinPath(parts: (string | number | undefined)[]): string {
  return parts.filter((part) => part !== undefined && part !== '').join('.');
}

/**
 * One detail per wrong field, with a dotted path (`events.3.data.phone`). An unknown key is
 * its own field: its path names it, rather than the object that holds it.
 */
export function toDetails(
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
