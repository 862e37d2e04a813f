/** What other modules may use of this one. */
export { findTenant, insertTenant, listTenants, type TenantRow, toTenant } from './store.ts';
