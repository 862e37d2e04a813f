/** A payload's rows as the row-sync SQL takes them: checked keys and times, one row per key. */
import { isStorableText, MAX_JSON_DEPTH, UNSTORABLE_TEXT_MESSAGE } from '@syncdeck/core';
import { AppError } from '../lib/errors.ts';
import { isTimestamp } from '../synced/index.ts';

export interface PreparedRow {
  id: string;
  updatedAt: string | null;
  record: Record<string, unknown>;
}

export function rejected(path: string, message: string): AppError {
  return new AppError('validation_failed', 'The payload is not valid', [{ path, message }]);
}

export function prepareRow(record: Record<string, unknown>, path: string): PreparedRow {
  const id = record.id;
  if (
    !(
      (typeof id === 'string' && id.length > 0 && id.length <= 200) ||
      (typeof id === 'number' && Number.isSafeInteger(id))
    )
  )
    throw rejected(`${path}.id`, 'a string or integer (within ±2^53) primary key is required');
  const updatedAt = record.updated_at;
  if (
    updatedAt !== undefined &&
    updatedAt !== null &&
    !(typeof updatedAt === 'string' && isTimestamp(updatedAt))
  )
    throw rejected(`${path}.updated_at`, 'is not an ISO-8601 timestamp');
  return { id: String(id), updatedAt: (updatedAt as string | null | undefined) ?? null, record };
}

/** The batch as `jsonb_to_recordset` reads it; a key repeated within a batch keeps its last row. */
export function recordSet(rows: PreparedRow[]): { json: string; count: number } {
  const byId = new Map(rows.map((row) => [row.id, row]));
  return {
    json: JSON.stringify([...byId.values()].map((row) => ({ id: row.id, u: row.updatedAt, d: row.record }))),
    count: byId.size,
  };
}

/** PostgreSQL's data exceptions (a NUL in a string, a number out of range): the sender's fault. */
export function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('22');
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
