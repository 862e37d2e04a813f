import { randomBytes } from 'node:crypto';
import { signStandard } from '../rowsync/index.ts';
import { parseRetryAfter, type SendResult } from '../outbox/index.ts';
import { callProvider, EXCERPT_LIMIT } from './http.ts';

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

/** A new per-bot signing secret in the Standard Webhooks form: `whsec_` and 24 random bytes, base64. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/**
 * The Standard Webhooks headers for `body`: `webhook-signature` is `v1,` and the base64
 * HMAC-SHA256 of `id.timestamp.body`, keyed with the secret's base64 part when it is a
 * `whsec_` secret (its bytes otherwise). Row sync verifies and signs the same scheme.
 */
export function signStandardWebhook(
  body: string,
  secret: string,
  webhookId: string,
  timestampSeconds = Math.floor(Date.now() / 1000),
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return signStandard(body, secret, webhookId, timestampSeconds) as Record<
    'webhook-id' | 'webhook-timestamp' | 'webhook-signature',
    string
  >;
}

export interface WebhookDelivery {
  url: string;
  secret: string;
  /**
   * The same on every attempt of one delivery (the outbox delivery's id), so a receiver that
   * de-duplicates by webhook-id takes a retried delivery once.
   */
  webhookId: string;
  /** The exact JSON text to send and sign. */
  body: string;
}

/**
 * Posts signed events to bots' `webhookUrl`s. A 2xx is delivered; 408, 425, 429, 5xx, network
 * errors and timeouts are retried; any other answer (a 4xx, a redirect, which is not followed)
 * fails the delivery, since sending the same request again would be refused the same way.
 *
 * @example
 * ```ts
 * const sender = new WebhookSender();
 * const result = await sender.send({ url: bot.webhookUrl, secret, webhookId: delivery.id,
 *   body: JSON.stringify(event) }, signal);
 * ```
 */
export class WebhookSender {
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;

  constructor(options: { timeoutMs?: number; fetch?: typeof fetch; now?: () => number } = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
    this.fetch = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  async send(delivery: WebhookDelivery, signal?: AbortSignal): Promise<SendResult> {
    // Signed at each attempt: the timestamp must be fresh for the receiver's tolerance window.
    const headers = signStandardWebhook(
      delivery.body,
      delivery.secret,
      delivery.webhookId,
      Math.floor(this.now() / 1000),
    );
    const answer = await callProvider(
      this.fetch,
      delivery.url,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'Syncdeck-Webhooks/1' },
        body: delivery.body,
      },
      this.timeoutMs,
      signal,
    );
    if ('ok' in answer) return answer;
    const evidence = { httpStatus: answer.status, response: answer.body.slice(0, EXCERPT_LIMIT) };
    if (answer.status >= 200 && answer.status < 300) return { ok: true, ...evidence };
    const code = String(answer.status);
    const transient = [408, 425, 429].includes(answer.status) || answer.status >= 500;
    if (!transient) {
      const reason =
        answer.status >= 300 && answer.status < 400
          ? `The webhook URL redirects (HTTP ${answer.status}); redirects are not followed`
          : `The bot's webhook answered HTTP ${answer.status}`;
      return { ok: false, permanent: true, code, reason, ...evidence };
    }
    const retryAfterMs = parseRetryAfter(answer.headers.get('retry-after'));
    return {
      ok: false,
      permanent: false,
      code,
      reason: `The bot's webhook answered HTTP ${answer.status}`,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      ...evidence,
    };
  }
}
