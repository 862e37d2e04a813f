import type { Escalation } from '@syncdeck/core';
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { errorMessage, getPage, request } from '../api.ts';
import { useTenant } from '../session.tsx';
import {
  ConfirmDialog,
  Empty,
  ErrorState,
  formatAgo,
  formatTime,
  LoadNextPage,
  PageHeader,
  Skeleton,
  StatusBadge,
} from '../ui.tsx';

/** One escalation; an open one has a Resolve button for operators. */
export function EscalationRow({ escalation, withLinks }: { escalation: Escalation; withLinks?: boolean }) {
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
            <Link to={`/t/${tenant.slug}/customers/${escalation.customerId}`}>Customer</Link>
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
        {resolve.isError ? (
          <p className="form-error" role="alert">
            {errorMessage(resolve.error)}
          </p>
        ) : null}
      </ConfirmDialog>
    </li>
  );
}

export function Escalations() {
  const { tenant, key } = useTenant();
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? 'open';
  const filter = { status: status === 'all' ? undefined : status };
  const list = useInfiniteQuery({
    queryKey: [...key, 'escalations', filter],
    queryFn: ({ pageParam, signal }) =>
      getPage<Escalation>('/api/escalations', {
        tenant: tenant.slug,
        query: { ...filter, limit: 50, cursor: pageParam },
        signal,
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next ?? undefined,
  });
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="page">
      <PageHeader title="Escalations">
        <label className="field inline">
          <span>Status</span>
          <select value={status} onChange={(e) => setParams({ status: e.target.value }, { replace: true })}>
            <option value="open">Open</option>
            <option value="resolved">Resolved</option>
            <option value="all">All</option>
          </select>
        </label>
      </PageHeader>
      {list.isPending ? (
        <Skeleton rows={6} />
      ) : list.isError && !list.data ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : rows.length === 0 ? (
        <Empty title={status === 'open' ? 'No open escalations' : 'No escalations'}>
          {status === 'open' ? 'Nothing waits for a human right now.' : null}
        </Empty>
      ) : (
        <div className="card">
          <ul className="plain-list">
            {rows.map((escalation) => (
              <EscalationRow key={escalation.id} escalation={escalation} withLinks />
            ))}
          </ul>
          <LoadNextPage query={list} />
        </div>
      )}
    </div>
  );
}
