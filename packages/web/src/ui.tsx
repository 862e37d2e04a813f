import { type ReactNode, useEffect, useId, useRef } from 'react';
import { ApiError, errorMessage } from './api.ts';

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      {children ? <div className="page-actions">{children}</div> : null}
    </header>
  );
}

/** Grey bars where rows will be, so the layout does not jump when they arrive. */
export function Skeleton({ rows = 5, height = 44 }: { rows?: number; height?: number }) {
  return (
    <div className="skeleton-list" role="status" aria-busy="true" aria-label="Loading">
      {Array.from({ length: rows }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: placeholders have no identity
        <div key={i} className="skeleton" style={{ height }} />
      ))}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty" role="status">
      <p className="empty-title">{title}</p>
      {children ? <p className="muted">{children}</p> : null}
    </div>
  );
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  const offline = error instanceof ApiError && error.status === 0;
  return (
    <div className="error-box" role="alert">
      <p>
        <strong>{offline ? 'The server cannot be reached.' : 'This could not be loaded.'}</strong>{' '}
        {offline ? 'It will be retried when the connection is back.' : errorMessage(error)}
      </p>
      {retry ? (
        <button type="button" className="button" onClick={retry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

/** Why a form or an action failed, announced as it appears; nothing while there is no error. */
export function FormError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="form-error" role="alert">
      {typeof error === 'string' ? error : errorMessage(error)}
    </p>
  );
}

export function Badge({ tone = 'grey', children }: { tone?: string; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

const statusTones: Record<string, string> = {
  active: 'green',
  closed: 'grey',
  open: 'amber',
  resolved: 'green',
  created: 'blue',
  confirmed: 'blue',
  cooking: 'amber',
  delivering: 'violet',
  delivered: 'green',
  cancelled: 'red',
  ACTIVE: 'green',
  PENDING: 'amber',
  VERIFYING: 'blue',
  FAILED: 'red',
  INACTIVE: 'grey',
};
export function StatusBadge({ status }: { status: string }) {
  return <Badge tone={statusTones[status] ?? 'grey'}>{status}</Badge>;
}

/** Calls `onVisible` when the sentinel scrolls into view: the next page of an infinite list. */
/** The next page of an infinite query, fetched when the end of the list comes into view. */
export function LoadNextPage({
  query,
}: {
  query: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => unknown };
}) {
  return (
    <LoadMore
      hasMore={query.hasNextPage}
      loading={query.isFetchingNextPage}
      onVisible={() => {
        if (!query.isFetchingNextPage) query.fetchNextPage();
      }}
    />
  );
}

export function LoadMore({
  onVisible,
  loading,
  hasMore,
  label = 'Load more',
}: {
  onVisible: () => void;
  loading: boolean;
  hasMore: boolean;
  label?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const callback = useRef(onVisible);
  callback.current = onVisible;
  useEffect(() => {
    const node = ref.current;
    if (!node || !hasMore) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) callback.current();
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, [hasMore]);
  if (!hasMore) return null;
  return (
    <div ref={ref} className="load-more">
      <button type="button" className="button ghost" onClick={onVisible} disabled={loading}>
        {loading ? 'Loading…' : label}
      </button>
    </div>
  );
}

/** A modal confirmation on the native <dialog>: focus is trapped and Escape cancels. */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  danger,
  busy,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onCancel={onCancel}>
      <h2 id={titleId}>{title}</h2>
      <div className="dialog-body">{open ? children : null}</div>
      <div className="dialog-actions">
        <button type="button" className="button ghost" onClick={onCancel}>
          Cancel
        </button>
        <button
          type="button"
          className={danger ? 'button danger' : 'button primary'}
          onClick={onConfirm}
          disabled={busy}
        >
          {busy ? 'Working…' : confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const clockFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export function formatTime(iso: string | null | undefined): string {
  return iso ? timeFormat.format(new Date(iso)) : '—';
}

export function formatClock(iso: string): string {
  return clockFormat.format(new Date(iso));
}

export function formatAgo(iso: string | null | undefined): string {
  if (!iso) return '—';
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return timeFormat.format(new Date(iso));
}

/** Formatters by currency and style, made once each: making one is far dearer than using it. */
const moneyFormats = new Map<string, Intl.NumberFormat>();

function moneyFormat(currency: string | undefined, compact: boolean): Intl.NumberFormat {
  const id = `${currency ?? ''}:${compact}`;
  let format = moneyFormats.get(id);
  if (!format) {
    // The user's locale says how (symbol, separators, its place); the tenant's currency says what.
    format = new Intl.NumberFormat(undefined, {
      ...(currency
        ? { style: 'currency', currency }
        : { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
      ...(compact ? { notation: 'compact', maximumFractionDigits: 1 } : {}),
    });
    moneyFormats.set(id, format);
  }
  return format;
}

/** An amount in the tenant's currency (ISO 4217), in the browser's locale: `SAR 1,250.00`, `1.250,00 €`. */
export function formatMoney(value: number | null | undefined, currency?: string): string {
  return value === null || value === undefined ? '—' : moneyFormat(currency, false).format(value);
}

/** As formatMoney, short, for a chart's axis: `SAR 1.3K`. */
export function formatMoneyCompact(value: number, currency?: string): string {
  return moneyFormat(currency, true).format(value);
}

/** `whatsapp:+9665…` → `+9665…` for display. */
export function formatPhone(phone: string | null | undefined): string {
  return phone ? phone.replace(/^whatsapp:/, '') : '—';
}
