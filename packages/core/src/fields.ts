/*
 * The rules every request field shares, whatever the route.
 *
 * Text PostgreSQL can store: its text and jsonb types cannot hold U+0000, and a UTF-16 surrogate
 * without its pair has no UTF-8 encoding (jsonb refuses its escape; text would silently get
 * U+FFFD). Every string a request brings passes `storableString` (free-form JSON passes
 * `jsonValueProblem`), so such input is a 400 naming the field, never a database error answered
 * as a 500 or, in an ingest batch, as a retryable rejection a bot would send forever.
 *
 * Null as absent: bots send `null` for what they do not know. In the fields `optional` builds,
 * null is the same as leaving the field out, so it never erases what is already stored.
 */
import { z } from 'zod';
import { MAX_JSON_DEPTH } from './constants.ts';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const UNSTORABLE_TEXT_MESSAGE = 'must not contain NUL characters or unpaired surrogates';

/** False for text PostgreSQL cannot store: a NUL character or an unpaired surrogate. */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && !LONE_SURROGATE.test(value);
}

/** A string PostgreSQL can store; chain `.trim()`, `.min()`, `.max()`… after it. */
export function storableString() {
  return z.string().refine(isStorableText, UNSTORABLE_TEXT_MESSAGE);
}

/**
 * What PostgreSQL's jsonb would refuse in a JSON value (NUL characters or unpaired surrogates,
 * in keys or strings) or the server would choke on (nesting deeper than `maxDepth`), with where
 * it is; null when the value is fine. Walks with its own stack, so a hostile nesting cannot
 * overflow the server's.
 */
export function jsonValueProblem(
  value: unknown,
  maxDepth: number = MAX_JSON_DEPTH,
): { path: (string | number)[]; message: string } | null {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item.value === 'string') {
      if (!isStorableText(item.value)) return { path: item.path, message: UNSTORABLE_TEXT_MESSAGE };
      continue;
    }
    if (item.value === null || typeof item.value !== 'object') continue;
    if (item.path.length >= maxDepth) {
      return { path: item.path, message: `nests deeper than ${maxDepth} levels` };
    }
    const entries: [string | number, unknown][] = Array.isArray(item.value)
      ? item.value.map((child, index) => [index, child])
      : Object.entries(item.value);
    for (const [key, child] of entries) {
      if (typeof key === 'string' && !isStorableText(key)) {
        return { path: [...item.path, key], message: `this key ${UNSTORABLE_TEXT_MESSAGE}` };
      }
      stack.push({ value: child, path: [...item.path, key] });
    }
  }
  return null;
}

/** `schema` refusing, with the offending path, any value `jsonValueProblem` finds fault with. */
export function storableJson<T extends z.ZodType>(schema: T, maxDepth: number = MAX_JSON_DEPTH): T {
  return schema.superRefine((value, ctx) => {
    const problem = jsonValueProblem(value, maxDepth);
    if (problem) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
  }) as T;
}

/** An optional field where `null` means absent: parsed to undefined, so it never clears a stored value. */
export function optional<T extends z.ZodType>(schema: T) {
  // The outer optional keeps the key optional in the parsed type, as `.optional()` would.
  return schema
    .nullish()
    .transform((value): z.output<T> | undefined => value ?? undefined)
    .optional();
}

/** An optional field with a default, which `null` gets too, exactly as when the field is left out. */
export function withDefault<T extends z.ZodType>(schema: T, fallback: z.output<T>) {
  return schema.nullish().transform((value): z.output<T> => value ?? fallback);
}
