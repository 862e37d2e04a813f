import type { Overview as OverviewData } from '@syncdeck/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import {
  Bar,
  BarChart,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { get } from '../api.ts';
import { orderStatuses } from '@syncdeck/core/constants';
import { useTenant } from '../session.tsx';
import { Empty, ErrorState, formatMoney, formatMoneyCompact, PageHeader, Skeleton } from '../ui.tsx';

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
const presets = [7, 14, 30, 90];

function shift(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

const statusColors: Record<string, string> = {
  created: '#60a5fa',
  confirmed: '#2563eb',
  cooking: '#f59e0b',
  delivering: '#8b5cf6',
  delivered: '#16a34a',
  cancelled: '#dc2626',
};

const shortDay = (date: string) =>
  new Date(`${date}T00:00:00Z`).toLocaleDateString(undefined, {
    month: 'short',
    day: 'numeric',
    timeZone: 'UTC',
  });

export default function Overview() {
  const { tenant, key } = useTenant();
  const [params, setParams] = useSearchParams();
  const days = Number(params.get('days') ?? 14);
  const custom = params.get('from') && params.get('to');
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(new Date());
  const query = custom
    ? { from: params.get('from')!, to: params.get('to')!, tz: zone }
    : { from: shift(today, -(days - 1)), to: today, tz: zone };
  const overview = useQuery({
    queryKey: [...key, 'overview', query],
    queryFn: () => get<OverviewData>('/api/overview', { tenant: tenant.slug, query }),
    placeholderData: keepPreviousData,
  });

  const o = overview.data;
  const base = `/t/${tenant.slug}`;
  const cards: [string, string, string][] = o
    ? [
        ['Conversations today', String(o.cards.conversationsToday), `${base}/inbox`],
        ['Active conversations', String(o.cards.activeConversations), `${base}/inbox?status=active`],
        ['Unread messages', String(o.cards.unreadMessages), `${base}/inbox?status=active`],
        ['Open escalations', String(o.cards.openEscalations), `${base}/escalations?status=open`],
        ['Orders today', String(o.cards.ordersToday), `${base}/orders`],
        ['Revenue today', formatMoney(o.cards.revenueToday, tenant.currency), `${base}/orders`],
      ]
    : [];
  const series = o?.days.map((d) => ({ ...d, label: shortDay(d.date), ...d.ordersByStatus })) ?? [];
  const quiet = (pick: (d: OverviewData['days'][number]) => number) => !o?.days.some((d) => pick(d) > 0);

  return (
    <div className="page">
      <PageHeader title="Overview">
        <fieldset className="segmented" aria-label="Range">
          {presets.map((n) => (
            <button
              key={n}
              type="button"
              aria-pressed={!custom && days === n}
              className={!custom && days === n ? 'seg active' : 'seg'}
              onClick={() => setParams({ days: String(n) }, { replace: true })}
            >
              {n} days
            </button>
          ))}
        </fieldset>
        <label className="field inline">
          <span>From</span>
          <input
            type="date"
            value={o?.range.from ?? ''}
            onChange={(e) =>
              e.target.value && setParams({ from: e.target.value, to: o?.range.to ?? e.target.value })
            }
          />
        </label>
        <label className="field inline">
          <span>To</span>
          <input
            type="date"
            value={o?.range.to ?? ''}
            onChange={(e) =>
              e.target.value && setParams({ from: o?.range.from ?? e.target.value, to: e.target.value })
            }
          />
        </label>
      </PageHeader>
      {overview.isPending ? (
        <Skeleton rows={4} height={110} />
      ) : overview.isError && !o ? (
        <ErrorState error={overview.error} retry={() => overview.refetch()} />
      ) : o ? (
        <>
          {overview.isError ? <ErrorState error={overview.error} retry={() => overview.refetch()} /> : null}
          <div className="cards" data-testid="overview-cards">
            {cards.map(([label, value, to]) => (
              <Link key={label} to={to} className="stat-card">
                <span className="stat-label">{label}</span>
                <span className="stat-value">{value}</span>
              </Link>
            ))}
          </div>
          <p className="muted small">
            {o.range.from} to {o.range.to}, days in {o.range.tz}
          </p>
          <div className="charts">
            <section className="card chart" aria-labelledby="chart-conv">
              <h2 id="chart-conv">Conversations and messages per day</h2>
              {quiet((d) => d.conversations + d.messages) ? (
                <Empty title="No conversations in this range" />
              ) : (
                <ResponsiveContainer width="100%" height={240}>
                  <ComposedChart data={series} margin={{ top: 8, right: 8, bottom: 0, left: -12 }}>
                    <CartesianGrid stroke="#e5e7eb" vertical={false} />
                    <XAxis dataKey="label" fontSize={12} />
                    <YAxis yAxisId="left" allowDecimals={false} fontSize={12} />
                    <YAxis yAxisId="right" orientation="right" allowDecimals={false} fontSize={12} />
                    <Tooltip />
                    <Legend />
                    <Bar
                      isAnimationActive={false}
                      yAxisId="left"
                      dataKey="conversations"
                      name="Conversations"
                      fill="#0f766e"
                      radius={[3, 3, 0, 0]}
                    />
                    <Line
                      isAnimationActive={false}
                      yAxisId="right"
                      dataKey="messages"
                      name="Messages"
                      stroke="#7c3aed"
                      strokeWidth={2}
                      dot={{ r: 2 }}
                    />
                  </ComposedChart>
                </ResponsiveContainer>
              )}
            </section>
            <section className="card chart" aria-labelledby="chart-orders">
              <h2 id="chart-orders">Orders and revenue per day</h2>
              {quiet((d) => d.orders) ? (
                <Empty title="No orders in this range" />
              ) : (
                <ResponsiveContainer width="100%" height={240}>
                  <ComposedChart data={series} margin={{ top: 8, right: 8, bottom: 0, left: -12 }}>
                    <CartesianGrid stroke="#e5e7eb" vertical={false} />
                    <XAxis dataKey="label" fontSize={12} />
                    <YAxis yAxisId="left" allowDecimals={false} fontSize={12} />
                    <YAxis
                      yAxisId="right"
                      orientation="right"
                      fontSize={12}
                      tickFormatter={(value) => formatMoneyCompact(Number(value), tenant.currency)}
                    />
                    <Tooltip
                      formatter={(value, name) =>
                        name === 'Revenue' ? formatMoney(Number(value), tenant.currency) : value
                      }
                    />
                    <Legend />
                    <Bar
                      isAnimationActive={false}
                      yAxisId="left"
                      dataKey="orders"
                      name="Orders"
                      fill="#2563eb"
                      radius={[3, 3, 0, 0]}
                    />
                    <Line
                      isAnimationActive={false}
                      yAxisId="right"
                      dataKey="revenue"
                      name="Revenue"
                      stroke="#d97706"
                      strokeWidth={2}
                      dot={{ r: 2 }}
                    />
                  </ComposedChart>
                </ResponsiveContainer>
              )}
            </section>
            <section className="card chart wide" aria-labelledby="chart-status">
              <h2 id="chart-status">Orders by status</h2>
              {quiet((d) => d.orders) ? (
                <Empty title="No orders in this range" />
              ) : (
                <>
                  <ul className="status-totals">
                    {orderStatuses.map((s) => (
                      <li key={s}>
                        <span className="swatch" style={{ background: statusColors[s] }} aria-hidden="true" />
                        {s}: <strong>{o.ordersByStatus[s] ?? 0}</strong>
                      </li>
                    ))}
                  </ul>
                  <ResponsiveContainer width="100%" height={220}>
                    <BarChart data={series} margin={{ top: 8, right: 8, bottom: 0, left: -12 }}>
                      <CartesianGrid stroke="#e5e7eb" vertical={false} />
                      <XAxis dataKey="label" fontSize={12} />
                      <YAxis allowDecimals={false} fontSize={12} />
                      <Tooltip />
                      {orderStatuses.map((s) => (
                        <Bar
                          isAnimationActive={false}
                          key={s}
                          dataKey={s}
                          stackId="status"
                          fill={statusColors[s]}
                          name={s}
                        />
                      ))}
                    </BarChart>
                  </ResponsiveContainer>
                </>
              )}
            </section>
          </div>
        </>
      ) : null}
    </div>
  );
}
