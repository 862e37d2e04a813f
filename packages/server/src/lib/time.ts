/** Timestamps go over the wire as ISO-8601 strings. */
export function iso(value: Date): string;
export function iso(value: Date | null): string | null;
export function iso(value: Date | null): string | null {
  return value ? value.toISOString() : null;
}

/**
 * SQL writing a timestamptz as `iso()` does (UTC, milliseconds cut, `Z`), for objects the
 * database builds as JSON itself.
 */
export function sqlIso(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}
