/** What other modules may use of this one. */
export { addsColumns, type ColumnType, columnExpression, columnsOf, isTimestamp } from './columns.ts';
export { columnIdent, dataTable, quoteLiteral, schemaIdent, tenantView } from './names.ts';
export { filterSql, tenantTable, type TenantTable } from './query.ts';
export { loadColumns } from './store.ts';
