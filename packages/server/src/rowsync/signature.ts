import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Standard Webhooks: a timestamp further than this from now is refused. */
export const TOLERANCE_SECONDS = 5 * 60;

export type SignatureHeaders = Record<string, string | string[] | undefined>;

/**
 * `deliveryKey` names what was signed, for de-duplication within the source: the Standard
 * Webhooks `webhook-id` (part of the signed content), or a hash of the body for the seed's
 * header, which signs nothing but the body — an unsigned `webhook-id` beside it is ignored, or
 * anyone holding one captured body could replay it under fresh ids, or claim a genuine
 * delivery's id ahead of it.
 */
export type Verification = { ok: true; deliveryKey: string } | { ok: false; reason: string };

function header(headers: SignatureHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The HMAC key of a Standard Webhooks signature: that spec makes a `whsec_` secret base64 key
 * material; any other secret is used as its bytes.
 */
function standardKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

/**
 * The HMAC key of `x-webhook-signature`: the secret's bytes as written, `whsec_` or not, as the
 * SDK's `RowSyncSender` and `openssl dgst -hmac "$SECRET"` sign — nothing in that scheme says
 * to decode it.
 */
function seedKey(secret: string): Buffer {
  return Buffer.from(secret, 'utf8');
}

function hmac(key: Buffer, ...parts: (string | Buffer)[]): Buffer {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/**
 * The delivery key of a body signed with `x-webhook-signature`. A Standard Webhooks id could
 * take this form too, but only the secret's holder signs either, so a collision could only
 * come from the sender itself.
 */
export function bodyDeliveryKey(body: string | Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

function equal(expected: Buffer, given: Buffer): boolean {
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * Checks the raw body against every active secret of the source, in constant time per
 * comparison. Either the seed's `x-webhook-signature` (hex HMAC-SHA256 of the body, `sha256=`
 * prefix accepted) or the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature: v1,<base64> …` over `id.timestamp.body`).
 */
export function verifySignature(
  body: Buffer,
  headers: SignatureHeaders,
  secrets: readonly string[],
  nowSeconds = Math.floor(Date.now() / 1000),
): Verification {
  const standard = header(headers, 'webhook-signature');
  if (standard !== undefined) {
    const webhookId = header(headers, 'webhook-id')?.trim() || null;
    const timestamp = header(headers, 'webhook-timestamp');
    if (!webhookId || !timestamp)
      return { ok: false, reason: 'webhook-id and webhook-timestamp are required' };
    if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'webhook-timestamp is not a Unix time' };
    if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS)
      return { ok: false, reason: 'webhook-timestamp is outside the 5-minute window' };
    const given = standard
      .split(' ')
      .map((part) => part.split(','))
      .filter(([version, value]) => version === 'v1' && value)
      .map(([, value]) => Buffer.from(value!, 'base64'));
    for (const secret of secrets) {
      const expected = hmac(standardKey(secret), `${webhookId}.${timestamp}.`, body);
      // Every candidate is compared, so the time taken does not say which one matched.
      let matched = false;
      for (const signature of given) matched = equal(expected, signature) || matched;
      if (matched) return { ok: true, deliveryKey: webhookId };
    }
    return { ok: false, reason: 'webhook-signature does not match' };
  }
  const seed = header(headers, 'x-webhook-signature')?.trim();
  if (!seed) return { ok: false, reason: 'no signature header' };
  const hex = seed.startsWith('sha256=') ? seed.slice(7) : seed;
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    return { ok: false, reason: 'x-webhook-signature is not a hex SHA-256 HMAC' };
  const given = Buffer.from(hex, 'hex');
  let matched = false;
  for (const secret of secrets) matched = equal(hmac(seedKey(secret), body), given) || matched;
  return matched
    ? { ok: true, deliveryKey: bodyDeliveryKey(body) }
    : { ok: false, reason: 'x-webhook-signature does not match' };
}

/** What a sender computes: the seed's header value. */
export function signSeed(body: string | Buffer, secret: string): string {
  return hmac(seedKey(secret), body).toString('hex');
}

/** What a sender computes: Standard Webhooks headers. */
export function signStandard(
  body: string | Buffer,
  secret: string,
  webhookId: string,
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, string> {
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': `v1,${hmac(standardKey(secret), `${webhookId}.${timestamp}.`, body).toString('base64')}`,
  };
}
