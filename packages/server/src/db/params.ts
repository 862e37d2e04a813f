/**
 * Positional parameters for SQL built from optional filters: `param(value)` adds a value and
 * answers its placeholder, so values never enter the SQL text.
 */
export function sqlParams(...initial: unknown[]) {
  const params: unknown[] = [...initial];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  return { params, param };
}
