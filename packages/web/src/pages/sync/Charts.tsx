import type { Chart } from '@syncdeck/core';
import { useState } from 'react';
import { Link } from 'react-router';
import { ListStates, useTenantList } from '../../lists.tsx';
import { useTenant } from '../../session.tsx';
import { Empty, formatAgo } from '../../ui.tsx';
import { ChartForm } from './ChartForm.tsx';
import { CacheBadge, describeSpec } from './chartCommon.tsx';

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
