import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { SearchFilter, SelectFilter, useDebounced, useUrlFilters } from '../../lists.tsx';
import type { ConversationFilter } from '../../realtime.ts';
import { useTenant } from '../../session.tsx';
import { Empty, PageHeader } from '../../ui.tsx';
import { useRestaurantBots } from './common.ts';
import { ConversationList } from './ConversationList.tsx';
import { Transcript } from './Transcript.tsx';

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
  const { tenant } = useTenant();
  const base = `/t/${tenant.slug}`;
  const query = filters.params.toString();

  return (
    // On a phone the list and the transcript take the screen in turn (styles.css).
    <div className={conversationId ? 'inbox has-selection' : 'inbox'}>
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
        <ConversationList filter={filter} selected={conversationId} search={query} />
      </section>
      <section className="inbox-transcript" aria-label="Transcript">
        {conversationId ? (
          <>
            <Link className="back-link phone-only" to={`${base}/inbox${query ? `?${query}` : ''}`}>
              ← Conversations
            </Link>
            <Transcript key={conversationId} id={conversationId} />
          </>
        ) : (
          <Empty title="Choose a conversation">Its messages appear here, live.</Empty>
        )}
      </section>
    </div>
  );
}
