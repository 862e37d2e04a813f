import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseRetryAfter, type SendResult } from '../outbox/index.ts';
import { callProvider, EXCERPT_LIMIT, parseJson } from './http.ts';

export const DEFAULT_TWILIO_API_BASE_URL = 'https://api.twilio.com';
export const DEFAULT_TWILIO_TIMEOUT_MS = 15_000;

/** A webhook's POST parameters as parsed from its form body; a repeated name holds every value. */
export type TwilioParams = Record<string, string | readonly string[] | undefined>;

/** What Twilio signs: the URL, then each parameter's name and value, sorted by name. */
function signedContent(url: string, params: TwilioParams): string {
  let content = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    if (value === undefined) continue;
    // As Twilio's own libraries do for a repeated name: each distinct value, sorted.
    const values = typeof value === 'string' ? [value] : [...new Set(value)].sort();
    for (const one of values) content += name + one;
  }
  return content;
}

/** The X-Twilio-Signature Twilio sends for `url` and `params`: base64 HMAC-SHA1 keyed with the auth token. */
export function twilioSignature(authToken: string, url: string, params: TwilioParams): string {
  return createHmac('sha1', authToken).update(signedContent(url, params), 'utf8').digest('base64');
}

/**
 * The URL as given, and with the scheme's default port added or removed: Twilio signs some
 * requests with `:443` in the URL and some without, and its libraries accept either.
 */
function urlVariants(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [url];
  }
  const standard = parsed.protocol === 'https:' ? '443' : parsed.protocol === 'http:' ? '80' : null;
  // WHATWG URL drops a default port, so '' means the URL had none or had the default one.
  if (!standard || parsed.port !== '') return [url];
  const credentials = parsed.username
    ? `${parsed.username}${parsed.password ? `:${parsed.password}` : ''}@`
    : '';
  const start = `${parsed.protocol}//${credentials}${parsed.hostname}`;
  const rest = parsed.pathname + parsed.search + parsed.hash;
  return [...new Set([url, `${start}${rest}`, `${start}:${standard}${rest}`])];
}

/**
 * Checks a webhook's `X-Twilio-Signature` as Twilio computes it: HMAC-SHA1, keyed with the
 * sender's auth token, of the full public URL Twilio called (query string included) followed by
 * every POST parameter's name and value sorted by name, base64. Constant-time comparison.
 *
 * @example
 * ```ts
 * const ok = verifyTwilioSignature(authToken, `${publicUrl}/api/channels/twilio/whatsapp`, request.body,
 *   request.headers['x-twilio-signature']);
 * ```
 */
export function verifyTwilioSignature(
  authToken: string,
  url: string,
  params: TwilioParams,
  signatureHeader: string | readonly string[] | undefined,
): boolean {
  const header = typeof signatureHeader === 'string' ? signatureHeader : signatureHeader?.[0];
  if (!authToken || !header) return false;
  const given = Buffer.from(header.trim(), 'utf8');
  let matched = false;
  // Every variant is compared, so the time taken does not say which one matched.
  for (const variant of urlVariants(url)) {
    const expected = Buffer.from(twilioSignature(authToken, variant, params), 'utf8');
    matched = (expected.length === given.length && timingSafeEqual(expected, given)) || matched;
  }
  return matched;
}

/**
 * Readable reasons for Twilio's common error codes (the REST API's answers, and `ErrorCode` on
 * status callbacks), for the transcript and the delivery log.
 */
export const TWILIO_ERROR_REASONS: Readonly<Record<string, string>> = {
  '20003': "Twilio refused the sender's credentials (Account SID or auth token)",
  '20404': 'Twilio has no such resource: check the Account SID',
  '20429': 'Twilio is rate-limiting this account',
  '21211': "The customer's number is not a valid phone number",
  '21212': "The sender's number is not a valid phone number",
  '21408': "Sending to this customer's region is not enabled on the Twilio account",
  '21606': 'The sender number cannot send messages to this destination',
  '21610': 'The customer has unsubscribed (replied STOP) from this sender',
  '21614': "The customer's number is not a mobile number",
  '21617': 'The message is longer than 1600 characters',
  '21620': 'The media URL is not valid or not reachable',
  '63003': 'The customer is not reachable on WhatsApp at this number',
  '63007': 'Twilio has no WhatsApp sender for this From address',
  '63016': "Outside WhatsApp's 24-hour window: the customer must write first, or a template is needed",
  '63018': 'WhatsApp is rate-limiting this sender',
  '30003': "The customer's handset is unreachable",
  '30005': "The customer's number is unknown or no longer exists",
  '30006': 'The number is a landline or cannot receive messages',
  '30007': 'The carrier filtered the message',
  '30008': 'Delivery failed for an unknown reason',
};

