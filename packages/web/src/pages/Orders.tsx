import type { Order, OrderWithCustomer } from '@syncdeck/core';
import { useState } from 'react';
import { Link } from 'react-router';
import { orderStatuses } from '@syncdeck/core/constants';
import { ListStates, PagedCardList, SelectFilter, useTenantList, useUrlFilters } from '../lists.tsx';
import { useTenant } from '../session.tsx';
import { Empty, formatMoney, formatPhone, formatTime, PageHeader, StatusBadge } from '../ui.tsx';

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

/** Who a list row is for: their name (else phone), linking to their 360 view. */
export function CustomerLink({
  row,
}: {
  row: { customerId: string; customerName: string | null; customerPhone: string | null };
}) {
  const { tenant } = useTenant();
  return (
    <Link to={`/t/${tenant.slug}/customers/${row.customerId}`} className="customer-link" dir="auto">
      {row.customerName ?? (row.customerPhone ? formatPhone(row.customerPhone) : 'Unnamed customer')}
    </Link>
  );
}

/** An order with its items and every status it went through; in a list, with its customer. */
export function OrderRow({ order }: { order: Order | OrderWithCustomer }) {
  const { tenant } = useTenant();
  const [open, setOpen] = useState(false);
  const money = (value: number | null | undefined) => formatMoney(value, tenant.currency);
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
        {'customerName' in order ? <CustomerLink row={order} /> : null}
        <span className="money">{money(order.total)}</span>
        <span className="muted">{formatTime(order.createdAt)}</span>
        <span className="muted grow ellipsis" dir="auto">
          {itemsText(order.items)}
        </span>
      </div>
      {open ? (
        <div className="order-detail">
          {order.items.length === 0 ? (
            <p>No items listed</p>
          ) : (
            <ul className="order-items" aria-label="Items">
              {order.items.map((raw, i) => {
                const item = (raw ?? {}) as Item;
                const count = item.amount ?? item.quantity;
                return (
                  // biome-ignore lint/suspicious/noArrayIndexKey: an order's items have no id; their order is fixed
                  <li key={i} dir="auto">
                    {typeof count === 'number' ? `${count}× ` : ''}
                    {typeof item.name === 'string' ? item.name : 'item'}
                    {typeof item.price === 'number' ? (
                      <span className="money"> {money(item.price)}</span>
                    ) : null}
                  </li>
                );
              })}
              <li className="order-total">
                Total <span className="money">{money(order.total)}</span>
                {order.paymentMethod ? <span className="muted"> · {order.paymentMethod}</span> : null}
              </li>
            </ul>
          )}
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
  const filters = useUrlFilters();
  const status = filters.get('status');
  const from = filters.get('from');
  const to = filters.get('to');
  // Dates are local days: from its midnight to the midnight after `to`.
  const instant = (day: string, plus = 0) =>
    day ? new Date(new Date(`${day}T00:00:00`).getTime() + plus * 86_400_000).toISOString() : undefined;
  const list = useTenantList<OrderWithCustomer>('orders', '/api/orders', {
    filter: { status: status || undefined, from: instant(from), to: instant(to, 1) },
  });
  return (
    <div className="page">
      <PageHeader title="Orders">
        <SelectFilter
          label="Status"
          value={status}
          onChange={(value) => filters.set('status', value)}
          options={[['', 'All'], ...orderStatuses]}
        />
        <label className="field inline">
          <span>From</span>
          <input type="date" value={from} onChange={(e) => filters.set('from', e.target.value)} />
        </label>
        <label className="field inline">
          <span>To</span>
          <input type="date" value={to} onChange={(e) => filters.set('to', e.target.value)} />
        </label>
      </PageHeader>
      <ListStates
        list={list}
        skeleton={8}
        empty={<Empty title={status || from || to ? 'No order matches these filters' : 'No orders yet'} />}
      >
        <PagedCardList list={list}>
          {list.rows.map((order) => (
            <OrderRow key={order.id} order={order} />
          ))}
        </PagedCardList>
      </ListStates>
    </div>
  );
}
