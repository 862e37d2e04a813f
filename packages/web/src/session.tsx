import type { FeedFrame, Me, Role, Scope, Tenant } from '@syncdeck/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext, useEffect, useMemo, useState } from 'react';
import { get, getPage } from './api.ts';
import { FeedLink, type LinkState } from './feedLink.ts';
import { createFrameApplier, tenantKey } from './realtime.ts';

/**
 * Who is logged in, `user: null` for nobody. It asks `/api/session`, which answers 200 either
 * way: not being logged in is an answer, and a 401 would be a red error in the console on every
 * visit before login.
 */
export function useMe() {
  return useQuery({
    queryKey: ['me'],
    queryFn: () => get<Me>('/api/session'),
    staleTime: 60_000,
  });
}

/** The tenants this user may open: all of them for a platform admin. */
export function useTenants(enabled: boolean) {
  return useQuery({
    queryKey: ['tenants'],
    queryFn: async () => (await getPage<Tenant>('/api/admin/tenants', { query: { limit: 200 } })).items,
    enabled,
    staleTime: 60_000,
  });
}

const scopesOf: Record<Role, Scope[]> = {
  owner: ['read', 'operate', 'admin'],
  admin: ['read', 'operate', 'admin'],
  agent: ['read', 'operate'],
  viewer: ['read'],
};

export interface TenantContextValue {
  tenant: Tenant;
  /** Every tenant's queries live under this key. */
  key: readonly ['t', string];
  role: Role | 'platform admin';
  can(scope: Scope): boolean;
  link: LinkState;
}

const TenantContext = createContext<TenantContextValue | null>(null);

export function useTenant(): TenantContextValue {
  const value = useContext(TenantContext);
  if (!value) throw new Error('useTenant outside a tenant');
  return value;
}

const LAST_TENANT = 'syncdeck.lastTenant';
export const rememberTenant = (slug: string) => localStorage.setItem(LAST_TENANT, slug);
export const lastTenant = () => localStorage.getItem(LAST_TENANT);

/**
 * Provides the chosen tenant and keeps one realtime link to its change feed while it is
 * open; every change is applied to the query cache, so all screens follow it.
 */
export function TenantProvider({ tenant, me, children }: { tenant: Tenant; me: Me; children: ReactNode }) {
  const client = useQueryClient();
  const [link, setLink] = useState<LinkState>({
    status: 'connecting',
    seq: null,
    caughtUp: null,
    downSince: null,
  });

  useEffect(() => {
    rememberTenant(tenant.slug);
    const apply = createFrameApplier(client, tenant.slug);
    const feed = new FeedLink(tenant.slug, {
      onFrame: (frame: FeedFrame) => apply(frame),
      onReload: () => client.invalidateQueries({ queryKey: tenantKey(tenant.slug) }),
      onResumed: () =>
        client.invalidateQueries({
          predicate: (query) => query.state.status === 'error',
        }),
      onState: (state) => {
        setLink(state);
        // A socket that cannot even open may mean the session ended: /api/me tells.
        if (state.status === 'offline') client.invalidateQueries({ queryKey: ['me'] });
      },
    });
    feed.start();
    return () => feed.stop();
  }, [client, tenant.slug]);

  const value = useMemo<TenantContextValue>(() => {
    const membership = me.memberships.find((m) => m.tenant.id === tenant.id);
    const platform = Boolean(me.user?.platformAdmin);
    const scopes = platform ? scopesOf.owner : membership ? scopesOf[membership.role] : [];
    return {
      tenant,
      key: tenantKey(tenant.slug),
      role: membership?.role ?? (platform ? 'platform admin' : 'viewer'),
      can: (scope) => scopes.includes(scope),
      link,
    };
  }, [me, tenant, link]);

  return <TenantContext.Provider value={value}>{children}</TenantContext.Provider>;
}
