import type { Queryable } from '../db/index.ts';
import { staleChartsSql } from '../charts/index.ts';

/** Where a push goes: a source's table, for one of its tenants. */
export interface PushTarget {
  sourceId: string;
  sourceName: string;
  schema: string;
  tenantId: string;
  externalTenantId: string;
  table: string;
}

/** After a change that readers can see: the push log and the charts over the table go stale. */
export async function recordPush(
  tx: Queryable,
  target: PushTarget,
  type: string,
  rows: number,
): Promise<void> {
  await tx.query(
    `WITH pushed AS (INSERT INTO tenant_data_push_log (tenant_id, source_id, table_name, event_type, rows)
       VALUES ($1, $2, $3, $4, $5) RETURNING 1)
     ${staleChartsSql('SELECT $1::uuid AS tenant_id, $3::text AS table_name')}`,
    [target.tenantId, target.sourceId, target.table, type, rows],
  );
}
