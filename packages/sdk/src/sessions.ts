import type { BotSession } from '@syncdeck/core';
import { bindMethods } from './bind.ts';
import { SyncdeckError } from './errors.ts';
import {
  backoffMs,
  defaultFetch,
  type FetchLike,
  type HttpAnswer,
  errorMessage,
  joinPath,
  parseUrl,
  request,
  retryableStatus,
  sleep,
  USER_AGENT,
} from './http.ts';

/**
 * Options of the {@link SessionStore}; the defaults of the optional ones are in
 * {@link DEFAULT_SESSION_STORE_OPTIONS}.
 *
 * @example
 * ```ts
 * const options: SessionStoreOptions = { url: 'https://hub.example.com', apiKey, botId: bot.id };
 * ```
 */
export interface SessionStoreOptions {
  /** The Syncdeck server, e.g. `https://hub.example.com`. */
  url: string;
  /** A tenant API key with scope `ingest`. */
  apiKey: string;
  /** The bot's id in Syncdeck (a UUID, from the bot registry). */
  botId: string;
  /** Sent as `X-Restaurant-Id`, for keys that may act for several tenants. */
  tenant?: string;
  /** Per request. Default 3000 ms. */
  timeoutMs?: number;
  /** Attempts of a request that fails with a network error, timeout or 5xx. Default 3. */
  maxAttempts?: number;
  /** Replaces the global `fetch`. */
  fetch?: FetchLike;
}

/**
 * The defaults of the {@link SessionStore}'s options: 3 s per request, 3 attempts.
 *
 * @example
 * ```ts
 * DEFAULT_SESSION_STORE_OPTIONS.maxAttempts; // 3
 * ```
 */
export const DEFAULT_SESSION_STORE_OPTIONS: Readonly<
  Required<Pick<SessionStoreOptions, 'timeoutMs' | 'maxAttempts'>>
> = Object.freeze({ timeoutMs: 3000, maxAttempts: 3 });

/** Attempts of `update` when it keeps losing the race. */
const UPDATE_ATTEMPTS = 10;

/**
 * A stored session; `state` is whatever the bot put.
 *
 * @example
 * ```ts
 * const session: Session<{ items: string[] }> | null = await sessions.get(chatKey);
 * ```
 */
export type Session<State = unknown> = Omit<BotSession, 'state'> & { state: State };

/**
 * Options of {@link SessionStore.put}.
 *
 * @example
 * ```ts
 * await sessions.put(chatKey, cart, { version: session.version, ttlSeconds: 86_400 });
 * ```
 */
export interface PutOptions {
  /**
   * Compare-and-set: write only over this version (`If-Match`); `null` writes only when there is
   * no session (`If-None-Match: *`); omitted writes unconditionally. A lost race throws `conflict`.
   */
  version?: number | null;
  /** Expire this long after the write; omitted: kept until deleted. */
  ttlSeconds?: number;
}

/**
 * A client of the bot session store (`/api/bot-sessions/:botId/:customerKey`): a bot's memory per
 * customer — a cart, a language, a step in a dialogue — kept by Syncdeck, so a restart of the bot
 * forgets nothing. Unlike the sync client it is awaited and throws {@link SyncdeckError}
 * (`conflict`, `rejected`, `network`, `timeout`, `server_error`); network errors, timeouts and 5xx
 * are retried first. The constructor throws `invalid_config` without a usable url, key or bot id.
 * Methods are bound: `const { get } = sessions` works.
 *
 * @example
 * ```ts
 * const sessions = new SessionStore({ url: process.env.SYNCDECK_URL!, apiKey, botId });
 *
 * // Add an item to the cart; a concurrent writer makes it re-read and try again.
 * const session = await sessions.update<{ items: string[] }>(
 *   'whatsapp:+966501234567',
 *   (cart) => ({ items: [...(cart?.items ?? []), 'Shawarma'] }),
 *   { ttlSeconds: 24 * 3600 },
 * );
 * console.log(session.version, session.state.items);
 * ```
 */
export class SessionStore {
  private readonly base: URL;
  private readonly botId: string;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly fetch: FetchLike;
  private readonly headers: Record<string, string>;

