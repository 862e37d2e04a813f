import type { Conversation, ConversationStats, RestaurantBot, Tenant } from '@syncdeck/core';
import { useQueries } from '@tanstack/react-query';
import { Link } from 'react-router';
import { get, getPage } from '../api.ts';
import { Frame } from '../shell.tsx';
import { useTenants } from '../session.tsx';
import {
  Badge,
  Empty,
  ErrorState,
  formatAgo,
  formatPhone,
  PageHeader,
  Skeleton,
  StatusBadge,
} from '../ui.tsx';
import { displayName } from './inbox/common.ts';

interface TenantSummary {
  bots: RestaurantBot[];
  conversations: Conversation[];
  stats: ConversationStats;
}

async function summary(tenant: Tenant): Promise<TenantSummary> {
  const options = { tenant: tenant.slug };
  const [bots, conversations, stats] = await Promise.all([
    get<RestaurantBot[]>(`/api/db/restaurants/${encodeURIComponent(tenant.slug)}/bots`),
    getPage<Conversation>('/api/db/conversations', { ...options, query: { limit: 5 } }),
    get<ConversationStats>('/api/db/conversations/stats', options),
  ]);
  return { bots, conversations: conversations.items, stats };
}

/**
 * Every tenant's bots and latest conversations on one page (seed 001's admin dashboard),
 * each fetched with its own X-Tenant-Id. The realtime feed is per tenant, so this page
 * refreshes on a timer instead of holding a socket per tenant.
 */
export function AllTenants() {
  const tenants = useTenants(true);
  const list = tenants.data ?? [];
  const summaries = useQueries({
    queries: list.map((tenant) => ({
      queryKey: ['t', tenant.slug, 'all-tenants'],
      queryFn: () => summary(tenant),
      refetchInterval: 10_000,
    })),
  });
  return (
    <Frame>
      <div className="page">
        <PageHeader title="All tenants" />
        {tenants.isPending ? (
          <Skeleton rows={3} height={160} />
        ) : tenants.isError ? (
          <ErrorState error={tenants.error} retry={() => tenants.refetch()} />
        ) : list.length === 0 ? (
          <Empty title="No tenants yet">Create one with `npx syncdeck tenant create`.</Empty>
        ) : (
          <div className="tenant-grid">
            {list.map((tenant, index) => {
              const s = summaries[index];
              return (
                <section key={tenant.id} className="card" aria-labelledby={`tenant-${tenant.id}`}>
                  <div className="form-head">
                    <h2 id={`tenant-${tenant.id}`}>
                      <Link to={`/t/${tenant.slug}/overview`}>{tenant.name}</Link>
                    </h2>
                    {s?.data ? (
                      <span className="muted small">
                        {s.data.stats.activeConversations} active · {s.data.stats.totalUnread} unread ·{' '}
                        {s.data.stats.totalConversations} total
                      </span>
                    ) : null}
                  </div>
                  {!s || s.isPending ? (
                    <Skeleton rows={3} />
                  ) : s.isError && !s.data ? (
                    <ErrorState error={s.error} retry={() => s.refetch()} />
                  ) : s.data ? (
                    <>
                      <h3>Bots</h3>
                      {s.data.bots.length === 0 ? (
                        <p className="muted">No bots.</p>
                      ) : (
                        <ul className="plain-list">
                          {s.data.bots.map((bot) => (
                            <li key={bot.id}>
                              {bot.name} <span className="muted">{formatPhone(bot.whatsappNumber)}</span>{' '}
                              <StatusBadge status={bot.status} />
                            </li>
                          ))}
                        </ul>
                      )}
                      <h3>Latest conversations</h3>
                      {s.data.conversations.length === 0 ? (
                        <p className="muted">No conversations.</p>
                      ) : (
                        <ul className="plain-list">
                          {s.data.conversations.map((c) => (
                            <li key={c.id}>
                              <Link to={`/t/${tenant.slug}/inbox/${c.id}`} dir="auto">
                                {displayName(c)}
                              </Link>{' '}
                              <span className="muted" dir="auto">
                                {c.lastMessagePreview}
                              </span>{' '}
                              {c.unreadCount > 0 ? <Badge tone="blue">{c.unreadCount}</Badge> : null}
                              <span className="muted small">
                                {' '}
                                · {formatAgo(c.lastMessageAt ?? c.createdAt)}
                              </span>
                            </li>
                          ))}
                        </ul>
                      )}
                    </>
                  ) : null}
                </section>
              );
            })}
          </div>
        )}
      </div>
    </Frame>
  );
}
