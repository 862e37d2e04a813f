import type { SyncedColumnType } from '@syncdeck/core';
import { isColumnName } from './names.ts';

/** The types a view gives pushed columns. Anything mixed widens to text (or jsonb). */
export type ColumnType = SyncedColumnType;

const TIMESTAMP =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** PostgreSQL's limit on a UTC offset: ±15:59(:59); anything further is an error, not a time. */
const MAX_OFFSET_HOURS = 15;

/** The number written by the `length` ASCII digits of `text` at `at` (the pattern checked they are digits). */
function digitsAt(text: string, at: number, length: number): number {
  let value = 0;
  for (let i = at; i < at + length; i++) value = value * 10 + text.charCodeAt(i) - 48;
  return value;
}

/**
 * An ISO-8601 date or date-time PostgreSQL will read as exactly this timestamp. Called for
 * every value of a timestamp column a push carries, so the fields are read by position (the
 * pattern fixes them) rather than captured, which costs far less.
 */
export function isTimestamp(value: string): boolean {
  if (!TIMESTAMP.test(value)) return false;
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 5, 2);
  const day = digitsAt(value, 8, 2);
  if (year < 1 || !isDate(year, month, day)) return false;
  if (value.length === 10) return true;
  const hasSeconds = value.charCodeAt(16) === 58; // ':'
  if (
    digitsAt(value, 11, 2) > 23 ||
    digitsAt(value, 14, 2) > 59 ||
    (hasSeconds && digitsAt(value, 17, 2) > 59)
  )
    return false;
  // The offset's sign is the only + or - after the date; `+HH`, `+HHMM` or `+HH:MM` follows it.
  let sign = 16;
  while (sign < value.length && value[sign] !== '+' && value[sign] !== '-') sign++;
  if (sign === value.length) return true;
  const minutesAt = value.length === sign + 3 ? -1 : value[sign + 3] === ':' ? sign + 4 : sign + 3;
  return (
    digitsAt(value, sign + 1, 2) <= MAX_OFFSET_HOURS && (minutesAt < 0 || digitsAt(value, minutesAt, 2) <= 59)
  );
}

/** A day of the proleptic Gregorian calendar; `year` astronomical (1 BC is 0). */
function isDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leapDay = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 1 : 0;
  return day <= DAYS_IN_MONTH[month - 1]! + leapDay;
}

/** A `numeric` as PostgreSQL prints it (values from JSON numbers are never NaN or infinite). */
export const NUMERIC_TEXT = /^-?\d+(?:\.\d+)?$/;

const PRINTED_TIMESTAMP =
  /^(\d{4,6})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.\d{1,6})?[+-](\d\d)(?::(\d\d))?(?::(\d\d))?( BC)?$/;

/**
 * A `timestamptz` as PostgreSQL prints it with DateStyle ISO (`2024-06-01 10:00:00.5+00`,
 * `… +05:30`, `… +00:19:32` for a zone's old local mean time, `… BC`), within the range it can
 * read back. Only for cursors, so captures are fine here.
 */
export function isPrintedTimestamp(value: string): boolean {
  const m = PRINTED_TIMESTAMP.exec(value);
  if (!m) return false;
  const [, y, mo, d, h, mi, s, oh, om = '0', os = '0', bc] = m;
  const year = Number(y);
  // Inside PostgreSQL's range (4714 BC to 294276 AD) with a year to spare for the offset.
  if (year < 1 || (bc ? year > 4713 : year > 294275)) return false;
  return (
    isDate(bc ? 1 - year : year, Number(mo), Number(d)) &&
    Number(h) <= 23 &&
    Number(mi) <= 59 &&
    Number(s) <= 59 &&
    Number(oh) <= MAX_OFFSET_HOURS &&
    Number(om) <= 59 &&
    Number(os) <= 59
  );
}

export function typeOfValue(value: unknown): ColumnType | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return 'numeric';
  if (typeof value === 'string') return isTimestamp(value) ? 'timestamptz' : 'text';
  return 'jsonb';
}

export function widen(a: ColumnType, b: ColumnType): ColumnType {
  if (a === b) return a;
  return a === 'jsonb' || b === 'jsonb' ? 'jsonb' : 'text';
}

/**
 * The columns these records carry, with the type that holds every value seen. `id` is always
 * one (the key). A column whose every value so far was null waits for a value before it gets
 * a type (typing it text now would turn its later numbers into text); names that are not
 * plain identifiers stay in the stored row but are not exposed.
 */
export function columnsOf(records: readonly Record<string, unknown>[]): Map<string, ColumnType> {
  const seen = new Map<string, ColumnType | null>([['id', 'text']]);
  for (const record of records) {
    for (const key in record) {
      if (key === 'id') continue;
      const type = typeOfValue(record[key]);
      const before = seen.get(key);
      if (before === undefined) {
        if (!isColumnName(key)) continue;
        seen.set(key, type);
      } else if (type !== null) {
        seen.set(key, before === null ? type : widen(before, type));
      }
    }
  }
  return new Map([...seen].filter((entry): entry is [string, ColumnType] => entry[1] !== null));
}

/**
 * Whether these records add a column to `known` or widen one's type — what `columnsOf` would
 * find new, without building it: most pushes carry no new column, and this costs a `typeof`
 * per value (a pattern match only for values of timestamp columns).
 */
export function addsColumns(
  known: ReadonlyMap<string, ColumnType>,
  records: readonly Record<string, unknown>[],
): boolean {
  if (!known.has('id')) return true;
  for (const record of records) {
    for (const key in record) {
      const value = record[key];
      if (value === null || value === undefined) continue;
      const type = known.get(key);
      if (type === undefined) {
        if (isColumnName(key)) return true;
        continue;
      }
      switch (type) {
        case 'text':
          if (typeof value === 'object') return true;
          break;
        case 'numeric':
          if (typeof value !== 'number') return true;
          break;
        case 'boolean':
          if (typeof value !== 'boolean') return true;
          break;
        case 'timestamptz':
          if (typeof value !== 'string' || !isTimestamp(value)) return true;
          break;
        case 'jsonb':
          break;
      }
    }
  }
  return false;
}

/** The view's expression for a column; a value of another JSON type reads as NULL, never an error. */
export function columnExpression(name: string, type: ColumnType, quotedName: string): string {
  if (name === 'id') return 'id';
  const key = `'${name}'`;
  switch (type) {
    case 'text':
      return `data->>${key} AS ${quotedName}`;
    case 'jsonb':
      return `data->${key} AS ${quotedName}`;
    case 'numeric':
      return `CASE WHEN jsonb_typeof(data->${key}) = 'number' THEN (data->>${key})::numeric END AS ${quotedName}`;
    case 'boolean':
      return `CASE WHEN jsonb_typeof(data->${key}) = 'boolean' THEN (data->>${key})::boolean END AS ${quotedName}`;
    case 'timestamptz':
      return `CASE WHEN jsonb_typeof(data->${key}) = 'string' AND (data->>${key}) ~ '^\\d{4}-\\d{2}-\\d{2}' THEN (data->>${key})::timestamptz END AS ${quotedName}`;
  }
}
