import type { Chart, ChartData, ChartSpec, RowFilter, SyncedTable } from '@syncdeck/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useId, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { ApiError, get, request } from '../api.ts';
import { ListStates, SelectFilter, useTenantList } from '../lists.tsx';
import { useTenant } from '../session.tsx';
import { Badge, Empty, ErrorState, FormError, formatAgo, formatTime, Skeleton } from '../ui.tsx';
import { FilterEditor, useSyncedTables } from './syncCommon.tsx';

export function CacheBadge({ status }: { status: Chart['cacheStatus'] }) {
  return (
    <Badge tone={status === 'fresh' ? 'green' : 'amber'}>
      <span data-testid="cache-status">{status}</span>
    </Badge>
  );
}

const fnLabels: Record<ChartSpec['metric']['fn'], string> = {
  count: 'Count',
  sum: 'Sum',
  avg: 'Average',
  min: 'Minimum',
  max: 'Maximum',
};

/** "Sum of amount in orders by day of created_at, 1 filter". */
function describeSpec(spec: ChartSpec): string {
  const metric = spec.metric.column
    ? `${fnLabels[spec.metric.fn]} of ${spec.metric.column}`
    : `${fnLabels[spec.metric.fn]} of rows`;
  const group = spec.groupBy
    ? ` by ${spec.groupBy.bucket ? `${spec.groupBy.bucket} of ` : ''}${spec.groupBy.column}`
    : '';
  const filters = spec.filters.length
    ? `, ${spec.filters.length} filter${spec.filters.length === 1 ? '' : 's'}`
    : '';
  return `${metric} in ${spec.table}${group}${filters}`;
}

export function Charts() {
  const { tenant, can } = useTenant();
  const [creating, setCreating] = useState(false);
  const list = useTenantList<Chart>('sync-charts', '/api/charts');
  return (
    <>
      <div className="section-head">
        <p className="muted">Charts over this tenant's synced tables, cached until a push changes a table.</p>
        {can('operate') ? (
          <button
            type="button"
            className="button primary"
            onClick={() => setCreating(true)}
            disabled={creating}
          >
            New chart
          </button>
        ) : null}
      </div>
      {creating ? <ChartForm onDone={() => setCreating(false)} /> : null}
      <ListStates
        list={list}
        skeleton={3}
        skeletonHeight={80}
        empty={
          <Empty title="No charts yet">
            {can('operate') ? 'Make one from a synced table with New chart.' : 'An operator can make one.'}
          </Empty>
        }
      >
        <ul className="chart-list" aria-label="Charts">
          {list.rows.map((chart) => (
            <li key={chart.id} className="card chart-card">
              <div className="section-head">
                <Link to={`/t/${tenant.slug}/sync/charts/${chart.id}`} className="chart-name">
                  {chart.name}
                </Link>
                <CacheBadge status={chart.cacheStatus} />
              </div>
              <p className="muted small">{describeSpec(chart.spec)}</p>
              <p className="muted small">created {formatAgo(chart.createdAt)}</p>
            </li>
          ))}
        </ul>
      </ListStates>
    </>
  );
}

interface Draft {
  name: string;
  table: string;
  fn: ChartSpec['metric']['fn'];
  column: string;
  groupColumn: string;
  bucket: '' | 'day' | 'week' | 'month';
  filters: RowFilter[];
}

function specOf(draft: Draft): ChartSpec {
  return {
    table: draft.table,
    metric: draft.column ? { fn: draft.fn, column: draft.column } : { fn: draft.fn },
    ...(draft.groupColumn
      ? {
          groupBy: draft.bucket
            ? { column: draft.groupColumn, bucket: draft.bucket }
            : { column: draft.groupColumn },
        }
      : {}),
    filters: draft.filters,
  };
}

function ChartForm({ onDone }: { onDone: () => void }) {
  const tables = useSyncedTables();
  if (tables.isPending) return <Skeleton rows={2} height={60} />;
  if (tables.isError) return <ErrorState error={tables.error} retry={() => tables.refetch()} />;
  if (tables.data.length === 0)
    return (
      <Empty title="Nothing to chart yet">
        A chart reads a synced table; none has rows for this tenant.{' '}
        <button type="button" className="button small ghost" onClick={onDone}>
          Close
        </button>
      </Empty>
    );
  return <ChartEditor tables={tables.data} onDone={onDone} />;
}

