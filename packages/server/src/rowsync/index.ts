/** What other modules may use of this one. */
export { columnIdent, tenantView } from './names.ts';
export { filterSql, tenantTable, type TenantTable } from './query.ts';
export { addSecret, createSource, mapSourceTable, removeSecret } from './service.ts';
export { signSeed } from './signature.ts';
export { pruneRowSync } from './store.ts';
