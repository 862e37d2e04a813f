import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseRetryAfter, type SendResult } from '../outbox/index.ts';
import { callProvider, EXCERPT_LIMIT, parseJson } from './http.ts';

export const DEFAULT_TELEGRAM_API_BASE_URL = 'https://api.telegram.org';
export const DEFAULT_TELEGRAM_TIMEOUT_MS = 15_000;

/** What Telegram's Bot API answers to every method. */
type TelegramAnswer =
  | { ok: true; result: unknown; description?: string }
  | {
      ok: false;
      error_code?: number;
      description?: string;
      parameters?: { retry_after?: number; migrate_to_chat_id?: number };
    };

/** Telegram's descriptions, put plainly for the transcript; matched by their start. */
const READABLE: [RegExp, string][] = [
  [/bot was blocked by the user/i, 'The customer has blocked the bot'],
  [/user is deactivated/i, "The customer's Telegram account is deleted"],
  [/bot was kicked/i, 'The bot was removed from the chat'],
  [/chat not found/i, 'Telegram has no such chat: the customer never started the bot'],
  [
    /wrong file identifier|failed to get HTTP URL content|wrong type of the web page content/i,
    'Telegram could not fetch the photo from its URL',
  ],
  [/message is too long/i, 'The message is longer than Telegram allows (4096 characters)'],
  [/unauthorized/i, 'Telegram refused the bot token'],
];

function readable(description: string | undefined, errorCode: number): string {
  for (const [pattern, reason] of READABLE) if (description && pattern.test(description)) return reason;
  return description ?? `Telegram answered ${errorCode}`;
}

/**
 * Telegram's Bot API (`{base}/bot<token>/<method>`, JSON bodies), answering in the outbox's
 * terms: ok is sent (with the message id), 429 waits `parameters.retry_after` seconds, 5xx and
 * network errors are transient, and other refusals — 403 blocked by the user, 400 chat not
 * found, 401 a revoked token — are permanent. The token never appears in a reason.
 *
 * @example
 * ```ts
 * const telegram = new TelegramClient({ baseUrl: config.telegramApiBaseUrl });
 * await telegram.setWebhook(token, `${publicUrl}/api/channels/telegram/${botId}`, secretToken);
 * const result = await telegram.sendMessage(token, chatId, 'Your order is on its way', signal);
 * ```
 */
export class TelegramClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(options: { baseUrl?: string; timeoutMs?: number; fetch?: typeof fetch } = {}) {
    this.baseUrl = (options.baseUrl ?? DEFAULT_TELEGRAM_API_BASE_URL).replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TELEGRAM_TIMEOUT_MS;
    this.fetch = options.fetch ?? fetch;
  }

  /**
   * Points the bot's updates at `url`; Telegram then sends `secretToken` in
   * X-Telegram-Bot-Api-Secret-Token on each (1-256 of A-Z, a-z, 0-9, `_`, `-`).
   */
  setWebhook(token: string, url: string, secretToken: string, signal?: AbortSignal): Promise<SendResult> {
    if (!/^[A-Za-z0-9_-]{1,256}$/.test(secretToken))
      return Promise.resolve({
        ok: false,
        permanent: true,
        code: 'invalid_secret_token',
        reason: 'A Telegram secret token is 1-256 letters, digits, _ or -',
      });
    return this.call(token, 'setWebhook', { url, secret_token: secretToken }, signal);
  }

  sendMessage(
    token: string,
    chatId: string | number,
    text: string,
    signal?: AbortSignal,
  ): Promise<SendResult> {
    return this.call(token, 'sendMessage', { chat_id: chatId, text }, signal);
  }

  /** A photo by URL, which Telegram fetches itself. */
  sendPhoto(
    token: string,
    chatId: string | number,
    photoUrl: string,
    caption?: string,
    signal?: AbortSignal,
  ): Promise<SendResult> {
    return this.call(
      token,
      'sendPhoto',
      { chat_id: chatId, photo: photoUrl, ...(caption ? { caption } : {}) },
      signal,
    );
  }

  private async call(
    token: string,
    method: string,
    body: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<SendResult> {
    if (!token)
      return {
        ok: false,
        permanent: true,
        code: 'missing_credentials',
        reason: 'The bot has no Telegram token',
      };
    const answer = await callProvider(
      this.fetch,
      `${this.baseUrl}/bot${token}/${method}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
      },
      this.timeoutMs,
      signal,
      token,
    );
    if ('ok' in answer) return answer;
    const evidence = {
      httpStatus: answer.status,
      response: answer.body.split(token).join('<token>').slice(0, EXCERPT_LIMIT),
    };
    const json = parseJson(answer.body) as TelegramAnswer | null;
    if (json?.ok === true) {
      const id = (json.result as { message_id?: unknown } | null)?.message_id;
      return { ok: true, ...(id === undefined ? {} : { providerId: String(id) }), ...evidence };
    }
    const errorCode = json?.error_code ?? answer.status;
    const code = String(errorCode);
    const reason = readable(json?.description, errorCode);
    if (errorCode === 429) {
      const seconds = json?.parameters?.retry_after;
      const retryAfterMs =
        typeof seconds === 'number' ? seconds * 1000 : parseRetryAfter(answer.headers.get('retry-after'));
      return {
        ok: false,
        permanent: false,
        code,
        reason,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        ...evidence,
      };
    }
    if (errorCode >= 500 || answer.status >= 500)
      return { ok: false, permanent: false, code, reason, ...evidence };
    return { ok: false, permanent: true, code, reason, ...evidence };
  }
}

/** A new secret for setWebhook: 32 random bytes as base64url, inside Telegram's alphabet. */
export function generateTelegramSecretToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Whether an update's X-Telegram-Bot-Api-Secret-Token is the one given to setWebhook; constant time. */
export function verifyTelegramSecretToken(
  expected: string,
  header: string | readonly string[] | undefined,
): boolean {
  const given = typeof header === 'string' ? header : header?.[0];
  if (!expected || given === undefined) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}
