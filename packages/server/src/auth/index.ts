/** What other modules may use of this one. */
export { ApiKeyLookup } from './key-lookup.ts';
export {
  requirePlatformAdmin,
  requirePrincipal,
  requireScope,
  requireTenant,
  visibleTenant,
} from './principal.ts';
