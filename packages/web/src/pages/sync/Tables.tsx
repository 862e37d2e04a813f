import type { RowFilter, SyncedColumn, SyncedTable } from '@syncdeck/core';
import { NavLink, Navigate, useParams } from 'react-router';
import {
  arrowKeys,
  type HeaderCell,
  ListStates,
  PagedTable,
  useTenantList,
  useUrlFilters,
} from '../../lists.tsx';
import { useTenant } from '../../session.tsx';
import { Empty, ErrorState, formatAgo, formatTime, Skeleton } from '../../ui.tsx';
import { FilterEditor, filterParam, parseFilterParam, useSyncedTables } from './common.tsx';

export function Tables() {
  const { table: chosen } = useParams();
  const { tenant } = useTenant();
  const tables = useSyncedTables();
  if (tables.isPending) return <Skeleton rows={4} />;
  if (tables.isError) return <ErrorState error={tables.error} retry={() => tables.refetch()} />;
  if (tables.data.length === 0)
    return (
      <Empty title="No rows synced yet">
        Tables appear here when a source pushes rows for this tenant to its webhook.
      </Empty>
    );
  const table = tables.data.find((t) => t.table === chosen);
  if (!table) return <Navigate to={`/t/${tenant.slug}/sync/tables/${tables.data[0]!.table}`} replace />;
  return (
    <div className="sync-tables">
      <nav className="card table-picker" aria-label="Synced tables">
        <h2>Tables</h2>
        <ul className="plain-list" onKeyDown={arrowKeys}>
          {tables.data.map((t) => (
            <li key={t.table}>
              <NavLink data-row to={`/t/${tenant.slug}/sync/tables/${t.table}`} className="table-link">
                <span className="table-name">{t.table}</span>
                <span className="muted small">
                  {t.columns.length} column{t.columns.length === 1 ? '' : 's'} · pushed{' '}
                  {formatAgo(t.lastPushAt)}
                </span>
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <TableRows key={table.table} table={table} />
    </div>
  );
}

type Row = Record<string, unknown>;

function cellText(value: unknown, column: SyncedColumn): string {
  if (value === null || value === undefined) return '—';
  if (column.type === 'jsonb') return JSON.stringify(value);
  if (column.type === 'timestamptz') return formatTime(String(value));
  if (column.type === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

function TableRows({ table }: { table: SyncedTable }) {
  const filters = useUrlFilters();
  const sort = filters.get('sort');
  const filterParams = filters.params.getAll('filter');
  const list = useTenantList<Row>(`sync-rows:${table.table}`, `/api/synced/${table.table}`, {
    filter: { sort: sort || undefined, filter: filterParams },
  });
  // The row's id first, the rest as they were first pushed.
  const columns = [...table.columns].sort((a, b) => Number(b.name === 'id') - Number(a.name === 'id'));
  const sortable = columns.filter((c) => c.type !== 'jsonb');
  const header: HeaderCell[] = columns.map((column) => {
    const direction = sort === column.name ? 'ascending' : sort === `-${column.name}` ? 'descending' : 'none';
    if (column.type === 'jsonb') return { key: column.name, label: column.name };
    return {
      key: column.name,
      numeric: column.type === 'numeric',
      sort: direction,
      label: (
        <button
          type="button"
          className="sort-button"
          onClick={() => filters.set('sort', direction === 'ascending' ? `-${column.name}` : column.name)}
          title={`Sort by ${column.name}`}
        >
          {column.name}
          <span aria-hidden="true">
            {direction === 'ascending' ? ' ▲' : direction === 'descending' ? ' ▼' : ''}
          </span>
        </button>
      ),
    };
  });
  const active = filterParams.map(parseFilterParam).filter((f): f is RowFilter => f !== null);
  return (
    <section className="table-rows" aria-labelledby="rows-title">
      <div className="section-head">
        <h2 id="rows-title">{table.table}</h2>
        {sortable.length > 0 && sort ? (
          <button type="button" className="button small ghost" onClick={() => filters.set('sort', '')}>
            Clear sort
          </button>
        ) : null}
      </div>
      <FilterEditor
        columns={table.columns}
        filters={active}
        onChange={(next) => filters.setAll('filter', next.map(filterParam))}
      />
      <ListStates
        list={list}
        empty={
          <Empty title={active.length ? 'No row matches these filters' : 'This table has no rows'}>
            {active.length ? 'Remove a filter to see more.' : 'Its rows were all deleted by the source.'}
          </Empty>
        }
      >
        <PagedTable list={list} columns={header} caption={`Rows of ${table.table}`} testId="synced-rows">
          {list.rows.map((row) => (
            <tr key={String(row.id)}>
              {columns.map((column) => {
                const text = cellText(row[column.name], column);
                return (
                  <td
                    key={column.name}
                    className={column.type === 'numeric' ? 'cell num' : 'cell'}
                    title={text.length > 40 ? text : undefined}
                    dir="auto"
                  >
                    {text}
                  </td>
                );
              })}
            </tr>
          ))}
        </PagedTable>
      </ListStates>
    </section>
  );
}
