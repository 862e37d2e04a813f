import type { Chart, ChartData, ChartSpec } from '@syncdeck/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Link, useParams } from 'react-router';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { get } from '../../api.ts';
import { useTenant } from '../../session.tsx';
import { Empty, ErrorState, formatTime, Skeleton } from '../../ui.tsx';
import { CacheBadge, describeSpec, fnLabels } from './chartCommon.tsx';

function keyLabel(key: unknown, spec: ChartSpec): string {
  if (key === null || key === undefined) return '(none)';
  if (spec.groupBy?.bucket && typeof key === 'string') {
    const date = new Date(key);
    if (!Number.isNaN(date.getTime()))
      return spec.groupBy.bucket === 'month'
        ? date.toLocaleDateString(undefined, { year: 'numeric', month: 'short', timeZone: 'UTC' })
        : date.toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
  }
  return typeof key === 'object' ? JSON.stringify(key) : String(key);
}

const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

export function ChartDetail() {
  const { chartId } = useParams();
  const { tenant, key } = useTenant();
  const client = useQueryClient();
  const chart = useQuery({
    queryKey: [...key, 'sync-chart', chartId],
    queryFn: () => get<Chart>(`/api/charts/${chartId}`, { tenant: tenant.slug }),
    // Kept no longer than the view is open: opened again, it shows no status from before.
    gcTime: 0,
  });
  const data = useQuery({
    queryKey: [...key, 'sync-chart-data', chartId],
    queryFn: () => get<ChartData>(`/api/charts/${chartId}/data`, { tenant: tenant.slug }),
    // Asked each time the chart is opened: a fresh cache answers at once, a stale one recomputes.
    staleTime: 0,
    gcTime: 0,
  });
  const recomputedAt = data.data?.cacheStatus === 'stale' ? data.data.computedAt : null;
  useEffect(() => {
    // A recompute made the cache fresh: the badges that said stale ask again.
    if (!recomputedAt) return;
    client.invalidateQueries({ queryKey: [...key, 'sync-chart', chartId] });
    client.invalidateQueries({ queryKey: [...key, 'sync-charts'] });
  }, [recomputedAt, client, key, chartId]);
  const back = (
    <Link to={`/t/${tenant.slug}/sync/charts`} className="button small ghost">
      All charts
    </Link>
  );
  if (chart.isPending) return <Skeleton rows={2} height={120} />;
  if (chart.isError)
    return (
      <>
        <ErrorState error={chart.error} retry={() => chart.refetch()} />
        {back}
      </>
    );
  const spec = chart.data.spec;
  const series = (data.data?.rows ?? []).map((row) => ({ label: keyLabel(row.key, spec), value: row.value }));
  return (
    <section className="card chart-detail" aria-labelledby="chart-title">
      <div className="section-head">
        <h2 id="chart-title">{chart.data.name}</h2>
        <div className="head-badges">
          <CacheBadge status={chart.data.cacheStatus} />
          {back}
        </div>
      </div>
      <p className="muted">{describeSpec(spec)}</p>
      {data.isPending ? (
        <Skeleton rows={1} height={280} />
      ) : data.isError ? (
        <ErrorState error={data.error} retry={() => data.refetch()} />
      ) : (
        <>
          <p className="muted small" data-testid="chart-computed">
            {data.data.cacheStatus === 'stale'
              ? `Computed now, as the cache was stale (${formatTime(data.data.computedAt)}).`
              : `From the cache, computed ${formatTime(data.data.computedAt)}.`}
          </p>
          {series.length === 0 ? (
            <Empty title="No rows match this chart" />
          ) : !spec.groupBy ? (
            <div className="stat-card single-value">
              <span className="stat-label">{fnLabels[spec.metric.fn]}</span>
              <span className="stat-value">
                {series[0]!.value === null ? '—' : number.format(series[0]!.value)}
              </span>
            </div>
          ) : (
            <figure className="chart-figure" aria-label={`${chart.data.name}: bar chart`}>
              <ResponsiveContainer width="100%" height={300}>
                <BarChart data={series} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" vertical={false} />
                  <XAxis dataKey="label" tick={{ fontSize: 12 }} interval="preserveStartEnd" />
                  <YAxis tick={{ fontSize: 12 }} allowDecimals={spec.metric.fn !== 'count'} />
                  <Tooltip formatter={(value) => number.format(Number(value))} />
                  <Bar
                    dataKey="value"
                    name={fnLabels[spec.metric.fn]}
                    fill="#0f766e"
                    isAnimationActive={false}
                  />
                </BarChart>
              </ResponsiveContainer>
              <figcaption className="sr-only">
                {series.map((point) => `${point.label}: ${point.value ?? 'none'}`).join('; ')}
              </figcaption>
            </figure>
          )}
        </>
      )}
    </section>
  );
}
