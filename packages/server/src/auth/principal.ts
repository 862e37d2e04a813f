import {
  isStorableText,
  type Role,
  type Scope,
  scopeAllows,
  scopes,
  scopesOfRole,
  type Tenant,
  UNSTORABLE_TEXT_MESSAGE,
} from '@syncdeck/core';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../lib/errors.ts';
import { findTenant, toTenant } from '../tenants/index.ts';
import { hashToken } from '../lib/secrets.ts';
import { findLiveSession, listUserRoles } from './store.ts';

export const SESSION_COOKIE = 'syncdeck_session';

/** Who is calling, as established from their credential for this one request. */
export interface Principal {
  kind: 'apiKey' | 'user';
  /** The key's id or the user's id. */
  id: string;
  name: string;
  platformAdmin: boolean;
  /** Scopes per tenant id. A platform admin holds every scope in every tenant. */
  grants: Map<string, readonly Scope[]>;
  /** The tenant an API key belongs to (null for a platform key or a user). */
  keyTenantId: string | null;
  /** That tenant itself, loaded with the key. */
  keyTenant: Tenant | null;
  keyScopes: readonly Scope[];
  roles: Map<string, Role>;
  sessionId: string | null;
}

export interface TenantContext {
  tenant: Tenant;
  principal: Principal;
}

declare module 'fastify' {
  interface FastifyRequest {
    principalPromise?: Promise<Principal | null>;
  }
}

async function resolvePrincipal(request: FastifyRequest): Promise<Principal | null> {
  const db = request.server.db;
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw AppError.unauthorized('The Authorization header must be "Bearer <API key>"');
    const key = await request.server.apiKeys.find(hashToken(match[1]!));
    if (!key) throw AppError.unauthorized('The API key is unknown or revoked');
    const grants = new Map<string, readonly Scope[]>();
    if (key.tenant_id) grants.set(key.tenant_id, key.scopes);
    return {
      kind: 'apiKey',
      id: key.id,
      name: key.name,
      platformAdmin: key.tenant_id === null,
      grants,
      keyTenantId: key.tenant_id,
      keyTenant: key.tenant ? toTenant(key.tenant) : null,
      keyScopes: key.scopes,
      roles: new Map(),
      sessionId: null,
    };
  }
  const sessionToken = request.cookies[SESSION_COOKIE];
  if (!sessionToken) return null;
  const session = await findLiveSession(db, hashToken(sessionToken));
  // A stale cookie is treated like no cookie: the client simply is not logged in.
  if (!session) return null;
  const roles = new Map(
    (await listUserRoles(db, session.user_id)).map((m) => [m.tenant_id, m.role] as const),
  );
  return {
    kind: 'user',
    id: session.user_id,
    name: session.email,
    platformAdmin: session.platform_admin,
    grants: new Map([...roles].map(([tenantId, role]) => [tenantId, scopesOfRole[role]] as const)),
    keyTenantId: null,
    keyTenant: null,
    keyScopes: [],
    roles,
    sessionId: session.session_id,
  };
}

/** The caller's principal, or null when no credential was sent. Resolved once per request. */
export function getPrincipal(request: FastifyRequest): Promise<Principal | null> {
  request.principalPromise ??= resolvePrincipal(request);
  return request.principalPromise;
}

export async function requirePrincipal(request: FastifyRequest): Promise<Principal> {
  const principal = await getPrincipal(request);
  if (!principal) throw AppError.unauthorized();
  return principal;
}

export async function requirePlatformAdmin(request: FastifyRequest): Promise<Principal> {
  const principal = await requirePrincipal(request);
  if (!principal.platformAdmin) throw AppError.forbidden('Only a platform admin may do this');
  return principal;
}

function scopesIn(principal: Principal, tenantId: string): readonly Scope[] {
  return principal.platformAdmin ? scopes : (principal.grants.get(tenantId) ?? []);
}

function tenantHeader(request: FastifyRequest): string | undefined {
  const raw = request.headers['x-tenant-id'] ?? request.headers['x-restaurant-id'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  // Node's HTTP parser refuses a NUL in a header, but not every caller comes through it.
  if (value !== undefined && !isStorableText(value)) {
    throw AppError.badRequest('The request is not valid', [
      { path: 'headers.x-tenant-id', message: UNSTORABLE_TEXT_MESSAGE },
    ]);
  }
  return value?.trim() || undefined;
}

/** A tenant by id or slug, if the caller may see it; otherwise 404, exactly like a missing one. */
export async function visibleTenant(
  request: FastifyRequest,
  principal: Principal,
  idOrSlug: string,
): Promise<Tenant> {
  const tenant = await findTenant(request.server.db, idOrSlug);
  if (!tenant || !(principal.platformAdmin || principal.grants.has(tenant.id)))
    throw AppError.notFound('Tenant');
  return tenant;
}

export function requireScope(principal: Principal, tenantId: string, scope: Scope): void {
  if (!scopeAllows(scopesIn(principal, tenantId), scope)) {
    throw AppError.forbidden(`This credential lacks the "${scope}" scope for this tenant`);
  }
}

/**
 * The tenant this request acts on, from the credential; `X-Tenant-Id` / `X-Restaurant-Id`
 * (id or slug) chooses one only among those the credential may act for. A tenant the caller
 * may not see answers 404, exactly like one that does not exist.
 */
export async function requireTenant(
  request: FastifyRequest,
  scope: Scope,
  /** Where a header cannot be sent (a browser's WebSocket), the tenant chosen another way. */
  chosen?: string,
): Promise<TenantContext> {
  const principal = await requirePrincipal(request);
  const named = tenantHeader(request) ?? chosen;
  let tenant: Tenant | null;
  const own = principal.keyTenant;
  if (own && (!named || named === own.slug || named.toLowerCase() === own.id)) {
    tenant = own;
  } else if (named) {
    tenant = await visibleTenant(request, principal, named);
  } else {
    const [only, ...others] = principal.grants.keys();
    if (!only || others.length > 0 || principal.platformAdmin) {
      throw AppError.badRequest('Choose a tenant with the X-Tenant-Id header', [
        { path: 'headers.x-tenant-id', message: 'required for this credential' },
      ]);
    }
    tenant = await findTenant(request.server.db, only);
    if (!tenant) throw AppError.notFound('Tenant');
  }
  requireScope(principal, tenant.id, scope);
  return { tenant, principal };
}
