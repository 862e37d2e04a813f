/*
 * Malformed request bodies for the fuzz test (fuzz.test.ts): mutations of a valid body (fields
 * replaced, dropped, nulled, wrapped in arrays, unknown keys added) with hostile values (NUL and
 * unpaired surrogates, deep nesting, numbers JSON cannot round-trip, huge strings), all drawn
 * from a seeded PRNG so every run sends the same bodies.
 */
/** mulberry32: small, fast and good enough to pick mutations. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}
export type Rng = ReturnType<typeof prng>;

// JSON.stringify cannot write these; they are spliced into the body's text instead.
const RAW = {
  '"@@huge"': () => '1e999',
  '"@@negHuge"': () => '-1e999',
  '"@@bigInt"': () => '123456789012345678901234567890',
  '"@@tiny"': () => '1e-400',
  // Nesting too deep to build as a value here: JSON.stringify would overflow the test's stack.
  '"@@deepArray"': (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`,
  '"@@deepObject"': (depth: number) => `${'{"k":'.repeat(depth / 4)}"\\u0000"${'}'.repeat(depth / 4)}`,
} as const;

const STRINGS = [
  '',
  ' ',
  'a\u0000b',
  '\u0000',
  'x\uD800',
  '\uDC00y',
  '\uDBFF\uDBFF',
  '👍🏽',
  'تمام',
  'null',
  '0',
  '-1',
  '1e309',
  "'; DROP TABLE customers; --",
  '%_\\',
  '__proto__',
  'whatsapp:+966501234567',
  '+966 50 123 4567',
  '2026-02-30T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999999+14:00',
  '00000000-0000-0000-0000-000000000000',
  'ACdeadbeef',
  'ACTIVE',
  'admin',
];

export function randomString(rng: Rng): string {
  const roll = rng.int(10);
  if (roll === 0) return 'x'.repeat(rng.pick([201, 1001, 10_001, 70_000]));
  if (roll === 1)
    return Array.from({ length: rng.int(40) }, () => String.fromCharCode(rng.int(0x10000))).join('');
  return rng.pick(STRINGS);
}

function deep(rng: Rng, depth: number): unknown {
  let value: unknown = rng.pick(['leaf', 1, null, 'a\u0000']);
  for (let i = 0; i < depth; i++) value = rng.int(2) ? [value] : { k: value };
  return value;
}

function randomValue(rng: Rng, level = 0): unknown {
  switch (rng.int(level > 2 ? 6 : 9)) {
    case 0:
      return randomString(rng);
    case 1:
      return rng.pick([0, -1, 1.5, -0.0001, 2 ** 53 + 2, Number.MAX_VALUE, -Number.MAX_VALUE]);
    case 2:
      return rng.pick(Object.keys(RAW)).slice(1, -1);
    case 3:
      return rng.pick([true, false, null]);
    case 4:
      return randomString(rng);
    case 5:
      return rng.int(4) === 0 ? deep(rng, rng.pick([70, 500])) : {};
    case 6:
      return Array.from({ length: rng.int(4) }, () => randomValue(rng, level + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: rng.int(4) }, () => [
          randomString(rng).slice(0, 20),
          randomValue(rng, level + 1),
        ]),
      );
  }
}

/** Every path to a value inside `value`, objects and arrays included. */
function pathsOf(value: unknown, path: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(path);
  if (value && typeof value === 'object' && path.length < 6) {
    for (const [key, child] of Object.entries(value))
      pathsOf(child, [...path, Array.isArray(value) ? Number(key) : key], out);
  }
  return out;
}

/** One to three random changes to a valid body: a field replaced, dropped, nulled, wrapped or added. */
export function mutate(rng: Rng, valid: unknown): unknown {
  if (rng.int(12) === 0) return randomValue(rng);
  let body = structuredClone(valid);
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const paths = pathsOf(body);
    const path = rng.pick(paths);
    const replace = (f: (old: unknown) => unknown) => {
      if (path.length === 0) {
        body = f(body);
        return;
      }
      let parent = body as Record<string | number, unknown>;
      for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
      const last = path[path.length - 1]!;
      if (f === drop) delete parent[last];
      else parent[last] = f(parent[last]);
    };
    const drop = () => undefined;
    const action = rng.int(7);
    if (action === 0) replace(drop);
    else if (action === 1) replace(() => null);
    else if (action === 2) replace((old) => [old]);
    else if (action === 3)
      replace((old) =>
        old && typeof old === 'object' ? { ...old, [randomString(rng)]: randomValue(rng) } : old,
      );
    else if (action === 4) replace(() => randomString(rng));
    else replace(() => randomValue(rng));
  }
  return body;
}

/** The body's JSON text, with the markers `mutate` placed spliced in; `depth` is how deep the deep ones nest. */
export function serialise(body: unknown, depth = 20_000): string {
  let text = JSON.stringify(body) ?? 'null';
  for (const [marker, raw] of Object.entries(RAW)) text = text.replaceAll(marker, raw(depth));
  return text;
}
