import type { Conversation, Message, RestaurantBot } from '@syncdeck/core';
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { get, getPage, request } from '../api.ts';
import { type ConversationFilter, placeConversation } from '../realtime.ts';
import {
  arrowKeys,
  ListStates,
  SearchFilter,
  SelectFilter,
  type TenantList,
  useDebounced,
  useTenantList,
  useUrlFilters,
} from '../lists.tsx';
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

export function useRestaurantBots() {
  const { tenant, key } = useTenant();
  return useQuery({
    queryKey: [...key, 'restaurant-bots'],
    queryFn: () => get<RestaurantBot[]>(`/api/db/restaurants/${encodeURIComponent(tenant.slug)}/bots`),
  });
}

export function displayName(c: { customerName: string | null; customerPhone: string | null }) {
  return c.customerName ?? formatPhone(c.customerPhone);
}

export function Inbox() {
  const { conversationId } = useParams();
  const filters = useUrlFilters();
  const [search, setSearch] = useState(filters.get('q'));
  const q = useDebounced(search.trim());
  const status = filters.get('status');
  const botId = filters.get('bot');
  const setFilter = filters.set;

  useEffect(() => setFilter('q', q), [q, setFilter]);

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
          <SearchFilter
            grow
            label="Search conversations"
            placeholder="Search name, phone or message"
            value={search}
            onChange={setSearch}
          />
          <SelectFilter
            hideLabel
            label="Status"
            value={status}
            onChange={(value) => setFilter('status', value)}
            options={[
              ['', 'All statuses'],
              ['active', 'Active'],
              ['closed', 'Closed'],
            ]}
          />
          <SelectFilter
            hideLabel
            label="Bot"
            value={botId}
            onChange={(value) => setFilter('bot', value)}
            options={[['', 'All bots'], ...(bots.data ?? []).map((bot) => [bot.id, bot.name] as const)]}
          />
        </div>
        <ConversationList filter={filter} selected={conversationId} search={filters.params.toString()} />
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
  const list = useTenantList<Conversation>('conversations', '/api/db/conversations', { filter, limit: 30 });
  const suffix = search ? `?${search}` : '';
  return (
    <ListStates
      list={list}
      skeleton={8}
      skeletonHeight={58}
      empty={
        <Empty
          title={
            filter.q || filter.status || filter.botId ? 'No conversation matches' : 'No conversations yet'
          }
        >
          {filter.q ? 'Try another search.' : 'They appear here as soon as a bot sends its first message.'}
        </Empty>
      }
    >
      <ConversationRows list={list} selected={selected} suffix={suffix} />
    </ListStates>
  );
}

function ConversationRows({
  list: { query: list, rows },
  selected,
  suffix,
}: {
  list: TenantList<Conversation>;
  selected: string | undefined;
  suffix: string;
}) {
  const { tenant } = useTenant();
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