  constructor(options: SessionStoreOptions) {
    this.base = parseUrl(options.url, 'url');
    if (!options.apiKey) throw new SyncdeckError('invalid_config', 'apiKey is missing');
    if (!options.botId) throw new SyncdeckError('invalid_config', 'botId is missing');
    this.botId = options.botId;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_SESSION_STORE_OPTIONS.timeoutMs;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_SESSION_STORE_OPTIONS.maxAttempts);
    this.fetch = options.fetch ?? defaultFetch;
    this.headers = {
      authorization: `Bearer ${options.apiKey}`,
      'user-agent': USER_AGENT,
      ...(options.tenant ? { 'x-restaurant-id': options.tenant } : {}),
    };
    bindMethods(this, ['get', 'put', 'delete', 'update']);
  }

  /**
   * The session, or null when there is none (or it expired).
   *
   * @example
   * ```ts
   * const language = (await sessions.get<{ language: string }>(chatKey))?.state.language ?? 'ar';
   * ```
   */
  async get<State = unknown>(customerKey: string): Promise<Session<State> | null> {
    const answer = await this.call('GET', customerKey, {});
    if (answer.status === 404) {
      // A 404 for the bot itself is a misconfiguration, not an empty session.
      if (errorMessage(answer).startsWith('Bot')) throw failure(answer);
      return null;
    }
    if (answer.status !== 200) throw failure(answer);
    return answer.body as Session<State>;
  }

  /**
   * Writes the state; throws `SyncdeckError('conflict')` when `version` no longer matches.
   *
   * @example
   * ```ts
   * await sessions.put(chatKey, cart, { version: session?.version ?? null, ttlSeconds: 86_400 });
   * ```
   */
  async put<State = unknown>(
    customerKey: string,
    state: State,
    options: PutOptions = {},
  ): Promise<Session<State>> {
    let body: string;
    try {
      body = JSON.stringify({
        state,
        ...(options.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds }),
      });
    } catch (cause) {
      throw new SyncdeckError('invalid_event', 'the state cannot be sent as JSON', { cause });
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.version === null) headers['if-none-match'] = '*';
    else if (options.version !== undefined) headers['if-match'] = `"${options.version}"`;
    const answer = await this.call('PUT', customerKey, headers, body);
    if (answer.status !== 200 && answer.status !== 201) throw failure(answer);
    return answer.body as Session<State>;
  }

  /**
   * Deletes; true when it was there. With `version`, deletes only that version (else `conflict`).
   *
   * @example
   * ```ts
   * await sessions.delete(chatKey); // the customer finished: forget the cart
   * ```
   */
  async delete(customerKey: string, options: { version?: number } = {}): Promise<boolean> {
    const headers: Record<string, string> =
      options.version === undefined ? {} : { 'if-match': `"${options.version}"` };
    const answer = await this.call('DELETE', customerKey, headers);
    if (answer.status === 204) return true;
    if (answer.status === 404) return false;
    throw failure(answer);
  }

  /**
   * Read-modify-write: calls `change` with the current state (undefined when none) and writes its
   * result over that version, calling it again on a conflict (up to `maxAttempts`, default 10) —
   * so concurrent updates never lose one.
   *
   * @example
   * ```ts
   * await sessions.update<{ n: number }>(chatKey, (state) => ({ n: (state?.n ?? 0) + 1 }));
   * ```
   */
  async update<State = unknown>(
    customerKey: string,
    change: (current: State | undefined, session: Session<State> | null) => State | Promise<State>,
    options: { ttlSeconds?: number; maxAttempts?: number } = {},
  ): Promise<Session<State>> {
    const attempts = Math.max(1, options.maxAttempts ?? UPDATE_ATTEMPTS);
    for (let attempt = 1; ; attempt++) {
      const current = await this.get<State>(customerKey);
      const next = await change(current?.state, current);
      try {
        return await this.put<State>(customerKey, next, {
          version: current ? current.version : null,
          ...(options.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds }),
        });
      } catch (error) {
        if (!(error instanceof SyncdeckError) || error.code !== 'conflict' || attempt >= attempts)
          throw error;
        await sleep(backoffMs(attempt, 10, 500));
      }
    }
  }

  /** One request, retried on network errors, timeouts and 5xx; any final status is returned. */
  private async call(method: string, customerKey: string, headers: Record<string, string>, body?: string) {
    const url = joinPath(
      this.base,
      `/api/bot-sessions/${encodeURIComponent(this.botId)}/${encodeURIComponent(customerKey)}`,
    );
    for (let attempt = 1; ; attempt++) {
      try {
        const init = {
          method,
          headers: { ...this.headers, ...headers },
          ...(body === undefined ? {} : { body }),
        };
        const answer = await request(this.fetch, url, init, this.timeoutMs);
        if (!retryableStatus(answer.status) || attempt >= this.maxAttempts) return answer;
      } catch (error) {
        if (!(error instanceof SyncdeckError) || !error.retryable || attempt >= this.maxAttempts) throw error;
      }
      await sleep(backoffMs(attempt, 200, 2000));
    }
  }
}

/** The error for a status the store did not expect. */
function failure(answer: HttpAnswer): SyncdeckError {
  const code =
    answer.status === 409 ? 'conflict' : retryableStatus(answer.status) ? 'server_error' : 'rejected';
  return new SyncdeckError(code, `session store: ${errorMessage(answer)}`, {
    status: answer.status,
    body: answer.body,
  });
}

/**
 * Creates a {@link SessionStore}: the same as `new SessionStore(options)`, kept for the bots that
 * already call it. Throws `invalid_config` without a usable url, key or bot id.
 *
 * @example
 * ```ts
 * const sessions = createSessionStore({ url: process.env.SYNCDECK_URL!, apiKey, botId });
 * const cart = (await sessions.get<Cart>('whatsapp:+966501234567'))?.state;
 * ```
 */
export function createSessionStore(options: SessionStoreOptions): SessionStore {
  return new SessionStore(options);
}
