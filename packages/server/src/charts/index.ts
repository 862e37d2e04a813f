/** What other modules may use of this one. */
export { staleChartsSql } from './store.ts';
