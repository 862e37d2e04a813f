import type { Order } from '@syncdeck/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { getPage } from '../api.ts';
import { orderStatuses } from '../constants.ts';
import { useTenant } from '../session.tsx';
import {
  Empty,
  ErrorState,
  formatMoney,
  formatTime,
  LoadNextPage,
  PageHeader,
  Skeleton,
  StatusBadge,
} from '../ui.tsx';

interface Item {
  name?: unknown;
  amount?: unknown;
  quantity?: unknown;
  price?: unknown;
}

function itemsText(items: unknown[]): string {
  return items
    .map((raw) => {
      const item = (raw ?? {}) as Item;
      const name = typeof item.name === 'string' ? item.name : 'item';
      const count = item.amount ?? item.quantity;
      return typeof count === 'number' ? `${count}× ${name}` : name;
    })
    .join(', ');
}

/** An order with its items and every status it went through. */
export function OrderRow({ order, showCustomer }: { order: Order; showCustomer?: string }) {
  const [open, setOpen] = useState(false);
  return (
    <li className="order-row">
      <div className="order-line">
        <button
          type="button"
          className="disclosure"
          aria-expanded={open}
          onClick={() => setOpen((v) => !v)}
          aria-label={`Order ${order.externalNumber ?? order.syrveOrderId}: ${open ? 'hide' : 'show'} status history`}
        >
          {open ? '▾' : '▸'}
        </button>
        <strong>{order.externalNumber ?? order.syrveOrderId}</strong>
        <StatusBadge status={order.status} />
        <span className="money">{formatMoney(order.total)}</span>
        <span className="muted">{formatTime(order.createdAt)}</span>
        <span className="muted grow ellipsis" dir="auto">
          {itemsText(order.items)}
        </span>
        {showCustomer ? (
          <Link to={showCustomer} className="small">
            Customer
          </Link>
        ) : null}
      </div>
      {open ? (
        <div className="order-detail">
          <p dir="auto">{itemsText(order.items) || 'No items listed'}</p>
          {order.deliveryAddress ? (
            <p className="muted" dir="auto">
              {order.deliveryAddress}
            </p>
          ) : null}
          <ol className="status-steps" aria-label="Status history">
            {order.statusHistory.map((step) => (
              <li key={`${step.status}:${step.occurredAt}`}>
                <StatusBadge status={step.status} />{' '}
                <time dateTime={step.occurredAt}>{formatTime(step.occurredAt)}</time>
              </li>
            ))}
          </ol>
        </div>
      ) : null}
    </li>
  );
}

export function Orders() {
  const { tenant, key } = useTenant();
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? '';
  const from = params.get('from') ?? '';
  const to = params.get('to') ?? '';
  const set = (name: string, value: string) =>
    setParams(
      (current) => {
        if (value) current.set(name, value);
        else current.delete(name);
        return current;
      },
      { replace: true },
    );
  // Dates are local days: from its midnight to the midnight after `to`.
  const instant = (day: string, plus = 0) =>
    day ? new Date(new Date(`${day}T00:00:00`).getTime() + plus * 86_400_000).toISOString() : undefined;
  const filter = { status: status || undefined, from: instant(from), to: instant(to, 1) };
  const list = useInfiniteQuery({
    queryKey: [...key, 'orders', filter],
    queryFn: ({ pageParam, signal }) =>
      getPage<Order>('/api/orders', {
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
      <PageHeader title="Orders">
        <label className="field inline">
          <span>Status</span>
          <select value={status} onChange={(e) => set('status', e.target.value)}>
            <option value="">All</option>
            {orderStatuses.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label className="field inline">
          <span>From</span>
          <input type="date" value={from} onChange={(e) => set('from', e.target.value)} />
        </label>
        <label className="field inline">
          <span>To</span>
          <input type="date" value={to} onChange={(e) => set('to', e.target.value)} />
        </label>
      </PageHeader>
      {list.isPending ? (
        <Skeleton rows={8} />
      ) : list.isError && !list.data ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : rows.length === 0 ? (
        <Empty title={status || from || to ? 'No order matches these filters' : 'No orders yet'} />
      ) : (
        <div className="card">
          <ul className="plain-list">
            {rows.map((order) => (
              <OrderRow
                key={order.id}
                order={order}
                showCustomer={`/t/${tenant.slug}/customers/${order.customerId}`}
              />
            ))}
          </ul>
          <LoadNextPage query={list} />
        </div>
      )}
    </div>
  );
}