function ChartEditor({ tables, onDone }: { tables: SyncedTable[]; onDone: () => void }) {
  const { tenant, key } = useTenant();
  const client = useQueryClient();
  const navigate = useNavigate();
  const nameId = useId();
  const [draft, setDraft] = useState<Draft>({
    name: '',
    table: tables[0]!.table,
    fn: 'count',
    column: '',
    groupColumn: '',
    bucket: '',
    filters: [],
  });
  const table = tables.find((t) => t.table === draft.table) ?? tables[0]!;
  const numeric = table.columns.filter((c) => c.type === 'numeric').map((c) => c.name);
  const groupable = table.columns.filter((c) => c.type !== 'jsonb');
  const groupType = table.columns.find((c) => c.name === draft.groupColumn)?.type;
  const metricColumns = draft.fn === 'count' ? table.columns.map((c) => c.name) : numeric;
  const save = useMutation({
    mutationFn: async () =>
      (
        await request<Chart>('/api/charts', {
          method: 'POST',
          tenant: tenant.slug,
          body: { name: draft.name.trim(), spec: specOf(draft) },
        })
      ).data,
    onSuccess: (chart) => {
      client.invalidateQueries({ queryKey: [...key, 'sync-charts'] });
      onDone();
      navigate(`/t/${tenant.slug}/sync/charts/${chart.id}`);
    },
  });
  const fieldError = (path: string) => (save.error instanceof ApiError ? save.error.field(path) : undefined);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (draft.name.trim() && (draft.fn === 'count' || draft.column)) save.mutate();
  };
  const set = (patch: Partial<Draft>) => setDraft((current) => ({ ...current, ...patch }));
  return (
    <form className="card chart-form" onSubmit={submit} aria-label="New chart" noValidate>
      <h2>New chart</h2>
      <div className="form-grid">
        <label className="field" htmlFor={nameId}>
          <span>Name</span>
          <input
            id={nameId}
            value={draft.name}
            required
            aria-invalid={fieldError('name') ? true : undefined}
            onChange={(e) => set({ name: e.target.value })}
            placeholder="e.g. Work orders by status"
          />
          {fieldError('name') ? <span className="field-error">{fieldError('name')}</span> : null}
        </label>
        <SelectFilter
          stacked
          label="Table"
          value={draft.table}
          onChange={(value) => set({ table: value, column: '', groupColumn: '', bucket: '', filters: [] })}
          options={tables.map((t) => t.table)}
        />
        <SelectFilter
          stacked
          label="Metric"
          value={draft.fn}
          onChange={(value) => {
            const fn = value as Draft['fn'];
            set({ fn, column: fn === 'count' || numeric.includes(draft.column) ? draft.column : '' });
          }}
          options={Object.entries(fnLabels)}
        />
        <SelectFilter
          stacked
          label={draft.fn === 'count' ? 'Of column (optional)' : 'Of column'}
          value={draft.column}
          onChange={(value) => set({ column: value })}
          options={[
            ['', draft.fn === 'count' ? 'every row' : numeric.length ? 'choose…' : 'no numeric column'],
            ...metricColumns,
          ]}
        />
        <SelectFilter
          stacked
          label="Group by"
          value={draft.groupColumn}
          onChange={(value) => set({ groupColumn: value, bucket: '' })}
          options={[['', 'nothing (one value)'], ...groupable.map((c) => c.name)]}
        />
        {groupType === 'timestamptz' ? (
          <SelectFilter
            stacked
            label="Per"
            value={draft.bucket}
            onChange={(value) => set({ bucket: value as Draft['bucket'] })}
            options={[
              ['', 'exact time'],
              ['day', 'day'],
              ['week', 'week'],
              ['month', 'month'],
            ]}
          />
        ) : null}
      </div>
      <fieldset className="field">
        <legend>Only rows where</legend>
        <FilterEditor
          key={draft.table}
          columns={table.columns}
          filters={draft.filters}
          onChange={(filters) => set({ filters })}
        />
      </fieldset>
      <p className="muted small" aria-live="polite">
        {describeSpec(specOf(draft))}
      </p>
      {save.error instanceof ApiError && save.error.details.length ? (
        <ul className="form-error" role="alert">
          {save.error.details.map((d) => (
            <li key={d.path}>
              {d.path}: {d.message}
            </li>
          ))}
        </ul>
      ) : (
        <FormError error={save.error} />
      )}
      <div className="form-actions">
        <button type="button" className="button ghost" onClick={onDone}>
          Cancel
        </button>
        <button
          type="submit"
          className="button primary"
          disabled={save.isPending || !draft.name.trim() || (draft.fn !== 'count' && !draft.column)}
        >
          {save.isPending ? 'Creating…' : 'Create chart'}
        </button>
      </div>
    </form>
  );
}

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
