import type { RowFilter, Source, SyncedColumn, SyncedTable, WebhookLog } from '@syncdeck/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, NavLink, Navigate, Route, Routes, useLocation, useParams } from 'react-router';
import { get } from '../api.ts';
import { webhookLogResults } from '@syncdeck/core/constants';
import {
  arrowKeys,
  type HeaderCell,
  ListStates,
  PagedTable,
  SelectFilter,
  useTenantList,
  useUrlFilters,
} from '../lists.tsx';
import { useMe, useTenant } from '../session.tsx';
import { Badge, Empty, ErrorState, formatAgo, formatTime, PageHeader, Skeleton } from '../ui.tsx';
import { ChartDetail, Charts } from './SyncCharts.tsx';
import {
  FilterEditor,
  filterParam,
  parseFilterParam,
  SYNC_LOG_POLL_MS,
  useSyncedTables,
} from './syncCommon.tsx';

/*
 * Row sync as an operator sees it: the tables pushed for the tenant and their rows, every
 * webhook attempt, the charts over the tables, and (for a platform admin) the sources.
 * The change feed carries no row-sync events, so its lists are polled while they are open.
 */

const sections = [
  ['tables', 'Tables'],
  ['log', 'Webhook log'],
  ['charts', 'Charts'],
  ['sources', 'Sources'],
] as const;

export default function Sync() {
  const { tenant } = useTenant();
  const client = useQueryClient();
  const base = `/t/${tenant.slug}/sync`;
  return (
    <div className="page">
      <PageHeader title="Sync">
        <button
          type="button"
          className="button ghost"
          onClick={() =>
            client.invalidateQueries({
              predicate: (query) =>
                query.queryKey[1] === tenant.slug && String(query.queryKey[2]).startsWith('sync-'),
            })
          }
        >
          Refresh
        </button>
      </PageHeader>
      <nav className="tabs" aria-label="Sync sections">
        {sections.map(([path, label]) => (
          <NavLink key={path} to={`${base}/${path}`} className="tab">
            {label}
          </NavLink>
        ))}
      </nav>
      <Routes>
        <Route index element={<Navigate to="tables" replace />} />
        <Route path="tables" element={<Tables />} />
        <Route path="tables/:table" element={<Tables />} />
        <Route path="log" element={<Log />} />
        <Route path="log/:logId" element={<Log />} />
        <Route path="charts" element={<Charts />} />
        <Route path="charts/:chartId" element={<ChartDetail />} />
        <Route path="sources" element={<Sources />} />
        <Route path="*" element={<Navigate to={`${base}/tables`} replace />} />
      </Routes>
    </div>
  );
}

/* ---- tables ---- */

