import type { Me, Tenant } from '@syncdeck/core';
import { useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useEffect, useState } from 'react';
import { Link, Navigate, NavLink, Outlet, useLocation, useNavigate, useParams } from 'react-router';
import { request } from './api.ts';
import type { LinkState } from './feedLink.ts';
import { lastTenant, TenantProvider, useMe, useTenant, useTenants } from './session.tsx';
import { ErrorState, Skeleton } from './ui.tsx';

function Splash() {
  return (
    <div className="splash">
      <Skeleton rows={3} />
    </div>
  );
}

/** Everything but the login page: shows the login when there is no session. */
export function RequireLogin() {
  const me = useMe();
  const location = useLocation();
  if (me.data === undefined) {
    if (me.isError) return <ErrorState error={me.error} retry={() => me.refetch()} />;
    return <Splash />;
  }
  if (!me.data.user) {
    const next = location.pathname === '/' ? '' : `?next=${encodeURIComponent(location.pathname)}`;
    return <Navigate to={`/login${next}`} replace />;
  }
  return <Outlet />;
}

/** What a path the dashboard does not know shows, with a way back (`to`). */
export function NotFoundMessage({ to, label }: { to: string; label: string }) {
  const location = useLocation();
  return (
    <div className="empty not-found" role="alert">
      <p className="empty-title">Page not found</p>
      <p className="muted">
        Nothing is at <code dir="auto">{location.pathname}</code>. The link may be old or mistyped.
      </p>
      <p>
        <Link to={to} className="button primary">
          {label}
        </Link>
      </p>
    </div>
  );
}

/** Any path outside the dashboard's: the not-found page, in the frame when logged in. */
export function NotFound() {
  const me = useMe();
  if (me.data === undefined && !me.isError) return <Splash />;
  if (!me.data?.user) {
    return (
      <div className="splash">
        <NotFoundMessage to="/login" label="Log in" />
      </div>
    );
  }
  return (
    <Frame>
      <NotFoundMessage to="/" label="Go to your dashboard" />
    </Frame>
  );
}

/** `/`: the tenant last opened, else the first one, else the all-tenants view. */
export function Home() {
  const me = useMe();
  const tenants = useTenants(true);
  if (tenants.isError) return <ErrorState error={tenants.error} retry={() => tenants.refetch()} />;
  if (!tenants.data) return <Splash />;
  const remembered = tenants.data.find((t) => t.slug === lastTenant());
  const first = remembered ?? tenants.data[0];
  if (first) return <Navigate to={`/t/${first.slug}/overview`} replace />;
  if (me.data?.user?.platformAdmin) return <Navigate to="/all" replace />;
  return (
    <Frame>
      <div className="empty">
        <p className="empty-title">You are not a member of any tenant yet.</p>
        <p className="muted">Ask an administrator to add you.</p>
      </div>
    </Frame>
  );
}

export function TenantShell() {
  const { tenant: slug } = useParams();
  const me = useMe();
  const tenants = useTenants(true);
  if (tenants.isError && !tenants.data)
    return <ErrorState error={tenants.error} retry={() => tenants.refetch()} />;
  if (!tenants.data || !me.data) return <Splash />;
  const tenant = tenants.data.find((t) => t.slug === slug || t.id === slug);
  if (!tenant) {
    return (
      <Frame>
        <div className="empty" role="alert">
          <p className="empty-title">No tenant “{slug}” here.</p>
          <p>
            <Link to="/">Go to your dashboard</Link>
          </p>
        </div>
      </Frame>
    );
  }
  return (
    <TenantProvider key={tenant.id} tenant={tenant} me={me.data}>
      <TenantFrame />
    </TenantProvider>
  );
}

function TenantFrame() {
  const { tenant, can, link } = useTenant();
  const base = `/t/${tenant.slug}`;
  const nav: [string, string, boolean][] = [
    ['overview', 'Overview', true],
    ['inbox', 'Inbox', true],
    ['customers', 'Customers', true],
    ['orders', 'Orders', true],
    ['escalations', 'Escalations', true],
    ['sync', 'Sync', true],
    ['bots', 'Bots', can('admin')],
    ['settings', 'Settings', can('admin')],
  ];
  return (
    <Frame
      tenant={tenant}
      link={link}
      sidebar={
        <nav aria-label="Sections" className="nav">
          {nav
            .filter(([, , shown]) => shown)
            .map(([path, label]) => (
              <NavLink key={path} to={`${base}/${path}`} className="nav-link">
                {label}
              </NavLink>
            ))}
        </nav>
      }
    >
      <Outlet />
    </Frame>
  );
}

