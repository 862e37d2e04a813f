/** How long transient failures wait between attempts, and for how long they are retried. */
export interface BackoffOptions {
  /** The first retry waits up to this long; each later one up to twice the one before. */
  baseMs: number;
  /** No wait is longer than this (unless the provider's Retry-After asks for more). */
  maxDelayMs: number;
}

/** A reply is a live conversation: retry within seconds at first, never more than 10 minutes apart. */
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, maxDelayMs: 10 * 60_000 };

/** Deliveries with transient failures are given up (failed) this long after they were queued. */
export const DEFAULT_MAX_AGE_MS = 24 * 60 * 60_000;

/**
 * The wait before the retry that follows failed attempt `attempt` (1-based): "full jitter", a
 * uniform draw below min(maxDelay, base·2^(attempt−1)), so workers that failed together against
 * one provider outage do not come back together. A provider's Retry-After is a floor.
 *
 * @example
 * ```ts
 * retryDelayMs(3, DEFAULT_BACKOFF);            // somewhere in [0, 4000)
 * retryDelayMs(3, DEFAULT_BACKOFF, 30_000);    // 30000 or more
 * ```
 */
export function retryDelayMs(
  attempt: number,
  backoff: BackoffOptions,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(backoff.maxDelayMs, backoff.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 40));
  const jittered = Math.floor(random() * ceiling);
  return Math.max(jittered, retryAfterMs ?? 0);
}

/**
 * An HTTP Retry-After header in milliseconds: delta-seconds or an HTTP date; undefined when
 * absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
