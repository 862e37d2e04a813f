/**
 * Who is calling: API keys (looked up in batches, kept on PGlite until a change to keys or
 * tenants) and session cookies resolve to a principal, and each route asks it for a scope in
 * one tenant. Logging in and out is `sessions/`.
 */
export { ApiKeyLookup } from './key-lookup.ts';
export {
  getPrincipal,
  type Principal,
  requirePlatformAdmin,
  requirePrincipal,
  requireScope,
  requireTenant,
  SESSION_COOKIE,
  type TenantContext,
  visibleTenant,
} from './principal.ts';
