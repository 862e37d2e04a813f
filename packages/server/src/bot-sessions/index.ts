/** What other modules may use of this one. */
export { pruneExpiredSessions } from './store.ts';
