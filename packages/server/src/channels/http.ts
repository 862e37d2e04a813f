import type { SendResult } from '../outbox/index.ts';

/** The provider answered: its status, headers and (the start of) its body. */
export interface ProviderAnswer {
  status: number;
  headers: Headers;
  body: string;
}

/** More of an answer than any provider's error needs; a larger body is cut here. */
const BODY_LIMIT = 64 * 1024;

/** What the attempt log keeps of an answer. */
export const EXCERPT_LIMIT = 2_000;

async function readCapped(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < BODY_LIMIT) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => {});
  return Buffer.concat(chunks).toString('utf8').slice(0, BODY_LIMIT);
}

/**
 * Sends one request with a timeout (and the caller's signal, when the outbox gives one), and
 * answers what the provider said, or the transient failure that stands for no answer: a
 * network error or a timeout may have reached the provider, so either is retried.
 * `redact` is taken out of any error text (a Telegram token is part of its URLs).
 */
export async function callProvider(
  fetchImpl: typeof fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  signal?: AbortSignal,
  redact?: string,
): Promise<ProviderAnswer | Extract<SendResult, { ok: false }>> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetchImpl(url, {
      ...init,
      redirect: 'manual',
      signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
    });
    return { status: response.status, headers: response.headers, body: await readCapped(response) };
  } catch (error) {
    const err = error as Error & { cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError' || err.name === 'AbortError')
      return { ok: false, permanent: false, code: 'timeout', reason: `No answer within ${timeoutMs} ms` };
    let reason = err.cause?.message ?? err.message;
    if (redact) reason = reason.split(redact).join('<token>');
    return { ok: false, permanent: false, code: err.cause?.code ?? 'network_error', reason };
  }
}

/** The answer's body as JSON, or null when it is not JSON. */
export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}
