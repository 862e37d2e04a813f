import type { RowFilter, SyncedColumn, SyncedTable } from '@syncdeck/core';
import { useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { get } from '../../api.ts';
import { filterOps } from '@syncdeck/core/constants';
import { SelectFilter } from '../../lists.tsx';
import { useTenant } from '../../session.tsx';

/* What the Sync screen's sections share: the tenant's tables, and the row filters. */

/**
 * How often the webhook log asks again. Pushes reach the screen over the socket
 * (`table.synced`), but a refused attempt changes no data and is not in the feed.
 */
export const SYNC_LOG_POLL_MS = 10_000;

/** Seed 004's path for the webhook of the source named `optiqo`. */
export const OPTIQO_WEBHOOK_PATH = '/api/optiqo-webhook';

/** A source's tenant id and where its pushes land (GET /api/admin/sources/:name/tenants). */
export interface SourceTenant {
  externalId: string;
  tenant: { id: string; slug: string; name: string };
  /** `push`: its first push created the tenant; `admin`: an admin chose it. */
  origin: 'push' | 'admin';
  createdAt: string;
  updatedAt: string;
}

/** What mapping one answers: also where its pushes landed before (rows there stay there). */
export interface MappedSourceTenant extends SourceTenant {
  previousTenant: SourceTenant['tenant'] | null;
}

/** The tenant's synced tables with their columns, shared by the browser, the log and the chart form. */
export function useSyncedTables() {
  const { tenant, key } = useTenant();
  return useQuery({
    queryKey: [...key, 'sync-tables'],
    queryFn: async () => (await get<{ data: SyncedTable[] }>('/api/synced', { tenant: tenant.slug })).data,
  });
}

/** `column:op:value`, as GET /api/synced/:table reads a filter. */
export const filterParam = (f: RowFilter) =>
  f.value === undefined ? `${f.column}:${f.op}` : `${f.column}:${f.op}:${f.value}`;
export function parseFilterParam(text: string): RowFilter | null {
  const [column = '', op = '', ...rest] = text.split(':');
  const known = filterOps.find((o) => o === op);
  if (!column || !known) return null;
  return { column, op: known, value: rest.length ? rest.join(':') : undefined };
}

const opLabels: Record<RowFilter['op'], string> = {
  eq: '=',
  ne: '≠',
  lt: '<',
  lte: '≤',
  gt: '>',
  gte: '≥',
  contains: 'contains',
  isnull: 'is empty',
  notnull: 'has a value',
};

/** The filters a column of this type takes, as the server checks them. */
function opsFor(column: SyncedColumn | undefined): RowFilter['op'][] {
  switch (column?.type) {
    case 'jsonb':
      return ['isnull', 'notnull'];
    case 'boolean':
      return ['eq', 'ne', 'isnull', 'notnull'];
    case 'text':
      return ['eq', 'ne', 'contains', 'lt', 'gt', 'isnull', 'notnull'];
    default:
      return ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'isnull', 'notnull'];
  }
}

/** The filters in force, each removable, and a row to add one: for the rows browser and the chart form. */
export function FilterEditor({
  columns,
  filters,
  onChange,
}: {
  columns: readonly SyncedColumn[];
  filters: readonly RowFilter[];
  onChange: (filters: RowFilter[]) => void;
}) {
  const id = useId();
  const [column, setColumn] = useState(columns[0]?.name ?? '');
  const [op, setOp] = useState<RowFilter['op']>('eq');
  const [value, setValue] = useState('');
  const chosen = columns.find((c) => c.name === column);
  const ops = opsFor(chosen);
  const effectiveOp = ops.includes(op) ? op : ops[0]!;
  const needsValue = effectiveOp !== 'isnull' && effectiveOp !== 'notnull';
  const add = () => {
    if (!chosen || (needsValue && value.trim() === '')) return;
    const next: RowFilter = {
      column: chosen.name,
      op: effectiveOp,
      value: needsValue ? value.trim() : undefined,
    };
    // The same filter twice narrows nothing further.
    if (!filters.some((f) => filterParam(f) === filterParam(next))) onChange([...filters, next]);
    setValue('');
  };
  return (
    <div className="filter-editor">
      {filters.length > 0 ? (
        <ul className="filter-chips" aria-label="Filters in force">
          {filters.map((f, index) => (
            <li key={filterParam(f)} className="chip">
              <span dir="auto">
                {f.column} {opLabels[f.op]} {f.value === undefined ? '' : String(f.value)}
              </span>
              <button
                type="button"
                className="chip-remove"
                aria-label={`Remove filter ${f.column} ${opLabels[f.op]} ${f.value ?? ''}`.trim()}
                onClick={() => onChange(filters.filter((_, i) => i !== index))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <fieldset className="filter-row">
        <legend className="sr-only">Add a filter</legend>
        <SelectFilter
          hideLabel
          label="Filter column"
          value={column}
          onChange={setColumn}
          options={columns.map((c) => c.name)}
        />
        <SelectFilter
          hideLabel
          label="Filter operator"
          value={effectiveOp}
          onChange={(next) => setOp(next as RowFilter['op'])}
          options={ops.map((o) => [o, opLabels[o]] as const)}
        />
        {needsValue ? (
          chosen?.type === 'boolean' ? (
            <SelectFilter
              hideLabel
              label="Filter value"
              value={value}
              onChange={setValue}
              options={[
                ['', 'choose…'],
                ['true', 'true'],
                ['false', 'false'],
              ]}
            />
          ) : (
            <label className="field" htmlFor={`${id}-value`}>
              <span className="sr-only">Filter value</span>
              <input
                id={`${id}-value`}
                value={value}
                placeholder={chosen?.type === 'timestamptz' ? '2024-06-01T00:00:00Z' : 'value'}
                inputMode={chosen?.type === 'numeric' ? 'decimal' : undefined}
                onChange={(e) => setValue(e.target.value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') {
                    e.preventDefault();
                    add();
                  }
                }}
              />
            </label>
          )
        ) : null}
        <button
          type="button"
          className="button small"
          onClick={add}
          disabled={!chosen || (needsValue && value.trim() === '')}
        >
          Add filter
        </button>
      </fieldset>
    </div>
  );
}
