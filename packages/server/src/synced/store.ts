import type { SyncedColumn, SyncedTable } from '@syncdeck/core';
import type { Queryable } from '../db/index.ts';
import { iso } from '../lib/time.ts';
import type { ColumnType } from './columns.ts';

export async function loadColumns(
  q: Queryable,
  tenantId: string,
  table: string,
): Promise<Map<string, ColumnType>> {
  const result = await q.query<{ column_name: string; data_type: ColumnType }>(
    `SELECT column_name, data_type FROM tenant_column_access WHERE tenant_id = $1 AND table_name = $2
     ORDER BY first_seen_at, column_name`,
    [tenantId, table],
  );
  return new Map(result.rows.map((row) => [row.column_name, row.data_type]));
}

/**
 * The tables pushed for a tenant, with their columns as its views give them and the time of
 * the last push the push log still holds (read newest first, so a busy table stops early).
 */
export async function listTenantTables(q: Queryable, tenantId: string): Promise<SyncedTable[]> {
  const result = await q.query<{
    table_name: string;
    columns: SyncedColumn[] | string;
    last_push_at: Date | null;
  }>(
    `SELECT a.table_name,
       json_agg(json_build_object('name', a.column_name, 'type', a.data_type)
         ORDER BY a.first_seen_at, a.column_name) AS columns,
       (SELECT p.created_at FROM tenant_data_push_log p
         WHERE p.tenant_id = $1 AND p.table_name = a.table_name ORDER BY p.created_at DESC LIMIT 1) AS last_push_at
     FROM tenant_column_access a WHERE a.tenant_id = $1
     GROUP BY a.table_name ORDER BY a.table_name`,
    [tenantId],
  );
  return result.rows.map((row) => ({
    table: row.table_name,
    columns: typeof row.columns === 'string' ? JSON.parse(row.columns) : row.columns,
    lastPushAt: row.last_push_at ? iso(row.last_push_at) : null,
  }));
}
