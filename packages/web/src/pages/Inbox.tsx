import type { Conversation, Message, RestaurantBot } from '@syncdeck/core';
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { type KeyboardEvent, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { get, getPage, request } from '../api.ts';
import { type ConversationFilter, placeConversation } from '../realtime.ts';
import { useTenant } from '../session.tsx';
import {
  Badge,
  Empty,
  ErrorState,
  formatAgo,
  formatClock,
  formatPhone,
  formatTime,
  LoadMore,
  LoadNextPage,
  PageHeader,
  Skeleton,
  StatusBadge,
} from '../ui.tsx';

export function useDebounced<T>(value: T, ms = 300): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

export function useRestaurantBots() {
  const { tenant, key } = useTenant();
  return useQuery({
    queryKey: [...key, 'restaurant-bots'],
    queryFn: () => get<RestaurantBot[]>(`/api/db/restaurants/${encodeURIComponent(tenant.slug)}/bots`),
  });
}

/** Up and Down move between the links of a list, as in a mail client. */
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

export function displayName(c: { customerName: string | null; customerPhone: string | null }) {
  return c.customerName ?? formatPhone(c.customerPhone);
}

export function Inbox() {
  const { conversationId } = useParams();
  const [params, setParams] = useSearchParams();
  const [search, setSearch] = useState(params.get('q') ?? '');
  const q = useDebounced(search.trim());
  const status = params.get('status') ?? '';
  const botId = params.get('bot') ?? '';

  useEffect(() => {
    setParams(
      (current) => {
        if (q) current.set('q', q);
        else current.delete('q');
        return current;
      },
      { replace: true },
    );
  }, [q, setParams]);

  const setFilter = (name: string, value: string) =>
    setParams(
      (current) => {
        if (value) current.set(name, value);
        else current.delete(name);
        return current;
      },
      { replace: true },
    );

  const filter: ConversationFilter = {
    status: status || undefined,
    botId: botId || undefined,
    q: q || undefined,
  };
  const bots = useRestaurantBots();

  return (
    <div className="inbox">
      <section className="inbox-list" aria-label="Conversations">
        <PageHeader title="Inbox" />
        <div className="filters">
          <label className="field grow">
            <span className="sr-only">Search conversations</span>
            <input
              type="search"
              placeholder="Search name, phone or message"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
          </label>
          <label className="field">
            <span className="sr-only">Status</span>
            <select value={status} onChange={(e) => setFilter('status', e.target.value)} aria-label="Status">
              <option value="">All statuses</option>
              <option value="active">Active</option>
              <option value="closed">Closed</option>
            </select>
          </label>
          <label className="field">
            <span className="sr-only">Bot</span>
            <select value={botId} onChange={(e) => setFilter('bot', e.target.value)} aria-label="Bot">
              <option value="">All bots</option>
              {(bots.data ?? []).map((bot) => (
                <option key={bot.id} value={bot.id}>
                  {bot.name}
                </option>
              ))}
            </select>
          </label>
        </div>
        <ConversationList filter={filter} selected={conversationId} search={params.toString()} />
      </section>
      <section className="inbox-transcript" aria-label="Transcript">
        {conversationId ? (
          <Transcript key={conversationId} id={conversationId} />
        ) : (
          <Empty title="Choose a conversation">Its messages appear here, live.</Empty>
        )}
      </section>
    </div>
  );
}

function ConversationList({
  filter,
  selected,
  search,
}: {
  filter: ConversationFilter;
  selected: string | undefined;
  search: string;
}) {
  const { tenant, key } = useTenant();
  const list = useInfiniteQuery({
    queryKey: [...key, 'conversations', filter],
    queryFn: ({ pageParam, signal }) =>
      getPage<Conversation>('/api/db/conversations', {
        tenant: tenant.slug,
        query: { ...filter, limit: 30, cursor: pageParam },
        signal,
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next ?? undefined,
  });
  if (list.isPending) return <Skeleton rows={8} height={58} />;
  if (list.isError && !list.data) return <ErrorState error={list.error} retry={() => list.refetch()} />;
  const rows = list.data.pages.flatMap((page) => page.items);
  if (rows.length === 0) {
    return (
      <Empty
        title={filter.q || filter.status || filter.botId ? 'No conversation matches' : 'No conversations yet'}
      >
        {filter.q ? 'Try another search.' : 'They appear here as soon as a bot sends its first message.'}
      </Empty>
    );
  }
  const suffix = search ? `?${search}` : '';
  return (
    <div className="scroll">
      <ul className="conversation-list" onKeyDown={arrowKeys} data-testid="conversation-list">
        {rows.map((c) => (
          <li key={c.id}>
            <Link
              data-row
              to={`/t/${tenant.slug}/inbox/${c.id}${suffix}`}
              className={c.id === selected ? 'conversation-row selected' : 'conversation-row'}
              aria-current={c.id === selected ? 'page' : undefined}
            >
              <div className="row-top">
                <span className="row-name" dir="auto">
                  {displayName(c)}
                </span>
                <time className="row-time" dateTime={c.lastMessageAt ?? c.createdAt}>
                  {formatAgo(c.lastMessageAt ?? c.createdAt)}
                </time>
              </div>
              <div className="row-bottom">
                <span className="row-preview" dir="auto">
                  {c.lastMessagePreview ?? 'No messages'}
                </span>
                {c.status === 'closed' ? <Badge>closed</Badge> : null}
                {c.unreadCount > 0 ? (
                  <span className="unread" title={`${c.unreadCount} unread`}>
                    {c.unreadCount}
                    <span className="sr-only"> unread</span>
                  </span>
                ) : null}
              </div>
            </Link>
          </li>
        ))}
      </ul>
      <LoadNextPage query={list} />
      {list.isError ? <ErrorState error={list.error} retry={() => list.refetch()} /> : null}
    </div>
  );
}

function Transcript({ id }: { id: string }) {
  const { tenant, key } = useTenant();
  const client = useQueryClient();
  const navigate = useNavigate();
  const conversation = useQuery({
    queryKey: [...key, 'conversation', id],
    queryFn: () => get<Conversation>(`/api/db/conversations/${id}`, { tenant: tenant.slug }),
  });
  const messages = useInfiniteQuery({
    queryKey: [...key, 'messages', id],
    queryFn: ({ pageParam, signal }) =>
      getPage<Message>(`/api/db/conversations/${id}/messages`, {
        tenant: tenant.slug,
        query: pageParam ? { before: pageParam, limit: 50 } : { latest: true, limit: 50 },
        signal,
      }),
    initialPageParam: '',
    // Newer messages arrive over the realtime link; pages are only fetched backwards.
    getNextPageParam: () => undefined,
    getPreviousPageParam: (first) => first.next ?? undefined,
  });

  // Opening a conversation marks it read; so does a message arriving while it is open.
  const unread = conversation.data?.unreadCount ?? 0;
  const marking = useRef(false);
  useEffect(() => {
    if (unread === 0 || marking.current) return;
    marking.current = true;
    request<Conversation>(`/api/db/conversations/${id}/read`, { method: 'POST', tenant: tenant.slug })
      .then(({ data }) => {
        client.setQueryData([...key, 'conversation', id], data);
        for (const [queryKey, list] of client.getQueriesData<Parameters<typeof placeConversation>[0]>({
          queryKey: [...key, 'conversations'],
        })) {
          if (list?.pages)
            client.setQueryData(
              queryKey,
              placeConversation(list, (queryKey[3] ?? {}) as ConversationFilter, data),
            );
        }
      })
      .catch(() => {})
      .finally(() => {
        marking.current = false;
      });
  }, [unread, id, tenant.slug, client, key]);

  // Keep the view at the bottom as messages arrive, unless the operator scrolled up to read.
  const scroller = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  const heightBefore = useRef<number | null>(null);
  const rows = messages.data?.pages.flatMap((page) => page.items) ?? [];
  const firstId = rows[0]?.id;
  const lastId = rows.at(-1)?.id;
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the first or last message changes
  useLayoutEffect(() => {
    const node = scroller.current;
    if (!node) return;
    if (heightBefore.current !== null) {
      // Older messages were put on top: keep the ones being read where they were.
      node.scrollTop += node.scrollHeight - heightBefore.current;
      heightBefore.current = null;
    } else if (pinned.current) {
      node.scrollTop = node.scrollHeight;
    }
  }, [firstId, lastId]);

  const loadOlder = () => {
    if (!messages.hasPreviousPage || messages.isFetchingPreviousPage) return;
    heightBefore.current = scroller.current?.scrollHeight ?? null;
    messages.fetchPreviousPage();
  };

  const c = conversation.data;
  return (
    <div className="transcript">
      <header className="transcript-head">
        {c ? (
          <>
            <div>
              <h2 dir="auto">{displayName(c)}</h2>
              <p className="muted">
                {formatPhone(c.customerPhone)} · {c.messageCount} messages · opened {formatTime(c.createdAt)}
              </p>
            </div>
            <div className="head-badges">
              <StatusBadge status={c.status} />
              {c.isBotActive ? <Badge tone="blue">bot</Badge> : <Badge tone="amber">human</Badge>}
              <button
                type="button"
                className="button ghost small"
                onClick={() => navigate(`/t/${tenant.slug}/customers/${c.customerId}`)}
              >
                Customer 360
              </button>
            </div>
          </>
        ) : conversation.isError ? (
          <ErrorState error={conversation.error} retry={() => conversation.refetch()} />
        ) : (
          <Skeleton rows={1} />
        )}
      </header>
      <div
        className="messages"
        ref={scroller}
        onScroll={(e) => {
          const node = e.currentTarget;
          pinned.current = node.scrollHeight - node.scrollTop - node.clientHeight < 40;
        }}
        data-testid="transcript"
      >
        {messages.isPending ? (
          <Skeleton rows={6} height={36} />
        ) : messages.isError && !messages.data ? (
          <ErrorState error={messages.error} retry={() => messages.refetch()} />
        ) : rows.length === 0 ? (
          <Empty title="No messages in this conversation" />
        ) : (
          <>
            <LoadMore
              hasMore={messages.hasPreviousPage}
              loading={messages.isFetchingPreviousPage}
              onVisible={loadOlder}
              label="Load older messages"
            />
            <ol className="message-list">
              {rows.map((m) => (
                <li key={m.id} className={m.direction === 'IN' ? 'bubble in' : 'bubble out'}>
                  <p dir="auto">{m.content}</p>
                  {m.mediaUrl ? (
                    <a href={m.mediaUrl} target="_blank" rel="noreferrer">
                      {m.messageType} attachment
                    </a>
                  ) : null}
                  <time dateTime={m.createdAt} title={formatTime(m.createdAt)}>
                    {m.direction === 'IN' ? 'Customer' : 'Bot'} · {formatClock(m.createdAt)}
                  </time>
                </li>
              ))}
            </ol>
          </>
        )}
      </div>
    </div>
  );
}
