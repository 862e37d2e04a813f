import type { Chart, ChartData, ChartSpec } from '@syncdeck/core';
import type { Queryable } from '../db/index.ts';
import { AppError } from '../lib/errors.ts';
import {
  type PageQuery,
  decodeCursor,
  type Page,
  sqlMicros,
  timeKeySchema,
  toPage,
} from '../lib/pagination.ts';
import { iso } from '../lib/time.ts';
import { columnIdent, filterSql, type TenantTable, tenantView } from '../synced/index.ts';

interface ChartRow {
  id: string;
  name: string;
  spec: ChartSpec | string;
  cache_status: 'fresh' | 'stale';
  cache_version: number;
  created_at: Date;
  updated_at: Date;
  micros: number;
}

const COLUMNS = `id, name, spec, cache_status, cache_version, created_at, updated_at, ${sqlMicros('created_at')} AS micros`;

function toChart(row: ChartRow): Chart {
  const spec = (typeof row.spec === 'string' ? JSON.parse(row.spec) : row.spec) as ChartSpec;
  return {
    id: row.id,
    name: row.name,
    spec,
    tables: [spec.table],
    cacheStatus: row.cache_status,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

function invalid(path: string, message: string): AppError {
  return AppError.badRequest('The chart is not valid', [{ path, message }]);
}

/** Checks a spec against the columns the tenant's table has now; the paths name the spec's fields. */
export function checkSpec(table: TenantTable, spec: ChartSpec, prefix = 'spec'): void {
  const { fn, column } = spec.metric;
  if (fn !== 'count') {
    const type = table.columns.get(column!);
    if (!type) throw invalid(`${prefix}.metric.column`, `"${column}" is not a column of ${table.table}`);
    if (type !== 'numeric')
      throw invalid(`${prefix}.metric.column`, `${fn} needs a numeric column; "${column}" is ${type}`);
  }
  if (spec.groupBy) {
    const type = table.columns.get(spec.groupBy.column);
    if (!type)
      throw invalid(`${prefix}.groupBy.column`, `"${spec.groupBy.column}" is not a column of ${table.table}`);
    if (spec.groupBy.bucket && type !== 'timestamptz')
      throw invalid(
        `${prefix}.groupBy.bucket`,
        `a time bucket needs a timestamp column; "${spec.groupBy.column}" is ${type}`,
      );
    if (type === 'jsonb') throw invalid(`${prefix}.groupBy.column`, 'a JSON column cannot be grouped by');
  }
  filterSql(table, spec.filters, [], (i) => `${prefix}.filters.${i}`);
}

export async function insertChart(
  tx: Queryable,
  tenantId: string,
  name: string,
  spec: ChartSpec,
): Promise<Chart> {
  const result = await tx.query<ChartRow>(
    `INSERT INTO charts (tenant_id, name, spec) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
    [tenantId, name, JSON.stringify(spec)],
  );
  const row = result.rows[0]!;
  await tx.query(
    'INSERT INTO chart_table_dependencies (tenant_id, chart_id, table_name) VALUES ($1, $2, $3)',
    [tenantId, row.id, spec.table],
  );
  return toChart(row);
}

export async function findChart(q: Queryable, tenantId: string, id: string): Promise<Chart | null> {
  const result = await q.query<ChartRow>(`SELECT ${COLUMNS} FROM charts WHERE tenant_id = $1 AND id = $2`, [
    tenantId,
    id,
  ]);
  return result.rows[0] ? toChart(result.rows[0]) : null;
}

/** Newest first. */
export async function listCharts(q: Queryable, tenantId: string, page: PageQuery): Promise<Page<Chart>> {
  const after = page.cursor ? decodeCursor(page.cursor, timeKeySchema) : null;
  const result = await q.query<ChartRow>(
    `SELECT ${COLUMNS} FROM charts WHERE tenant_id = $1
       AND ($2::bigint IS NULL OR (created_at, id) < (to_timestamp(0) + $2::bigint * interval '1 microsecond', $3::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $4`,
    [tenantId, after?.[0] ?? null, after?.[1] ?? null, page.limit + 1],
  );
  return toPage(result.rows, page.limit, toChart, (row) => [row.micros, row.id]);
}

interface CacheRow {
  cache_status: 'fresh' | 'stale';
  cache_version: number;
  result: ChartData['rows'] | string | null;
  cached_version: number | null;
  computed_at: Date | null;
}

export async function findChartCache(q: Queryable, tenantId: string, id: string) {
  const result = await q.query<CacheRow>(
    `SELECT c.cache_status, c.cache_version, d.result, d.cache_version AS cached_version, d.computed_at
     FROM charts c LEFT JOIN chart_data_cache d ON d.chart_id = c.id
     WHERE c.tenant_id = $1 AND c.id = $2`,
    [tenantId, id],
  );
  const row = result.rows[0];
  if (!row) return null;
  return {
    status: row.cache_status,
    version: row.cache_version,
    rows: typeof row.result === 'string' ? (JSON.parse(row.result) as ChartData['rows']) : row.result,
    cachedVersion: row.cached_version,
    computedAt: row.computed_at,
  };
}

/** Runs the spec over the tenant's view: a declarative query, with every name checked and quoted. */
export async function computeChart(
  q: Queryable,
  table: TenantTable,
  spec: ChartSpec,
): Promise<ChartData['rows']> {
  const params: unknown[] = [];
  const where = filterSql(table, spec.filters, params, (i) => `spec.filters.${i}`);
  const metric =
    spec.metric.fn === 'count' ? 'count(*)' : `${spec.metric.fn}(v.${columnIdent(spec.metric.column!)})`;
  const group = spec.groupBy;
  const key = !group
    ? null
    : group.bucket
      ? `date_trunc('${group.bucket}', v.${columnIdent(group.column)}, 'UTC')`
      : `v.${columnIdent(group.column)}`;
  const result = await q.query<{ key: unknown; value: number | null }>(
    `SELECT to_jsonb(q.key) AS key, q.value FROM (
       SELECT ${key ?? 'NULL::text'} AS key, (${metric})::float8 AS value
       FROM ${tenantView(table.tenantId, table.table)} v
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ${key ? 'GROUP BY 1 ORDER BY 1 NULLS LAST LIMIT 1000' : ''}) q`,
    params,
  );
  return result.rows.map((row) => ({ key: row.key, value: row.value }));
}

/**
 * SQL that marks stale the charts over tables a push changed, in the push's transaction, so
 * their next read recomputes. Moving `cache_version` too makes a recompute that read the data
 * before this push unable to mark the chart fresh (see storeChartCache). `pushed` is a query
 * whose rows are the changed `(tenant_id, table_name)` pairs.
 */
export function staleChartsSql(pushed: string): string {
  return `UPDATE charts SET cache_status = 'stale', cache_version = cache_version + 1
    WHERE (tenant_id, id) IN (SELECT d.tenant_id, d.chart_id FROM chart_table_dependencies d
      JOIN (${pushed}) p ON p.tenant_id = d.tenant_id AND p.table_name = d.table_name)`;
}

/**
 * Keeps the result computed from the data as of `version`, and marks the chart fresh only if
 * no push moved the version meanwhile: a push during the recompute leaves it stale.
 */
export async function storeChartCache(
  tx: Queryable,
  tenantId: string,
  id: string,
  version: number,
  rows: ChartData['rows'],
): Promise<Date> {
  const stored = await tx.query<{ computed_at: Date }>(
    `INSERT INTO chart_data_cache (chart_id, tenant_id, result, cache_version) VALUES ($1, $2, $3, $4)
     ON CONFLICT (chart_id) DO UPDATE SET result = EXCLUDED.result, cache_version = EXCLUDED.cache_version,
       computed_at = now()
     WHERE chart_data_cache.cache_version <= EXCLUDED.cache_version
     RETURNING computed_at`,
    [id, tenantId, JSON.stringify(rows), version],
  );
  await tx.query(
    "UPDATE charts SET cache_status = 'fresh' WHERE tenant_id = $1 AND id = $2 AND cache_version = $3",
    [tenantId, id, version],
  );
  return stored.rows[0]?.computed_at ?? new Date();
}
