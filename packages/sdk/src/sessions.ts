import type { BotSession } from '@syncdeck/core';
import { SyncdeckError } from './errors.ts';
import {
  backoffMs,
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
 * Options of {@link createSessionStore}.
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
  /** Per request. Default 3000. */
  timeoutMs?: number;
  /** Attempts of a request that fails with a network error, timeout or 5xx. Default 3. */
  maxAttempts?: number;
  fetch?: FetchLike;
}

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
 * A bot's memory per customer, kept by Syncdeck: survives every restart of the bot.
 *
 * @example
 * ```ts
 * const sessions: SessionStore = createSessionStore({ url, apiKey, botId });
 * const language = (await sessions.get<{ language: string }>(chatKey))?.state.language ?? 'ar';
 * ```
 */
export interface SessionStore {
  /** The session, or null when there is none (or it expired). */
  get<State = unknown>(customerKey: string): Promise<Session<State> | null>;
  /** Writes the state; throws `SyncdeckError('conflict')` when `version` no longer matches. */
  put<State = unknown>(customerKey: string, state: State, options?: PutOptions): Promise<Session<State>>;
  /** Deletes; true when it was there. With `version`, deletes only that version (else `conflict`). */
  delete(customerKey: string, options?: { version?: number }): Promise<boolean>;
  /**
   * Read-modify-write: calls `change` with the current state (undefined when none) and writes its
   * result over that version, calling it again on a conflict — so concurrent updates never lose one.
   */
  update<State = unknown>(
    customerKey: string,
    change: (current: State | undefined, session: Session<State> | null) => State | Promise<State>,
    options?: { ttlSeconds?: number; maxAttempts?: number },
  ): Promise<Session<State>>;
}

/**
 * Creates a client of the bot session store (`/api/bot-sessions/:botId/:customerKey`): a cart,
 * a language, a step in a dialogue, kept by Syncdeck so a restart of the bot forgets nothing.
 * Unlike the sync client it is awaited and throws {@link SyncdeckError} (`conflict`, `rejected`,
 * `network`, `timeout`, `server_error`); network errors, timeouts and 5xx are retried first.
 *
 * @example
 * ```ts
 * const sessions = createSessionStore({ url: process.env.SYNCDECK_URL!, apiKey, botId });
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
export function createSessionStore(options: SessionStoreOptions): SessionStore {
  const base = parseUrl(options.url, 'url');
  if (!options.apiKey) throw new SyncdeckError('invalid_config', 'apiKey is missing');
  if (!options.botId) throw new SyncdeckError('invalid_config', 'botId is missing');
  const timeoutMs = options.timeoutMs ?? 3000;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const fetchFn: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const baseHeaders: Record<string, string> = {
    authorization: `Bearer ${options.apiKey}`,
    'user-agent': USER_AGENT,
    ...(options.tenant ? { 'x-restaurant-id': options.tenant } : {}),
  };
  const urlOf = (customerKey: string) =>
    joinPath(
      base,
      `/api/bot-sessions/${encodeURIComponent(options.botId)}/${encodeURIComponent(customerKey)}`,
    );

  async function call(method: string, customerKey: string, headers: Record<string, string>, body?: string) {
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await request(
          fetchFn,
          urlOf(customerKey),
          { method, headers: { ...baseHeaders, ...headers }, ...(body === undefined ? {} : { body }) },
          timeoutMs,
        );
        if (!retryableStatus(answer.status) || attempt >= maxAttempts) return answer;
      } catch (error) {
        if (!(error instanceof SyncdeckError) || !error.retryable || attempt >= maxAttempts) throw error;
      }
      await sleep(backoffMs(attempt, 200, 2000));
    }
  }

  function failure(answer: HttpAnswer): SyncdeckError {
    const code =
      answer.status === 409 ? 'conflict' : retryableStatus(answer.status) ? 'server_error' : 'rejected';
    return new SyncdeckError(code, `session store: ${errorMessage(answer)}`, {
      status: answer.status,
      body: answer.body,
    });
  }

  const store: SessionStore = {
    async get<State>(customerKey: string) {
      const answer = await call('GET', customerKey, {});
      if (answer.status === 404) {
        // A 404 for the bot itself is a misconfiguration, not an empty session.
        if (errorMessage(answer).startsWith('Bot')) throw failure(answer);
        return null;
      }
      if (answer.status !== 200) throw failure(answer);
      return answer.body as Session<State>;
    },

    async put<State>(customerKey: string, state: State, putOptions: PutOptions = {}) {
      let body: string;
      try {
        body = JSON.stringify({
          state,
          ...(putOptions.ttlSeconds === undefined ? {} : { ttlSeconds: putOptions.ttlSeconds }),
        });
      } catch (cause) {
        throw new SyncdeckError('invalid_event', 'the state cannot be sent as JSON', { cause });
      }
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (putOptions.version === null) headers['if-none-match'] = '*';
      else if (putOptions.version !== undefined) headers['if-match'] = `"${putOptions.version}"`;
      const answer = await call('PUT', customerKey, headers, body);
      if (answer.status !== 200 && answer.status !== 201) throw failure(answer);
      return answer.body as Session<State>;
    },

    async delete(customerKey, deleteOptions = {}) {
      const headers: Record<string, string> =
        deleteOptions.version === undefined ? {} : { 'if-match': `"${deleteOptions.version}"` };
      const answer = await call('DELETE', customerKey, headers);
      if (answer.status === 204) return true;
      if (answer.status === 404) return false;
      throw failure(answer);
    },

    async update<State>(
      customerKey: string,
      change: (current: State | undefined, session: Session<State> | null) => State | Promise<State>,
      updateOptions: { ttlSeconds?: number; maxAttempts?: number } = {},
    ) {
      const attempts = Math.max(1, updateOptions.maxAttempts ?? 10);
      for (let attempt = 1; ; attempt++) {
        const current = await store.get<State>(customerKey);
        const next = await change(current?.state, current);
        try {
          return await store.put<State>(customerKey, next, {
            version: current ? current.version : null,
            ...(updateOptions.ttlSeconds === undefined ? {} : { ttlSeconds: updateOptions.ttlSeconds }),
          });
        } catch (error) {
          if (!(error instanceof SyncdeckError) || error.code !== 'conflict' || attempt >= attempts)
            throw error;
          await sleep(backoffMs(attempt, 10, 500));
        }
      }
    },
  };
  return store;
}
