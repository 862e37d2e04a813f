/** A payload's rows as the row-sync SQL takes them: checked keys and times, one row per key. */
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
