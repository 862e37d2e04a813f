/** A single-row change as a source platform's webhook sends it (seed 004). */
export function rowChange(
  type: string,
  table: string,
  tenant: string,
  record: Record<string, unknown>,
): object {
  return { type, table, tenant_id: tenant, record, old_record: null };
}
