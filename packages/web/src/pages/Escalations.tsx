import type { Escalation, EscalationWithCustomer } from '@syncdeck/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { Link } from 'react-router';
import { request } from '../api.ts';
import { ListStates, PagedCardList, SelectFilter, useTenantList, useUrlFilters } from '../lists.tsx';
import { useTenant } from '../session.tsx';
import { CustomerLink } from './Orders.tsx';
import { ConfirmDialog, Empty, formatAgo, formatTime, PageHeader, StatusBadge, FormError } from '../ui.tsx';

/** One escalation; an open one has a Resolve button for operators. In a list, with its customer. */
export function EscalationRow({
  escalation,
  withLinks,
}: {
  escalation: Escalation | EscalationWithCustomer;
  withLinks?: boolean;
}) {
  const { tenant, key, can } = useTenant();
  const client = useQueryClient();
  const [asking, setAsking] = useState(false);
  const [summary, setSummary] = useState('');
  const summaryId = useId();
  const resolve = useMutation({
    mutationFn: () =>
      request<Escalation>(`/api/escalations/${escalation.id}/resolve`, {
        method: 'POST',
        tenant: tenant.slug,
        body: summary.trim() ? { resolutionSummary: summary.trim() } : {},
      }),
    onSuccess: () => {
      setAsking(false);
      client.invalidateQueries({ queryKey: [...key, 'escalations'] });
      client.invalidateQueries({ queryKey: [...key, 'customer', escalation.customerId] });
      client.invalidateQueries({ queryKey: [...key, 'overview'] });
    },
  });
  return (
    <li className="escalation-row">
      <div className="order-line">
        <StatusBadge status={escalation.status} />
        <span dir="auto" className="grow">
          {escalation.reason ?? 'No reason given'}
        </span>
        <span className="muted">opened {formatAgo(escalation.openedAt)}</span>
        {withLinks ? (
          <>
            {'customerName' in escalation ? (
              <CustomerLink row={escalation} />
            ) : (
              <Link to={`/t/${tenant.slug}/customers/${escalation.customerId}`}>Customer</Link>
            )}
            {escalation.conversationId ? (
              <Link to={`/t/${tenant.slug}/inbox/${escalation.conversationId}`}>Conversation</Link>
            ) : null}
          </>
        ) : null}
        {escalation.status === 'open' && can('operate') ? (
          <button type="button" className="button small primary" onClick={() => setAsking(true)}>
            Resolve
          </button>
        ) : null}
      </div>
      {escalation.status === 'resolved' ? (
        <p className="muted small" dir="auto">
          Resolved {formatTime(escalation.resolvedAt)} by {escalation.resolvedBy ?? 'the bot'}
          {escalation.resolutionSummary ? `: ${escalation.resolutionSummary}` : ''}
        </p>
      ) : null}
      <ConfirmDialog
        open={asking}
        title="Resolve escalation"
        confirmLabel="Resolve"
        busy={resolve.isPending}
        onCancel={() => setAsking(false)}
        onConfirm={() => resolve.mutate()}
      >
        <p dir="auto">{escalation.reason ?? 'No reason given'}</p>
        <p className="muted">The conversation goes back to the bot.</p>
        <label className="field" htmlFor={summaryId}>
          <span>Resolution summary (optional)</span>
          <textarea id={summaryId} rows={3} value={summary} onChange={(e) => setSummary(e.target.value)} />
        </label>
        <FormError error={resolve.error} />
      </ConfirmDialog>
    </li>
  );
}

export function Escalations() {
  const filters = useUrlFilters();
  const status = filters.get('status', 'open');
  const list = useTenantList<EscalationWithCustomer>('escalations', '/api/escalations', {
    filter: { status: status === 'all' ? undefined : status },
  });
  return (
    <div className="page">
      <PageHeader title="Escalations">
        <SelectFilter
          label="Status"
          value={status}
          onChange={(value) => filters.set('status', value)}
          options={[
            ['open', 'Open'],
            ['resolved', 'Resolved'],
            ['all', 'All'],
          ]}
        />
      </PageHeader>
      <ListStates
        list={list}
        empty={
          <Empty title={status === 'open' ? 'No open escalations' : 'No escalations'}>
            {status === 'open' ? 'Nothing waits for a human right now.' : null}
          </Empty>
        }
      >
        <PagedCardList list={list}>
          {list.rows.map((escalation) => (
            <EscalationRow key={escalation.id} escalation={escalation} withLinks />
          ))}
        </PagedCardList>
      </ListStates>
    </div>
  );
}
