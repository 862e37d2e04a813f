/** What other modules may use of this one. */
export { customerSearchText, searchPatterns, type SearchPatterns } from './search.ts';
export { listCustomers } from './store.ts';
