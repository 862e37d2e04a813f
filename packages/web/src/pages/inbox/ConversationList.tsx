import type { Conversation } from '@syncdeck/core';
import { Link } from 'react-router';
import { arrowKeys, ListStates, type TenantList, useTenantList } from '../../lists.tsx';
import type { ConversationFilter } from '../../realtime.ts';
import { useTenant } from '../../session.tsx';
import { Badge, Empty, ErrorState, formatAgo, LoadNextPage } from '../../ui.tsx';
import { displayName } from './common.ts';

export function ConversationList({
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