function Tables() {
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

/* ---- webhook log ---- */

const resultTones: Record<WebhookLog['result'], string> = {
  applied: 'green',
  staged: 'blue',
  duplicate: 'grey',
  ignored: 'amber',
  rejected: 'red',
  failed: 'red',
};

export function ResultBadge({ result }: { result: WebhookLog['result'] }) {
  return <Badge tone={resultTones[result]}>{result}</Badge>;
}

function Log() {
  const { logId } = useParams();
  const { tenant } = useTenant();
  const location = useLocation();
  const filters = useUrlFilters();
  const result = filters.get('result');
  const table = filters.get('table');
  const tables = useSyncedTables();
  const list = useTenantList<WebhookLog>('sync-log', '/api/webhook-logs', {
    filter: { result: result || undefined, table: table || undefined },
    refetchInterval: SYNC_LOG_POLL_MS,
  });
  const suffix = location.search;
  const base = `/t/${tenant.slug}/sync/log`;
  return (
    <>
      <fieldset className="filter-bar">
        <legend className="sr-only">Webhook log filters</legend>
        <SelectFilter
          label="Result"
          value={result}
          onChange={(value) => filters.set('result', value)}
          options={[['', 'All'], ...webhookLogResults]}
        />
        <SelectFilter
          label="Table"
          value={table}
          onChange={(value) => filters.set('table', value)}
          options={[['', 'All'], ...(tables.data ?? []).map((t) => t.table)]}
        />
      </fieldset>
      {logId ? <LogEntry id={logId} back={`${base}${suffix}`} /> : null}
      <ListStates
        list={list}
        empty={
          <Empty title={result || table ? 'No attempt matches these filters' : 'No webhook attempts yet'}>
            {result || table ? null : 'Every push a source sends for this tenant is listed here.'}
          </Empty>
        }
      >
        <PagedTable
          list={list}
          testId="webhook-log"
          caption="Webhook attempts, newest first"
          columns={[
            'Received',
            'Result',
            'Type',
            'Table',
            { key: 'rows', label: 'Rows', numeric: true },
            { key: 'status', label: 'HTTP', numeric: true },
            { key: 'duration', label: 'Duration', numeric: true },
            'Source',
          ]}
          onKeyDown={arrowKeys}
        >
          {list.rows.map((entry) => (
            <tr key={entry.id} className={entry.id === logId ? 'selected' : undefined}>
              <td className="nowrap">
                <Link
                  data-row
                  to={`${base}/${entry.id}${suffix}`}
                  aria-current={entry.id === logId ? 'true' : undefined}
                >
                  {formatTime(entry.createdAt)}
                </Link>
              </td>
              <td>
                <ResultBadge result={entry.result} />
              </td>
              <td>{entry.type ?? '—'}</td>
              <td>{entry.table ?? '—'}</td>
              <td className="num">{entry.rows}</td>
              <td className="num">{entry.status}</td>
              <td className="num nowrap">{entry.durationMs.toFixed(1)} ms</td>
              <td>{entry.source}</td>
            </tr>
          ))}
        </PagedTable>
      </ListStates>
    </>
  );
}

function LogEntry({ id, back }: { id: string; back: string }) {
  const { tenant, key } = useTenant();
  const entry = useQuery({
    queryKey: [...key, 'sync-log-entry', id],
    queryFn: () => get<WebhookLog>(`/api/webhook-logs/${id}`, { tenant: tenant.slug }),
  });
  return (
    <section className="card log-entry" aria-labelledby="log-entry-title" data-testid="log-entry">
      <div className="section-head">
        <h2 id="log-entry-title">Webhook attempt</h2>
        <Link to={back} className="button small ghost">
          Close
        </Link>
      </div>
      {entry.isPending ? (
        <Skeleton rows={3} height={24} />
      ) : entry.isError ? (
        <ErrorState error={entry.error} retry={() => entry.refetch()} />
      ) : (
        <dl className="facts">
          {(
            [
              ['received', formatTime(entry.data.createdAt)],
              ['result', <ResultBadge key="r" result={entry.data.result} />],
              ['HTTP status', entry.data.status],
              ['type', entry.data.type ?? '—'],
              ['table', entry.data.table ?? '—'],
              ['rows', entry.data.rows],
              ['duration', `${entry.data.durationMs.toFixed(3)} ms`],
              ['source', entry.data.source],
              ['source tenant id', entry.data.externalTenantId ?? '—'],
              ['full sync id', entry.data.syncId ?? '—'],
              ['attempt id', <code key="id">{entry.data.id}</code>],
            ] as const
          ).map(([label, value]) => (
            <div key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
          <div>
            <dt>error</dt>
            <dd>{entry.data.error ? <pre className="error-text">{entry.data.error}</pre> : 'none'}</dd>
          </div>
        </dl>
      )}
    </section>
  );
}

/* ---- sources ---- */

function Sources() {
  const me = useMe();
  const { key } = useTenant();
  const admin = Boolean(me.data?.user?.platformAdmin);
  const sources = useQuery({
    queryKey: [...key, 'sync-sources'],
    queryFn: async () => (await get<{ data: Source[] }>('/api/admin/sources')).data,
    enabled: admin,
  });
  if (!admin)
    return (
      <Empty title="Sources need a platform admin">
        A source (the platform that pushes rows here) and its signing secrets are set up by a platform admin.
        The webhook log shows everything the sources pushed for this tenant.
      </Empty>
    );
  if (sources.isPending) return <Skeleton rows={3} height={90} />;
  if (sources.isError) return <ErrorState error={sources.error} retry={() => sources.refetch()} />;
  if (sources.data.length === 0)
    return (
      <Empty title="No sources yet">
        Create one with <code>npx syncdeck source create NAME --secret …</code>.
      </Empty>
    );
  return (
    <div className="source-grid">
      {sources.data.map((source) => (
        <section key={source.id} className="card" aria-labelledby={`source-${source.id}`}>
          <div className="section-head">
            <h2 id={`source-${source.id}`}>{source.name}</h2>
            <span className="muted small">schema {source.schema}</span>
          </div>
          <p className="muted small">
            Webhook: <code>POST /api/webhooks/{source.name}</code> · since {formatTime(source.createdAt)}
          </p>
          <h3 id={`secrets-${source.id}`}>Signing secrets</h3>
          <dl className="facts" aria-labelledby={`secrets-${source.id}`}>
            {source.secrets.map((secret) => (
              <div key={secret.fingerprint}>
                <dt>
                  <code>{secret.fingerprint}</code>
                </dt>
                <dd className="muted">added {formatTime(secret.createdAt)}</dd>
              </div>
            ))}
          </dl>
          <h3 id={`tables-${source.id}`}>Tables</h3>
          <table className="table compact" aria-labelledby={`tables-${source.id}`}>
            <thead>
              <tr>
                <th scope="col">Source table</th>
                <th scope="col">Synced as</th>
              </tr>
            </thead>
            <tbody>
              {source.tables.map((mapping) => (
                <tr key={mapping.sourceTable}>
                  <td>
                    <code>{mapping.sourceTable}</code>
                  </td>
                  <td>
                    <code>{mapping.targetTable}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </div>
  );
}
