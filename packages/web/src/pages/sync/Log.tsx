import type { WebhookLog } from '@syncdeck/core';
import { webhookLogResults } from '@syncdeck/core/constants';
import { useQuery } from '@tanstack/react-query';
import { Link, useLocation, useParams } from 'react-router';
import { get } from '../../api.ts';
import {
  arrowKeys,
  ListStates,
  PagedTable,
  SelectFilter,
  useTenantList,
  useUrlFilters,
} from '../../lists.tsx';
import { useTenant } from '../../session.tsx';
import { Badge, Empty, ErrorState, formatTime, Skeleton } from '../../ui.tsx';
import { SYNC_LOG_POLL_MS, useSyncedTables } from './common.tsx';

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

export function Log() {
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
            'Landed in',
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
              <td>
                <LandedIn entry={entry} />
              </td>
            </tr>
          ))}
        </PagedTable>
      </ListStates>
    </>
  );
}

/** The tenant a push landed in, after the source's own tenant id it carried. */
function LandedIn({ entry }: { entry: WebhookLog }) {
  if (!entry.tenantId) return <span className="muted">—</span>;
  return (
    <span dir="auto">
      {entry.externalTenantId ? <code>{entry.externalTenantId}</code> : null}
      {entry.externalTenantId ? ' → ' : null}
      {entry.tenantSlug ?? '(deleted)'}
    </span>
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
              ['landed in tenant', entry.data.tenantSlug ?? (entry.data.tenantId ? '(deleted)' : '—')],
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
