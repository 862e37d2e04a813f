import type { Queryable, QueryOptions, QueryResult } from '../db/index.ts';
import { sqlParams } from '../db/params.ts';

/**
 * SQL with `$name` placeholders turned positional, each name one parameter however often it
 * appears: a statement that reads a value in several places stays readable.
 */
function named(text: string, values: Record<string, unknown>): { sql: string; params: unknown[] } {
  const { params, param } = sqlParams();
  const index = new Map<string, string>();
  const sql = text.replace(/\$([a-z][a-z0-9_]*)/gi, (_, name: string) => {
    if (!(name in values)) throw new Error(`no value for $${name}`);
    let ref = index.get(name);
    if (!ref) {
      ref = param(values[name]);
      index.set(name, ref);
    }
    return ref;
  });
  return { sql, params };
}

/** Runs SQL written with `$name` placeholders (see `named`). */
export function queryNamed<Row>(
  q: Queryable,
  text: string,
  values: Record<string, unknown>,
  options?: QueryOptions,
): Promise<QueryResult<Row>> {
  const { sql, params } = named(text, values);
  return q.query<Row>(sql, params, options);
}
