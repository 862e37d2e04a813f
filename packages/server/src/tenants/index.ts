/** What other modules may use of this one. */
export {
  findTenant,
  insertTenant,
  listTenants,
  setTenantCurrency,
  type TenantRow,
  toTenant,
  updateTenant,
} from './store.ts';
