import type { Conversation, Message } from '@syncdeck/core';
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useLayoutEffect, useRef } from 'react';
import { Link, useNavigate } from 'react-router';
import { ApiError, get, getPage, request } from '../../api.ts';
import { type ConversationFilter, placeConversation } from '../../realtime.ts';
import { useTenant } from '../../session.tsx';
import {
  Badge,
  Empty,
  ErrorState,
  formatClock,
  formatPhone,
  formatTime,
  LoadMore,
  Skeleton,
  StatusBadge,
} from '../../ui.tsx';
import { displayName, useRestaurantBots } from './common.ts';

/** Who wrote a message, as the transcript labels it: the customer, the bot by name, or the person. */
function authorLabel(m: Message, botName: string | undefined): string {
  if (m.authorType === 'customer') return 'Customer';
  if (m.authorType === 'agent') return m.authorName ?? 'Agent';
  return m.authorName ?? botName ?? 'Bot';
}

/** A conversation that cannot be shown: said once, for the whole transcript, with a way back. */
function TranscriptError({ error, retry }: { error: unknown; retry: () => void }) {
  const { tenant } = useTenant();
  if (error instanceof ApiError && error.status === 404) {
    return (
      <div className="empty" role="alert">
        <p className="empty-title">No such conversation</p>
        <p className="muted">It does not exist in {tenant.name}, or the link is wrong.</p>
        <p>
          <Link to={`/t/${tenant.slug}/inbox`}>Back to conversations</Link>
        </p>
      </div>
    );
  }
  return <ErrorState error={error} retry={retry} />;
}

export function Transcript({ id }: { id: string }) {
  const { tenant, key, can } = useTenant();
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

  // Opening a conversation marks it read; so does a message arriving while it is open. Marking
  // changes state, which a viewer may not do: for them the count stays.
  const unread = conversation.data?.unreadCount ?? 0;
  const marking = useRef(false);
  const mayMark = can('operate');
  useEffect(() => {
    if (unread === 0 || marking.current || !mayMark) return;
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
  }, [unread, mayMark, id, tenant.slug, client, key]);

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

  const bots = useRestaurantBots();
  const c = conversation.data;
  const botName = bots.data?.find((bot) => bot.id === c?.botId)?.name;
  // The conversation and its messages fail together (a wrong id, another tenant's): one message.
  if (conversation.isError && !c) {
    return (
      <div className="transcript">
        <TranscriptError error={conversation.error} retry={() => conversation.refetch()} />
      </div>
    );
  }
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
                <li
                  key={m.id}
                  className={`bubble ${m.direction === 'IN' ? 'in' : 'out'} by-${m.authorType}`}
                  data-author={m.authorType}
                >
                  <p dir="auto">{m.content}</p>
                  {m.mediaUrl ? (
                    <a href={m.mediaUrl} target="_blank" rel="noreferrer">
                      {m.messageType} attachment
                    </a>
                  ) : null}
                  <time dateTime={m.createdAt} title={formatTime(m.createdAt)}>
                    <span className="author" dir="auto">
                      {authorLabel(m, botName)}
                    </span>
                    {m.authorType === 'agent' ? <span className="muted"> (agent)</span> : null} ·{' '}
                    {formatClock(m.createdAt)}
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
