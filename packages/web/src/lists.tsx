import { type InfiniteData, type UseInfiniteQueryResult, useInfiniteQuery } from '@tanstack/react-query';
import { type KeyboardEvent, type ReactNode, useCallback, useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import { getPage, type Page } from './api.ts';
import { useTenant } from './session.tsx';
import { ErrorState, LoadNextPage, Skeleton } from './ui.tsx';

/*
 * What every paged list of the dashboard shares: the query, its loading, error and empty
 * states, the table or card around its rows, and the filters kept in the URL.
 */

export type ListFilter = Record<string, string | readonly string[] | undefined>;

export interface TenantList<T> {
  query: UseInfiniteQueryResult<InfiniteData<Page<T>, unknown>>;
  /** The rows of every page fetched so far. */
  rows: T[];
}

/**
 * A paged list of the open tenant's. Its key is `[...tenant key, name, filter]`: the live
 * applier (realtime.ts) finds lists by `name` and reads their filter at that place.
 */
export function useTenantList<T>(
  name: string,
  path: string,
  options: { filter?: ListFilter; limit?: number; enabled?: boolean; refetchInterval?: number } = {},
): TenantList<T> {
  const { tenant, key } = useTenant();
  const filter = options.filter ?? {};
  const query = useInfiniteQuery({
    queryKey: [...key, name, filter],
    queryFn: ({ pageParam, signal }) =>
      getPage<T>(path, {
        tenant: tenant.slug,
        query: { ...filter, limit: options.limit ?? 50, cursor: pageParam },
        signal,
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next ?? undefined,
    enabled: options.enabled ?? true,
    refetchInterval: options.refetchInterval,
  });
  return { query, rows: query.data?.pages.flatMap((page) => page.items) ?? [] };
}

/** A skeleton while the first page loads, the error with a retry, `empty` for no rows, else `children`. */
export function ListStates({
  list,
  skeleton = 6,
  skeletonHeight,
  empty,
  children,
}: {
  list: TenantList<unknown>;
  skeleton?: number;
  skeletonHeight?: number;
  empty: ReactNode;
  children: ReactNode;
}) {
  const { query } = list;
  if (query.isPending) return <Skeleton rows={skeleton} height={skeletonHeight} />;
  if (query.isError && !query.data) return <ErrorState error={query.error} retry={() => query.refetch()} />;
  if (list.rows.length === 0) return <>{empty}</>;
  return <>{children}</>;
}

/** A header cell with more than a name: a sort button, say, and the sort it shows. */
export interface HeaderCell {
  key: string;
  label: ReactNode;
  sort?: 'ascending' | 'descending' | 'none';
  /** Numbers: aligned to the end, like the cells below. */
  numeric?: boolean;
}

/** A table of a list's rows, its next page loading when its end scrolls into view. */
export function PagedTable({
  list,
  columns,
  actions,
  testId,
  caption,
  onKeyDown,
  children,
}: {
  list: TenantList<unknown>;
  columns: readonly (string | HeaderCell)[];
  /** A last, unlabelled column for each row's buttons. */
  actions?: boolean;
  testId?: string;
  caption?: string;
  onKeyDown?: (event: KeyboardEvent<HTMLElement>) => void;
  children: ReactNode;
}) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid={testId}>
        {caption ? <caption className="sr-only">{caption}</caption> : null}
        <thead>
          <tr>
            {columns.map((column) =>
              typeof column === 'string' ? (
                <th key={column} scope="col">
                  {column}
                </th>
              ) : (
                <th
                  key={column.key}
                  scope="col"
                  aria-sort={column.sort}
                  className={column.numeric ? 'num' : undefined}
                >
                  {column.label}
                </th>
              ),
            )}
            {actions ? (
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody onKeyDown={onKeyDown}>{children}</tbody>
      </table>
      <LoadNextPage query={list.query} />
    </div>
  );
}

/** A card of a list's rows as list items, its next page loading at its end. */
export function PagedCardList({ list, children }: { list: TenantList<unknown>; children: ReactNode }) {
  return (
    <div className="card">
      <ul className="plain-list">{children}</ul>
      <LoadNextPage query={list.query} />
    </div>
  );
}

/** Filters kept in the URL's query string, so a reload or a shared link keeps them. */
export function useUrlFilters() {
  const [params, setParams] = useSearchParams();
  const set = useCallback(
    (name: string, value: string) =>
      setParams(
        (current) => {
          if (value) current.set(name, value);
          else current.delete(name);
          return current;
        },
        { replace: true },
      ),
    [setParams],
  );
  /** A repeated parameter (`filter=a&filter=b`), all its values at once. */
  const setAll = useCallback(
    (name: string, values: readonly string[]) =>
      setParams(
        (current) => {
          current.delete(name);
          for (const value of values) current.append(name, value);
          return current;
        },
        { replace: true },
      ),
    [setParams],
  );
  return { params, get: (name: string, fallback = '') => params.get(name) ?? fallback, set, setAll };
}

/** `value` once it has stopped changing for `ms`: a search asks the server once typing pauses. */
export function useDebounced<T>(value: T, ms = 300): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

/** Up and Down move between the links (`a[data-row]`) of a list, as in a mail client. */
export function arrowKeys(event: KeyboardEvent<HTMLElement>) {
  if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
  const links = Array.from(event.currentTarget.querySelectorAll<HTMLElement>('a[data-row]'));
  const index = links.indexOf(document.activeElement as HTMLElement);
  const next = links[index + (event.key === 'ArrowDown' ? 1 : -1)];
  if (next) {
    event.preventDefault();
    next.focus();
  }
}

/** `[value, label]`, or a value that is its own label. */
export type FilterOption = string | readonly [string, string];

/** A labelled select (of a filter bar, or a form); `hideLabel` keeps the label for screen readers only. */
export function SelectFilter({
  label,
  value,
  onChange,
  options,
  hideLabel,
  stacked,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: readonly FilterOption[];
  hideLabel?: boolean;
  /** The label above the select, as in a form, rather than beside it. */
  stacked?: boolean;
}) {
  return (
    <label className={hideLabel || stacked ? 'field' : 'field inline'}>
      <span className={hideLabel ? 'sr-only' : undefined}>{label}</span>
      {/* Named by aria-label too: a wrapping label alone would also read out the chosen option. */}
      <select value={value} aria-label={label} onChange={(event) => onChange(event.target.value)}>
        {options.map((option) => {
          const [optionValue, optionLabel] = typeof option === 'string' ? [option, option] : option;
          return (
            <option key={optionValue} value={optionValue}>
              {optionLabel}
            </option>
          );
        })}
      </select>
    </label>
  );
}

/** A search box of a filter bar, labelled for screen readers. */
export function SearchFilter({
  label,
  placeholder,
  value,
  onChange,
  grow,
}: {
  label: string;
  placeholder: string;
  value: string;
  onChange: (value: string) => void;
  grow?: boolean;
}) {
  return (
    <label className={grow ? 'field grow' : 'field'}>
      <span className="sr-only">{label}</span>
      <input
        type="search"
        placeholder={placeholder}
        value={value}
        onChange={(event) => onChange(event.target.value)}
      />
    </label>
  );
}
