/** What other modules may use of this one. */
export {
  addSecret,
  createSource,
  listSourceTenants,
  mapSourceTable,
  mapSourceTenant,
  removeSecret,
  setSourceTenant,
  unmapSourceTenant,
} from './admin.ts';
export { signSeed, signStandard } from './signature.ts';
export { listSources, toSource } from './sources.ts';
export { pruneRowSync } from './retention.ts';
export { ensureConfiguredSources } from './configured-source.ts';
export type { SourceTenantMapping, TenantRef } from './source-tenants.ts';
