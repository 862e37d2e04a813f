/**
 * Where the SDK reports what went wrong. pino's (and bunyan's) signature: an object of fields, then
 * a message. Any of the levels may be missing; `console` is adapted by {@link consoleLogger}.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * const sync = createSyncClient({ url, apiKey, logger: pino().child({ module: 'syncdeck' }) });
 * ```
 */
export interface SyncdeckLogger {
  debug?(fields: Record<string, unknown>, message: string): void;
  info?(fields: Record<string, unknown>, message: string): void;
  warn?(fields: Record<string, unknown>, message: string): void;
  error?(fields: Record<string, unknown>, message: string): void;
}

/**
 * The default logger: warnings and errors to `console`, nothing below. Pass `logger: silentLogger`
 * to hear nothing, or your own pino logger.
 *
 * @example
 * ```ts
 * createSyncClient({ url, apiKey, logger: consoleLogger });
 * ```
 */
export const consoleLogger: SyncdeckLogger = {
  warn: (fields, message) => console.warn(`[syncdeck] ${message}`, fields),
  error: (fields, message) => console.error(`[syncdeck] ${message}`, fields),
};

/**
 * A logger that says nothing; counters in `stats()` still count.
 *
 * @example
 * ```ts
 * createSyncClient({ url, apiKey, logger: silentLogger });
 * ```
 */
export const silentLogger: SyncdeckLogger = {};

/** Calls the logger without ever letting it throw into the SDK. */
export function log(
  logger: SyncdeckLogger,
  level: keyof SyncdeckLogger,
  fields: Record<string, unknown>,
  message: string,
): void {
  try {
    logger[level]?.(fields, message);
  } catch {
    // A broken logger must not break the bot.
  }
}
