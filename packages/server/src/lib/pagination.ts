import { storableString } from '@syncdeck/core';
import { z } from 'zod';
import { AppError } from './errors.ts';

/** Which page of a list: at most `limit` rows after `cursor` (the first page without one). */
export interface PageQuery {
  limit: number;
  cursor?: string | undefined;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** Cursors are opaque to clients: the sort key of the last row, base64url-encoded JSON. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<T extends unknown[]>(cursor: string, shape: z.ZodType<T>, param = 'cursor'): T {
  try {
    return shape.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw AppError.badRequest('The cursor is not valid', [
      { path: `query.${param}`, message: 'not a cursor this list issued' },
    ]);
  }
}

/**
 * The key of a list sorted by a time and then id: the time in whole microseconds since the
 * epoch (a JS Date would round PostgreSQL's microseconds to milliseconds, and the next page
 * would repeat or skip rows), and the id.
 */
export const timeKeySchema = z.tuple([z.number().int(), z.string().uuid()]);
export type TimeKey = z.infer<typeof timeKeySchema>;

/**
 * The key of a list sorted by one text column (a slug, an email). A forged cursor holding text
 * PostgreSQL cannot compare is refused like any other cursor, not a 500.
 */
export const textKeySchema = z.tuple([storableString()]);

/** SQL for a timestamp as the microseconds a TimeKey holds. */
export function sqlMicros(expression: string): string {
  return `(extract(epoch FROM ${expression}) * 1000000)::bigint`;
}

/** SQL turning a TimeKey's microseconds (a bigint parameter) back into the exact timestamptz. */
export function sqlFromMicros(param: string): string {
  return `(to_timestamp(0) + ${param}::bigint * interval '1 microsecond')`;
}

/** Fetch `limit + 1` rows, then call this: it trims the extra row and builds the next cursor from the last kept one. */
export function toPage<Row, T>(
  rows: Row[],
  limit: number,
  map: (row: Row) => T,
  key: (row: Row) => unknown[],
): Page<T> {
  const hasMore = rows.length > limit;
  const kept = hasMore ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { data: kept.map(map), nextCursor: hasMore && last ? encodeCursor(key(last)) : null };
}
