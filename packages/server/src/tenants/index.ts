/** What other modules may use of this one. */
export { findTenant, insertTenant, type TenantRow, toTenant } from './store.ts';
