import { useQueryClient } from '@tanstack/react-query';
import { NavLink, Navigate, Route, Routes } from 'react-router';
import { useTenant } from '../../session.tsx';
import { PageHeader } from '../../ui.tsx';
import { ChartDetail } from './ChartDetail.tsx';
import { Charts } from './Charts.tsx';
import { Log } from './Log.tsx';
import { Sources } from './Sources.tsx';
import { Tables } from './Tables.tsx';

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
