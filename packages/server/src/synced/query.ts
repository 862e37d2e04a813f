import { isStorableText, type RowFilter, UNSTORABLE_TEXT_MESSAGE } from '@syncdeck/core';
import { z } from 'zod';
import type { Queryable } from '../db/index.ts';
import { AppError } from '../lib/errors.ts';
import { decodeCursor, type Page, toPage } from '../lib/pagination.ts';
import { type ColumnType, isPrintedTimestamp, isTimestamp, NUMERIC_TEXT } from './columns.ts';
import { columnIdent, tenantView } from './names.ts';
import { loadColumns } from './store.ts';

/**
 * Reads of a tenant's synced rows, always through its own view: the view holds only that
 * tenant's rows and columns, so no filter, sort or cursor can reach another tenant's. Column
 * names must be columns of the view; values travel as parameters, cast to the column's type.
 */

export interface TenantTable {
  tenantId: string;
  table: string;
  columns: Map<string, ColumnType>;
}

/** The tenant's table, or 404 when nothing was ever pushed to it for this tenant. */
export async function tenantTable(q: Queryable, tenantId: string, table: string): Promise<TenantTable> {
  const columns = await loadColumns(q, tenantId, table);
  if (columns.size === 0) throw AppError.notFound('Table');
  return { tenantId, table, columns };
}

function invalid(path: string, message: string): AppError {
  return AppError.badRequest('The request is not valid', [{ path, message }]);
}

const SQL_TYPE: Record<ColumnType, string> = {
  text: 'text',
  numeric: 'numeric',
  boolean: 'boolean',
  timestamptz: 'timestamptz',
  jsonb: 'jsonb',
};

/** A filter value as the parameter its column's type reads, or a 400 naming `path`. */
function valueFor(type: ColumnType, value: unknown, path: string): string {
  const text = String(value);
  switch (type) {
    case 'numeric':
      if (text.trim() === '' || !Number.isFinite(Number(text)))
        throw invalid(path, 'must be a number for this column');
      return String(Number(text));
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw invalid(path, 'must be true or false for this column');
      return text;
    case 'timestamptz':
      if (!isTimestamp(text)) throw invalid(path, 'must be an ISO-8601 timestamp for this column');
      return text;
    default:
      return text;
  }
}