/** The sidebar (tenant switcher, `sidebar`, link status, logout) and the page in <main>. */
export function Frame({
  tenant,
  link,
  sidebar,
  children,
}: {
  tenant?: Tenant;
  link?: LinkState;
  sidebar?: ReactNode;
  children?: ReactNode;
}) {
  const me = useMe();
  // On a phone the sidebar folds behind a menu button, and folds again on every navigation.
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new location is what closes it
  useEffect(() => setMenuOpen(false), [location.pathname]);
  return (
    <div className="app">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          {tenant?.name ?? 'Syncdeck'}
        </div>
        <button
          type="button"
          className="button ghost small"
          aria-expanded={menuOpen}
          aria-controls="sidebar"
          onClick={() => setMenuOpen((open) => !open)}
        >
          {menuOpen ? 'Close menu' : 'Menu'}
        </button>
      </header>
      <aside className={menuOpen ? 'sidebar open' : 'sidebar'} id="sidebar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Syncdeck
        </div>
        <TenantSwitcher current={tenant} me={me.data ?? null} />
        {sidebar}
        <div className="sidebar-foot">
          {link ? <LinkIndicator link={link} /> : null}
          <div className="whoami" title={me.data?.user?.email}>
            {me.data?.user?.email}
          </div>
          <LogoutButton />
        </div>
      </aside>
      <main className="main" id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

function TenantSwitcher({ current, me }: { current: Tenant | undefined; me: Me | null }) {
  const tenants = useTenants(true);
  const navigate = useNavigate();
  const location = useLocation();
  const platform = Boolean(me?.user?.platformAdmin);
  const list = tenants.data ?? [];
  if (list.length < 2 && !platform) {
    return current ? <div className="tenant-name">{current.name}</div> : null;
  }
  const section = current ? (location.pathname.split('/')[3] ?? 'overview') : 'overview';
  return (
    <div className="tenant-switcher">
      <label htmlFor="tenant-select">Tenant</label>
      <select
        id="tenant-select"
        value={current?.slug ?? ''}
        onChange={(event) => {
          const slug = event.target.value;
          // Detail pages (a conversation, a customer) belong to the old tenant: land on the section.
          navigate(slug ? `/t/${slug}/${section}` : '/all');
        }}
      >
        {current ? null : <option value="">All tenants</option>}
        {list.map((t) => (
          <option key={t.id} value={t.slug}>
            {t.name}
          </option>
        ))}
      </select>
      {list.length > 1 || platform ? (
        <NavLink to="/all" className="nav-link small">
          All tenants
        </NavLink>
      ) : null}
    </div>
  );
}

function LinkIndicator({ link }: { link: LinkState }) {
  const [, tick] = useState(0);
  // "Caught up N changes" says what a resume replayed; it stays a while, then goes.
  const [showCaughtUp, setShowCaughtUp] = useState(false);
  useEffect(() => {
    if (!link.caughtUp) return;
    setShowCaughtUp(true);
    const timer = setTimeout(() => setShowCaughtUp(false), 20_000);
    return () => clearTimeout(timer);
  }, [link.caughtUp]);
  useEffect(() => {
    if (link.status === 'live') return;
    const timer = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, [link.status]);
  const labels = {
    connecting: 'Connecting…',
    live: 'Live',
    reconnecting: 'Reconnecting…',
    offline: 'Offline',
  };
  const down = link.downSince ? Math.round((Date.now() - link.downSince) / 1000) : null;
  return (
    <div className={`link link-${link.status}`} role="status" aria-live="polite" data-testid="link-status">
      <span className="link-dot" aria-hidden="true" />
      <span>{labels[link.status]}</span>
      {link.status !== 'live' && down !== null && down > 0 ? <span className="muted"> · {down}s</span> : null}
      {link.status === 'live' && link.caughtUp && showCaughtUp ? (
        <span className="muted" data-testid="caught-up">
          {' '}
          · caught up {link.caughtUp} change{link.caughtUp === 1 ? '' : 's'}
        </span>
      ) : null}
    </div>
  );
}

function LogoutButton() {
  const client = useQueryClient();
  const navigate = useNavigate();
  return (
    <button
      type="button"
      className="button ghost small"
      onClick={async () => {
        await request('/api/auth/logout', { method: 'POST' }).catch(() => {});
        client.clear();
        navigate('/login', { replace: true });
      }}
    >
      Log out
    </button>
  );
}
