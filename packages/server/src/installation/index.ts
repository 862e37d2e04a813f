/** What other modules may use of this one. */
export { initialise, type InitialiseResult, isInitialised } from './service.ts';