const ORDERING_OPS = new Set(['lt', 'lte', 'gt', 'gte']);
const COMPARE: Record<string, string> = { eq: '=', ne: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' };

/** WHERE conditions for `filters`; parameters are appended to `params`. */
export function filterSql(
  table: TenantTable,
  filters: RowFilter[],
  params: unknown[],
  path: (index: number) => string,
): string[] {
  return filters.map((filter, index) => {
    // Core's text rule: a value PostgreSQL cannot take as text is the client's mistake (a 400),
    // not a database error. Filters come from query strings and from chart specs alike.
    if (typeof filter.value === 'string' && !isStorableText(filter.value))
      throw AppError.invalid([{ path: `${path(index)}.value`, message: UNSTORABLE_TEXT_MESSAGE }]);
    const type = table.columns.get(filter.column);
    if (!type) throw invalid(`${path(index)}.column`, `"${filter.column}" is not a column of ${table.table}`);
    const column = `v.${columnIdent(filter.column)}`;
    if (filter.op === 'isnull') return `${column} IS NULL`;
    if (filter.op === 'notnull') return `${column} IS NOT NULL`;
    if (filter.value === undefined) throw invalid(`${path(index)}.value`, `is required for ${filter.op}`);
    if (type === 'jsonb')
      throw invalid(`${path(index)}.op`, 'a JSON column can only be tested with isnull/notnull');
    if (filter.op === 'contains') {
      if (type !== 'text') throw invalid(`${path(index)}.op`, 'contains applies to text columns');
      params.push(`%${String(filter.value).replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      return `${column} ILIKE $${params.length}`;
    }
    if (type === 'boolean' && ORDERING_OPS.has(filter.op))
      throw invalid(`${path(index)}.op`, 'a boolean column takes eq or ne');
    params.push(valueFor(type, filter.value, `${path(index)}.value`));
    return `${column} ${COMPARE[filter.op]} $${params.length}::${SQL_TYPE[type]}`;
  });
}

/** `col:op:value` from a query string; the value may itself hold colons. */
export function parseFilterParam(text: string, index: number): RowFilter {
  const [column = '', op = '', ...rest] = text.split(':');
  const path = `query.filter.${index}`;
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(column)) throw invalid(path, 'must be column:op[:value]');
  const ops = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'contains', 'isnull', 'notnull'] as const;
  const known = ops.find((candidate) => candidate === op);
  if (!known) throw invalid(path, `op must be one of ${ops.join(', ')}`);
  return { column, op: known, value: rest.length > 0 ? rest.join(':') : undefined };
}

const rowCursor = z.tuple([z.string().nullable(), z.string()]);

function invalidCursor(message: string): AppError {
  return AppError.invalid([{ path: 'query.cursor', message }]);
}

/**
 * A cursor's values are cast to the sort column's type in SQL, and a cast that fails is a
 * 500: so they must be what PostgreSQL printed for that type. A cursor this list issued always
 * is; one that is not was made by hand, or issued for another sort. No stored text holds what
 * PostgreSQL cannot store (NUL, unpaired surrogates: core's text rule), so no cursor does.
 */
function checkCursor(type: ColumnType, value: string | null, id: string): void {
  if (!isStorableText(id) || (value !== null && !isStorableText(value)))
    throw invalidCursor('not a cursor this list issued');
  if (value === null) return;
  const fits =
    type === 'numeric'
      ? NUMERIC_TEXT.test(value)
      : type === 'boolean'
        ? value === 'true' || value === 'false'
        : type === 'timestamptz'
          ? isPrintedTimestamp(value)
          : true;
  if (!fits) throw invalidCursor(`its sort value does not fit the sort column's type (${type})`);
}

export interface SyncedQuery {
  filters: RowFilter[];
  sort: { column: string; descending: boolean } | null;
  limit: number;
  cursor?: string | undefined;
}

/**
 * One page of the tenant's rows, sorted by a column (nulls last) and then by id, with a
 * keyset cursor of (the sort value as PostgreSQL prints it, id), so no precision is lost.
 */
export async function readSyncedRows(
  q: Queryable,
  table: TenantTable,
  query: SyncedQuery,
): Promise<Page<Record<string, unknown>>> {
  const params: unknown[] = [];
  const where = filterSql(table, query.filters, params, (i) => `query.filter.${i}`);
  const sort = query.sort && query.sort.column !== 'id' ? query.sort : null;
  const descending = query.sort?.descending ?? false;
  let sortType: ColumnType = 'text';
  if (sort) {
    const type = table.columns.get(sort.column);
    if (!type) throw invalid('query.sort', `"${sort.column}" is not a column of ${table.table}`);
    if (type === 'jsonb') throw invalid('query.sort', 'a JSON column cannot be sorted by');
    sortType = type;
  }
  const key = sort ? `v.${columnIdent(sort.column)}` : null;
  const cmp = descending ? '<' : '>';
  if (query.cursor) {
    const [value, id] = decodeCursor(query.cursor, rowCursor);
    checkCursor(sortType, value, id);
    params.push(id);
    const idParam = `$${params.length}`;
    if (!key) {
      where.push(`v.id ${cmp} ${idParam}`);
    } else if (value === null) {
      where.push(`(${key} IS NULL AND v.id ${cmp} ${idParam})`);
    } else {
      params.push(value);
      const valueParam = `$${params.length}::${SQL_TYPE[sortType]}`;
      where.push(
        `(${key} ${cmp} ${valueParam} OR (${key} = ${valueParam} AND v.id ${cmp} ${idParam}) OR ${key} IS NULL)`,
      );
    }
  }
  const direction = descending ? 'DESC' : 'ASC';
  const order = key ? `${key} ${direction} NULLS LAST, v.id ${direction}` : `v.id ${direction}`;
  params.push(query.limit + 1);
  const result = await q.query<{ row: Record<string, unknown> | string; k: string | null; id: string }>(
    // `v.*`, not `v`: a bare `v` would name a column called v, when a source sends one.
    `SELECT to_jsonb(v.*) AS row, ${key ? `${key}::text` : 'NULL'} AS k, v.id
     FROM ${tenantView(table.tenantId, table.table)} v
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY ${order} LIMIT $${params.length}`,
    params,
  );
  return toPage(
    result.rows,
    query.limit,
    (row) => (typeof row.row === 'string' ? JSON.parse(row.row) : row.row),
    (row) => [row.k, row.id],
  );
}
