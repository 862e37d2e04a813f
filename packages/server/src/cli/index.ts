/** What other modules may use of this one. */
export { claimDataDir, releaseDataDir, updateClaim } from './control.ts';
export { controlRoutes } from './control-routes.ts';