/** Twilio codes that mean "later", though their HTTP status is a 4xx. */
const TRANSIENT_CODES = new Set(['20429', '63018']);

/** The readable reason for a Twilio error code, else Twilio's own message. */
export function twilioErrorReason(code: string | number | null | undefined, message?: string): string {
  const known = code === null || code === undefined ? undefined : TWILIO_ERROR_REASONS[String(code)];
  return known ?? message ?? (code ? `Twilio error ${code}` : 'Twilio refused the message');
}

export interface TwilioMessage {
  accountSid: string;
  authToken: string;
  /** `whatsapp:+15550001111` for WhatsApp, as Twilio addresses channels. */
  from: string;
  to: string;
  body: string;
  mediaUrl?: string | readonly string[];
  /** Where Twilio posts the message's status changes. */
  statusCallback?: string;
}

export interface TwilioClientOptions {
  /** TWILIO_API_BASE_URL: a local stand-in in tests and the demo. */
  baseUrl?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * Twilio's Messages API, answering in the outbox's terms: 201 is sent (with the message SID),
 * 429, 5xx, network errors and timeouts are transient, and other refusals are permanent with
 * Twilio's error code and a readable reason.
 *
 * @example
 * ```ts
 * const twilio = new TwilioClient({ baseUrl: config.twilioApiBaseUrl });
 * const result = await twilio.sendMessage({ accountSid, authToken, from: 'whatsapp:+15550001111',
 *   to: 'whatsapp:+15550002222', body: 'Your order is on its way' }, signal);
 * ```
 */
export class TwilioClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(options: TwilioClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? DEFAULT_TWILIO_API_BASE_URL).replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TWILIO_TIMEOUT_MS;
    this.fetch = options.fetch ?? fetch;
  }

  async sendMessage(message: TwilioMessage, signal?: AbortSignal): Promise<SendResult> {
    if (!message.accountSid || !message.authToken)
      return {
        ok: false,
        permanent: true,
        code: 'missing_credentials',
        reason: 'The sender has no Twilio Account SID or auth token',
      };
    const form = new URLSearchParams({ To: message.to, From: message.from, Body: message.body });
    const media = message.mediaUrl === undefined ? [] : [message.mediaUrl].flat();
    for (const url of media) form.append('MediaUrl', url);
    if (message.statusCallback) form.set('StatusCallback', message.statusCallback);
    const credentials = Buffer.from(`${message.accountSid}:${message.authToken}`).toString('base64');
    const answer = await callProvider(
      this.fetch,
      `${this.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(message.accountSid)}/Messages.json`,
      {
        method: 'POST',
        headers: {
          authorization: `Basic ${credentials}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
      },
      this.timeoutMs,
      signal,
    );
    if ('ok' in answer) return answer;
    const evidence = { httpStatus: answer.status, response: answer.body.slice(0, EXCERPT_LIMIT) };
    const json = parseJson(answer.body) as { sid?: unknown; code?: unknown; message?: unknown } | null;
    if (answer.status >= 200 && answer.status < 300) {
      return { ok: true, ...(typeof json?.sid === 'string' ? { providerId: json.sid } : {}), ...evidence };
    }
    const code = json?.code === undefined || json.code === null ? String(answer.status) : String(json.code);
    const reason =
      json?.code === undefined && typeof json?.message !== 'string'
        ? `Twilio answered HTTP ${answer.status}`
        : twilioErrorReason(code, typeof json?.message === 'string' ? json.message : undefined);
    const transient = answer.status === 429 || answer.status >= 500 || TRANSIENT_CODES.has(code);
    if (!transient) return { ok: false, permanent: true, code, reason, ...evidence };
    const retryAfterMs = parseRetryAfter(answer.headers.get('retry-after'));
    return {
      ok: false,
      permanent: false,
      code,
      reason,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      ...evidence,
    };
  }
}
