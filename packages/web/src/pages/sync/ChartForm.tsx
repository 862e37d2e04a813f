import type { Chart, ChartSpec, RowFilter, SyncedTable } from '@syncdeck/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { useNavigate } from 'react-router';
import { ApiError, request } from '../../api.ts';
import { SelectFilter } from '../../lists.tsx';
import { useTenant } from '../../session.tsx';
import { Empty, ErrorState, FormError, Skeleton } from '../../ui.tsx';
import { describeSpec, fnLabels } from './chartCommon.tsx';
import { FilterEditor, useSyncedTables } from './common.tsx';

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

export function ChartForm({ onDone }: { onDone: () => void }) {
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
