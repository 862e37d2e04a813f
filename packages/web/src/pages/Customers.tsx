import type { Customer, CustomerProfile } from '@syncdeck/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { get } from '../api.ts';
import { arrowKeys, ListStates, PagedTable, SearchFilter, useDebounced, useTenantList } from '../lists.tsx';
import { useTenant } from '../session.tsx';
import {
  Badge,
  Empty,
  ErrorState,
  formatAgo,
  formatMoney,
  formatPhone,
  formatTime,
  PageHeader,
  Skeleton,
  StatusBadge,
} from '../ui.tsx';
import { EscalationRow } from './Escalations.tsx';
import { displayName } from './inbox/common.ts';
import { OrderRow } from './Orders.tsx';

export function Customers() {
  const { tenant } = useTenant();
  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim());
  const list = useTenantList<Customer>('customers', '/api/customers', { filter: { q: q || undefined } });
  return (
    <div className="page">
      <PageHeader title="Customers">
        <SearchFilter
          label="Search customers"
          placeholder="Search name or phone"
          value={search}
          onChange={setSearch}
        />
      </PageHeader>
      <ListStates
        list={list}
        skeleton={8}
        empty={
          <Empty title={q ? 'No customer matches' : 'No customers yet'}>
            {q ? 'Try another name or number.' : 'Customers appear when a bot first meets them.'}
          </Empty>
        }
      >
        <PagedTable
          list={list}
          columns={['Name', 'Phone', 'Channel', 'Language', 'Last seen']}
          onKeyDown={arrowKeys}
        >
          {list.rows.map((c) => (
            <tr key={c.id}>
              <td>
                <Link data-row to={`/t/${tenant.slug}/customers/${c.id}`} dir="auto">
                  {c.displayName ?? 'Unnamed customer'}
                </Link>
              </td>
              <td>{formatPhone(c.whatsappPhone ?? c.phone)}</td>
              <td>{c.primaryChannel ?? '—'}</td>
              <td>{c.preferredLanguage ?? '—'}</td>
              <td>{formatAgo(c.lastSeenAt)}</td>
            </tr>
          ))}
        </PagedTable>
      </ListStates>
    </div>
  );
}

const timelineLabels: Record<string, string> = {
  'customer.first_seen': 'First seen',
  'conversation.started': 'Conversation started',
  'conversation.closed': 'Conversation closed',
  'order.created': 'Order placed',
  'order.status': 'Order status',
  'escalation.opened': 'Escalated',
  'escalation.resolved': 'Escalation resolved',
};

export function CustomerProfileView() {
  const { customerId } = useParams();
  const { tenant, key } = useTenant();
  const profile = useQuery({
    queryKey: [...key, 'customer', customerId],
    queryFn: () => get<CustomerProfile>(`/api/customers/${customerId}`, { tenant: tenant.slug }),
  });
  if (profile.isPending) return <Skeleton rows={6} height={80} />;
  if (profile.isError) return <ErrorState error={profile.error} retry={() => profile.refetch()} />;
  const p = profile.data;
  return (
    <div className="page">
      <PageHeader title={p.displayName ?? 'Unnamed customer'}>
        <Link to={`/t/${tenant.slug}/customers`} className="button ghost">
          All customers
        </Link>
      </PageHeader>
      <div className="grid-2">
        <section className="card" aria-labelledby="identities">
          <h2 id="identities">Identities</h2>
          <dl className="facts">
            {p.identities.map((identity) => (
              <div key={`${identity.kind}:${identity.value}`}>
                <dt>{identity.kind}</dt>
                <dd>{identity.value}</dd>
              </div>
            ))}
            <div>
              <dt>channels</dt>
              <dd>{p.channels.join(', ') || '—'}</dd>
            </div>
            <div>
              <dt>language</dt>
              <dd>{p.preferredLanguage ?? '—'}</dd>
            </div>
            <div>
              <dt>first seen</dt>
              <dd>{formatTime(p.firstSeenAt)}</dd>
            </div>
            <div>
              <dt>last seen</dt>
              <dd>{formatTime(p.lastSeenAt)}</dd>
            </div>
          </dl>
          <dl className="totals" aria-label="Totals">
            <div>
              <dt>Orders</dt>
              <dd>{p.totals.orders}</dd>
            </div>
            <div>
              <dt>Spent</dt>
              <dd className="money" data-testid="customer-spent">
                {formatMoney(p.totals.spent, tenant.currency)}
              </dd>
            </div>
            <div>
              <dt>Open escalations</dt>
              <dd>{p.totals.openEscalations}</dd>
            </div>
          </dl>
        </section>
        <section className="card" aria-labelledby="conversations">
          <h2 id="conversations">Conversations</h2>
          {p.conversations.length === 0 ? (
            <p className="muted">None yet.</p>
          ) : (
            <ul className="plain-list">
              {p.conversations.map((c) => (
                <li key={c.id}>
                  <Link to={`/t/${tenant.slug}/inbox/${c.id}`} dir="auto">
                    {c.lastMessagePreview ?? displayName(c)}
                  </Link>{' '}
                  <StatusBadge status={c.status} />{' '}
                  {c.unreadCount > 0 ? <Badge tone="blue">{c.unreadCount} unread</Badge> : null}
                  <span className="muted"> · {formatAgo(c.lastMessageAt ?? c.createdAt)}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
      <section className="card" aria-labelledby="orders">
        <h2 id="orders">Orders</h2>
        {p.orders.length === 0 ? (
          <p className="muted">No orders.</p>
        ) : (
          <ul className="plain-list">
            {p.orders.map((order) => (
              <OrderRow key={order.id} order={order} />
            ))}
          </ul>
        )}
      </section>
      <section className="card" aria-labelledby="escalations">
        <h2 id="escalations">Escalations</h2>
        {p.escalations.length === 0 ? (
          <p className="muted">No escalations.</p>
        ) : (
          <ul className="plain-list">
            {p.escalations.map((escalation) => (
              <EscalationRow key={escalation.id} escalation={escalation} />
            ))}
          </ul>
        )}
      </section>
      <section className="card" aria-labelledby="timeline">
        <h2 id="timeline">Timeline</h2>
        <ol className="timeline">
          {p.timeline.map((entry) => (
            <li key={`${entry.type}:${entry.entityId}:${entry.at}`}>
              <time dateTime={entry.at}>{formatTime(entry.at)}</time>
              <span>{timelineLabels[entry.type] ?? entry.type}</span>
              {entry.detail ? (
                <span className="muted" dir="auto">
                  {entry.detail}
                </span>
              ) : null}
            </li>
          ))}
        </ol>
      </section>
    </div>
  );
}
