/**
 * What went wrong, as a stable code a program can branch on.
 *
 * @example
 * ```ts
 * if (outcome.status === 'failed' && outcome.error.code === 'invalid_config') alertOps();
 * ```
 */
export type SyncdeckErrorCode =
  /** The client was given no usable url or key. */
  | 'invalid_config'
  /** The event or state could not be serialised (a cycle, a BigInt) or was refused as invalid. */
  | 'invalid_event'
  /** The server answered a 4xx other than 408/409/429: not retried. */
  | 'rejected'
  /** The server answered 5xx, 408 or 429. */
  | 'server_error'
  /** No answer: connection refused, reset, DNS. */
  | 'network'
  /** No answer within `timeoutMs`. */
  | 'timeout'
  /** The queue was full and this event made room for newer ones. */
  | 'queue_full'
  /** The client was closed before the event could be delivered. */
  | 'closed'
  /** Compare-and-set lost: someone else wrote first (HTTP 409). */
  | 'conflict'
  /** `maxAttempts` ran out. */
  | 'gave_up';

/**
 * The server's own `error.code` values: `errorCodes` in `@syncdeck/core`, written out here so the
 * published SDK needs no other package (errors.test.ts fails to compile when the two differ).
 */
export type ServerErrorCode =
  | 'validation_failed'
  | 'bad_request'
  | 'invalid_json'
  | 'bad_data'
  | 'chart_invalid'
  | 'unmapped_table'
  | 'unauthorized'
  | 'invalid_credentials'
  | 'forbidden'
  | 'not_found'
  | 'route_not_found'
  | 'conflict'
  | 'session_exists'
  | 'version_conflict'
  | 'body_too_large'
  | 'state_too_large'
  | 'unsupported_media_type'
  | 'upgrade_required'
  | 'too_many_attempts'
  | 'internal_error';

/**
 * The one error type of the SDK. The sync client never throws it: it reports it to the logger and
 * in `stats()`, and hands it in the outcome of a call. The session store and the row-sync sender,
 * which a caller awaits, throw it.
 *
 * @example
 * ```ts
 * try {
 *   await sessions.put('whatsapp:+966501234567', cart, { version: 3 });
 * } catch (error) {
 *   if (error instanceof SyncdeckError && error.code === 'conflict') {
 *     // someone else wrote first: read again and retry, or use sessions.update()
 *   }
 * }
 * ```
 */
export class SyncdeckError extends Error {
  override name = 'SyncdeckError';
  readonly code: SyncdeckErrorCode;
  /** The HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** The server's error body (`{error: {code, message, details}}`) or a per-event result, when there was one. */
  readonly body: unknown;

  constructor(
    code: SyncdeckErrorCode,
    message: string,
    options: { status?: number; body?: unknown; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.body = options.body;
  }

  /**
   * The server's code for the failure (`validation_failed`, `version_conflict`, …), when it
   * answered with an error body: finer than `code`, which says what the SDK made of it.
   */
  get serverCode(): ServerErrorCode | undefined {
    const code = (this.body as { error?: { code?: unknown } } | null | undefined)?.error?.code;
    return typeof code === 'string' ? (code as ServerErrorCode) : undefined;
  }

  /** Whether trying the same request again may succeed. */
  get retryable(): boolean {
    return this.code === 'server_error' || this.code === 'network' || this.code === 'timeout';
  }
}
