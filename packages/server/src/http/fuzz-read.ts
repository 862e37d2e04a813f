/*
 * The read side for the fuzz test (fuzz.test.ts): chart bodies to mutate, query strings for a
 * synced table and the realtime socket built from hostile pieces, and path parameters no route
 * should choke on. Query text is percent-encoded as UTF-8, and an unpaired surrogate as the
 * bytes WTF-8 gives it (which no UTF-8 decoder turns back into one).
 */
import type { Rng } from './fuzz-bodies.ts';
import { randomString } from './fuzz-bodies.ts';

/** encodeURIComponent, which throws on an unpaired surrogate; that one goes as its WTF-8 bytes. */
export function encode(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff) {
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
        .map((byte) => `%${byte.toString(16).toUpperCase()}`)
        .join('');
    } else {
      out += encodeURIComponent(char);
    }
  }
  return out;
}

/** A chart a tenant with `work_orders` (columns `amount`, `title`, `at`) could make. */
export function validChart(n: number) {
  return {
    name: `Chart ${n}`,
    spec: {
      table: 'work_orders',
      metric: n % 2 ? { fn: 'sum', column: 'amount' } : { fn: 'count' },
      groupBy: n % 3 ? { column: 'at', bucket: 'day' } : { column: 'title' },
      filters: [{ column: 'title', op: 'contains', value: 'a' }],
    },
  };
}

const OPS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'contains', 'isnull', 'notnull', 'like', ''];

function cursor(rng: Rng): string {
  const key = rng.pick([
    () => [randomString(rng), randomString(rng)],
    () => [null, randomString(rng)],
    () => [rng.pick([1, 1.5, -1e308, true]), 'r1'],
    () => [randomString(rng)],
    () => ({ a: randomString(rng) }),
  ])();
  // JSON.stringify writes an unpaired surrogate as an escape; the cursor carries it as such.
  return rng.int(8) === 0 ? randomString(rng) : Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The query string of `GET /api/synced/:table`: filters, a sort, a cursor, a limit, in any mix. */
export function syncedQuery(rng: Rng, columns: readonly string[]): string {
  const column = () => (rng.int(5) === 0 ? randomString(rng) : rng.pick(columns));
  const parts: string[] = [];
  for (let i = rng.int(4); i > 0; i--) {
    const value = rng.int(6) === 0 ? '' : `:${randomString(rng)}`;
    parts.push(`filter=${encode(`${column()}:${rng.pick(OPS)}${value}`)}`);
  }
  if (rng.int(2)) parts.push(`sort=${encode(`${rng.int(2) ? '-' : ''}${column()}`)}`);
  if (rng.int(3) === 0) parts.push(`cursor=${encode(cursor(rng))}`);
  if (rng.int(3) === 0) parts.push(`limit=${encode(String(rng.pick([0, 1, 200, 201, -1, 1.5, 'x'])))}`);
  if (rng.int(8) === 0) parts.push(`${encode(randomString(rng))}=${encode(randomString(rng))}`);
  return parts.join('&');
}

/** The query string of `GET /api/realtime`: a tenant, a since, a batch flag, repeated or not. */
export function realtimeQuery(rng: Rng, slug: string): string {
  const parts: string[] = [];
  for (let i = rng.int(3); i > 0; i--) parts.push(`tenant=${encode(rng.int(3) ? randomString(rng) : slug)}`);
  if (rng.int(2))
    parts.push(`since=${encode(String(rng.pick([0, -1, 2 ** 64, 1.5, 'x', randomString(rng)])))}`);
  if (rng.int(3) === 0) parts.push(`batch=${encode(rng.pick(['true', 'false', 'yes', randomString(rng)]))}`);
  return parts.join('&');
}

/** Path parameters with NUL, unpaired surrogates (as WTF-8) and overlong text, on routes that take them. */
export function hostilePaths(ids: { bot: string; tenant: string }): string[] {
  const params = [
    'a%00b',
    '%00',
    '%ED%A0%80',
    'a%ED%B0%80b',
    '%C0%80',
    '%FF',
    'x'.repeat(300),
    '..%2F..',
    '%25',
  ];
  return params.flatMap((p) => [
    `/api/webhooks/${p}`,
    `/api/admin/sources/${p}`,
    `/api/admin/sources/fuzz/secrets/${p}`,
    `/api/admin/bots/${p}`,
    `/api/admin/users/${p}`,
    `/api/admin/keys/${p}`,
    `/api/admin/tenants/${p}`,
    `/api/db/restaurants/${p}/bots`,
    `/api/synced/${p}`,
    `/api/charts/${p}/data`,
    `/api/webhook-logs/${p}`,
    `/api/bot-sessions/${ids.bot}/${p}`,
    `/api/bot-sessions/${p}/${p}`,
    `/api/db/conversations/${p}/messages`,
    `/api/customers/${p}`,
    `/api/orders/${p}`,
    `/api/escalations/${p}`,
    `/api/db/restaurants/${ids.tenant}/bots?x=${p}`,
  ]);
}
