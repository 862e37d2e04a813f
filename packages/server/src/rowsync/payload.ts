/**
 * The webhook's body before it is read as a payload: UTF-8 JSON, within core's rule for
 * free-form JSON (text PostgreSQL can store, bounded nesting), checked at a cost in proportion
 * to its size, since a full-sync batch may be tens of megabytes.
 */
import { isUtf8 } from 'node:buffer';
import { type ErrorDetail, isStorableText, MAX_JSON_DEPTH, UNSTORABLE_TEXT_MESSAGE } from '@syncdeck/core';
import { AppError, toDetails } from '../lib/errors.ts';
import type { WebhookLogEntry } from './webhook-log.ts';

/** The body as text and as JSON; an AppError `invalid_json` when it is neither. */
export function decodeBody(body: Buffer): { text: string; json: unknown } {
  // JSON is UTF-8 (RFC 8259): decoding other bytes would quietly store U+FFFD in their place.
  if (!isUtf8(body)) throw new AppError('invalid_json', 'Body is not valid JSON: it is not UTF-8');
  const text = body.toString('utf8');
  try {
    return { text, json: JSON.parse(text) };
  } catch (error) {
    throw new AppError('invalid_json', `Body is not valid JSON: ${(error as Error).message}`);
  }
}

/** What the log line of an attempt says of its payload, as far as the body gives it. */
export function logFields(
  json: unknown,
): Partial<Pick<WebhookLogEntry, 'type' | 'table' | 'externalTenantId'>> {
  if (!json || typeof json !== 'object') return {};
  const raw = json as Record<string, unknown>;
  return {
    ...(typeof raw.type === 'string' ? { type: raw.type } : {}),
    ...(typeof raw.table === 'string' ? { table: raw.table } : {}),
    ...(typeof raw.tenant_id === 'string' || typeof raw.tenant_id === 'number'
      ? { externalTenantId: String(raw.tenant_id) }
      : {}),
  };
}

/**
 * Where a body breaks core's rule for free-form JSON (payloadProblem). Valid UTF-8 JSON can carry
 * a NUL or a lone surrogate only as a `\u` escape, and its depth shows in one pass over the
 * text, so the parsed body (megabytes for a full-sync batch) is walked only when either is there.
 */
export function bodyProblem(text: string, json: unknown): ErrorDetail | null {
  const checkText = /\\u(?:0000|[dD][89a-fA-F])/.test(text);
  if (!checkText && !nestsDeeperThan(text)) return null;
  const problem = payloadProblem(json, checkText);
  return problem ? toDetails(problem, undefined)[0]! : null;
}

interface Frame {
  value: object;
  depth: number;
  parent: Frame | null;
  key: string | number | null;
}

function pathOf(frame: Frame, key?: string | number): (string | number)[] {
  const path: (string | number)[] = key === undefined ? [] : [key];
  for (let f: Frame | null = frame; f && f.key !== null; f = f.parent) path.push(f.key);
  return path.reverse();
}

/**
 * What core's rule for free-form JSON (`jsonValueProblem`) refuses in a body, found without its
 * cost on large bodies: nesting deeper than `MAX_JSON_DEPTH` (PostgreSQL's jsonb parser runs out
 * of stack some thousands deep, a 500), and — when `checkText`, which the caller decides from the
 * raw text — keys and strings PostgreSQL cannot store. Only objects are stacked and a path is
 * built only for the problem reported, so a body nested as deep as the body limit allows costs
 * time in its size, not its depth squared.
 */
export function payloadProblem(
  json: unknown,
  checkText: boolean,
  maxDepth: number = MAX_JSON_DEPTH,
): { path: (string | number)[]; message: string } | null {
  if (json === null || typeof json !== 'object') {
    const bad = checkText && typeof json === 'string' && !isStorableText(json);
    return bad ? { path: [], message: UNSTORABLE_TEXT_MESSAGE } : null;
  }
  const stack: Frame[] = [{ value: json, depth: 0, parent: null, key: null }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.depth >= maxDepth)
      return { path: pathOf(frame), message: `nests deeper than ${maxDepth} levels` };
    const entries: Iterable<[string | number, unknown]> = Array.isArray(frame.value)
      ? frame.value.entries()
      : Object.entries(frame.value);
    for (const [key, child] of entries) {
      if (checkText && typeof key === 'string' && !isStorableText(key))
        return { path: pathOf(frame, key), message: `this key ${UNSTORABLE_TEXT_MESSAGE}` };
      if (typeof child === 'string') {
        if (checkText && !isStorableText(child))
          return { path: pathOf(frame, key), message: UNSTORABLE_TEXT_MESSAGE };
      } else if (child !== null && typeof child === 'object') {
        stack.push({ value: child, depth: frame.depth + 1, parent: frame, key });
      }
    }
  }
  return null;
}

/**
 * Whether JSON text nests deeper than `maxDepth`, by one pass over its characters: far cheaper
 * than walking the parsed value, so only the bodies that fail it (or carry a `\u` escape) are
 * walked for the path.
 */
export function nestsDeeperThan(text: string, maxDepth: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: jump to its closing quote, one not escaped by an odd run of backslashes.
      let end = i;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end < 0) return false; // unterminated: not JSON, which the parser has refused
        let backslashes = 0;
        while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++;
        if (backslashes % 2 === 0) break;
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}
