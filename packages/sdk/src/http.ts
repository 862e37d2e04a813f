import { SyncdeckError } from './errors.ts';

export const SDK_VERSION = '0.1.0';
export const USER_AGENT = `syncdeck-sdk/${SDK_VERSION}`;

/**
 * A `fetch` the caller may replace (tests, proxies, other runtimes).
 *
 * @example
 * ```ts
 * import { fetch as undiciFetch, ProxyAgent } from 'undici';
 * const dispatcher = new ProxyAgent('http://proxy:3128');
 * createSyncClient({ url, apiKey, fetch: (input, init) => undiciFetch(input, { ...init, dispatcher }) });
 * ```
 */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** The global `fetch`, looked up at each call, so one installed after the client was made is used. */
export const defaultFetch: FetchLike = (input, init) => globalThis.fetch(input, init);

/** Parses a base URL, or throws `invalid_config`. */
export function parseUrl(url: string | undefined, what: string): URL {
  if (!url) throw new SyncdeckError('invalid_config', `${what} is missing`);
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(parsed.protocol);
    return parsed;
  } catch (cause) {
    throw new SyncdeckError('invalid_config', `${what} "${url}" is not an http(s) URL`, { cause });
  }
}

/** `base` with `path` appended to its pathname (a trailing slash on `base` is ignored). */
export function joinPath(base: URL, path: string): string {
  const url = new URL(base);
  url.pathname = url.pathname.replace(/\/+$/, '') + path;
  return url.toString();
}

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP date; undefined when absent or unreadable.
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** The parsed JSON body; the text when it is not JSON; null when empty. */
  body: unknown;
}

/**
 * One request with a deadline that covers the body too. Network failures and the deadline become
 * `SyncdeckError`s (`network`, `timeout`); any HTTP status is answered, not thrown.
 */
export async function request(
  fetchFn: FetchLike,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  outer?: AbortSignal,
): Promise<HttpAnswer> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onOuterAbort = () => controller.abort();
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  try {
    const response = await fetchFn(url, { ...init, signal: controller.signal });
    const text = await response.text();
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status: response.status, headers: response.headers, body };
  } catch (cause) {
    if (timedOut) throw new SyncdeckError('timeout', `no answer within ${timeoutMs} ms`, { cause });
    if (outer?.aborted) throw new SyncdeckError('closed', 'the client was closed', { cause });
    const reason = cause instanceof Error ? (causeMessage(cause) ?? cause.message) : String(cause);
    throw new SyncdeckError('network', `request failed: ${reason}`, { cause });
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuterAbort);
  }
}

/** undici reports "fetch failed" and hides the reason (ECONNREFUSED …) in `cause`. */
function causeMessage(error: Error): string | undefined {
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) return (cause as { code?: string }).code ?? cause.message;
  return undefined;
}

/** The server's error message from `{error: {message}}`, else a generic one. */
export function errorMessage(answer: HttpAnswer): string {
  const error = (answer.body as { error?: { message?: unknown } } | null)?.error;
  return typeof error?.message === 'string' ? error.message : `HTTP ${answer.status}`;
}

/** Whether an HTTP status is worth retrying: 5xx, 408 and 429. */
export function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** Exponential backoff with full jitter over the upper half: [d/2, d), d = base·2^(attempt-1), capped. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
