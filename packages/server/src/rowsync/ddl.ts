import type { Queryable } from '../db/index.ts';
import {
  type ColumnType,
  columnExpression,
  columnIdent,
  dataTable,
  loadColumns,
  quoteLiteral,
  schemaIdent,
  tenantView,
} from '../synced/index.ts';

/** Serialises DDL on the sources' schemas, so two processes never create one table at once. */
const DDL_LOCK = 7_301_101;

/** Creates the source's schema and the live table of one target table. */
export async function createDataTable(tx: Queryable, schema: string, table: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
  await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${schemaIdent(schema)};
    CREATE TABLE IF NOT EXISTS ${dataTable(schema, table)} (
      tenant_id uuid NOT NULL,
      id text NOT NULL,
      data jsonb NOT NULL,
      updated_at timestamptz,
      synced_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id)
    )`);
}

const WIDENED = `CASE WHEN a.data_type = EXCLUDED.data_type THEN a.data_type
  WHEN a.data_type = 'jsonb' OR EXCLUDED.data_type = 'jsonb' THEN 'jsonb' ELSE 'text' END`;

/**
 * Records the columns of a push and regenerates the tenant's view when its column set or a
 * column's type changed; otherwise the view is left alone. Returns the columns after the push.
 */
export async function trackColumns(
  tx: Queryable,
  target: { sourceId: string; schema: string; tenantId: string; table: string },
  columns: Map<string, ColumnType>,
): Promise<Map<string, ColumnType>> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
    `rowsync-view:${target.tenantId}:${target.table}`,
  ]);
  const changed = await tx.query(
    `INSERT INTO tenant_column_access AS a (tenant_id, source_id, table_name, column_name, data_type)
     SELECT $1, $2, $3, c.name, c.type FROM unnest($4::text[], $5::text[]) AS c(name, type)
     ON CONFLICT (tenant_id, table_name, column_name) DO UPDATE SET data_type = ${WIDENED}
     WHERE a.data_type <> ${WIDENED}
     RETURNING column_name`,
    [target.tenantId, target.sourceId, target.table, [...columns.keys()], [...columns.values()]],
  );
  const all = await loadColumns(tx, target.tenantId, target.table);
  if (changed.rowCount > 0) await regenerateView(tx, target, all);
  return all;
}

async function regenerateView(
  tx: Queryable,
  target: { schema: string; tenantId: string; table: string },
  columns: Map<string, ColumnType>,
): Promise<void> {
  const view = tenantView(target.tenantId, target.table);
  const list = [...columns].map(([name, type]) => columnExpression(name, type, columnIdent(name)));
  // Dropped and created rather than replaced: CREATE OR REPLACE cannot change a column's type.
  await tx.exec(`DROP VIEW IF EXISTS ${view};
    CREATE VIEW ${view} AS SELECT ${list.join(', ')}
    FROM ${dataTable(target.schema, target.table)} WHERE tenant_id = ${quoteLiteral(target.tenantId)}::uuid`);
}
