/** What other modules may use of this one. */
export { startDemo } from './simulator.ts';
