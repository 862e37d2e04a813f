import type { Conversation, Customer, FeedFrame, Message } from '@syncdeck/core';
import type { InfiniteData, QueryClient, QueryKey } from '@tanstack/react-query';
import type { Page } from './api.ts';

/* Applying the change feed's frames to the query cache; the socket that brings them is in feedLink.ts. */

type Infinite<T> = InfiniteData<Page<T>, unknown>;

// A type, not an interface, so it stays assignable to the lists' Record-typed filters.
export type ConversationFilter = {
  status?: string | undefined;
  botId?: string | undefined;
  q?: string | undefined;
};

const recency = (c: Conversation) => c.lastMessageAt ?? c.createdAt;
function newerFirst(a: Conversation, b: Conversation): number {
  const byTime = recency(b).localeCompare(recency(a));
  return byTime !== 0 ? byTime : b.id.localeCompare(a.id);
}

/**
 * Puts a changed conversation where the server would list it: out of lists whose filter it no
 * longer matches, at its place by latest activity in the others. Pages are re-cut at the same
 * sizes, so the next page's cursor still follows the last row shown.
 */
export function placeConversation(
  data: Infinite<Conversation>,
  filter: ConversationFilter,
  conversation: Conversation,
): Infinite<Conversation> {
  const matches =
    (!filter.status || filter.status === conversation.status) &&
    (!filter.botId || filter.botId === conversation.botId);
  const rows = data.pages.flatMap((page) => page.items).filter((row) => row.id !== conversation.id);
  const hasMore = data.pages.at(-1)?.next != null;
  const last = rows.at(-1);
  // Older than everything loaded while more pages follow: it belongs to a page not yet fetched.
  const beyond = hasMore && last !== undefined && newerFirst(conversation, last) > 0;
  if (matches && !beyond) rows.push(conversation);
  rows.sort(newerFirst);
  let start = 0;
  const pages = data.pages.map((page, index) => {
    const size = index === data.pages.length - 1 ? rows.length - start : page.items.length;
    const items = rows.slice(start, start + Math.max(size, 0));
    start += items.length;
    return { ...page, items };
  });
  return { ...data, pages };
}

/** Appends a live message to an open transcript, once. Pages run oldest first. */
export function appendMessage(data: Infinite<Message>, message: Message): Infinite<Message> {
  if (data.pages.some((page) => page.items.some((m) => m.id === message.id))) return data;
  const pages = [...data.pages];
  const lastIndex = pages.length - 1;
  const last = pages[lastIndex];
  if (!last) return data;
  const items = [...last.items, message].sort(
    (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
  );
  pages[lastIndex] = { ...last, items };
  return { ...data, pages };
}

function patchList<T extends { id: string }>(
  client: QueryClient,
  key: QueryKey,
  row: T,
  addIfMissing: (filter: Record<string, unknown>) => boolean,
): void {
  for (const [queryKey, data] of client.getQueriesData<Infinite<T>>({ queryKey: key })) {
    if (!data?.pages) continue;
    const filter = (queryKey[3] ?? {}) as Record<string, unknown>;
    const present = data.pages.some((page) => page.items.some((item) => item.id === row.id));
    if (present) {
      client.setQueryData<Infinite<T>>(queryKey, {
        ...data,
        pages: data.pages.map((page) => ({
          ...page,
          items: page.items.map((item) => (item.id === row.id ? row : item)),
        })),
      });
    } else if (addIfMissing(filter)) {
      client.invalidateQueries({ queryKey, exact: true });
    }
  }
}

/** Keys of one tenant's queries all start with ['t', tenant]. */
export const tenantKey = (tenant: string) => ['t', tenant] as const;

export function createFrameApplier(client: QueryClient, tenant: string): (frame: FeedFrame) => void {
  const t = tenantKey(tenant);
  let overviewDue = false;
  // Counters move with nearly every change: refetched at most every few seconds, not per frame.
  const refreshOverview = () => {
    if (overviewDue) return;
    overviewDue = true;
    setTimeout(() => {
      overviewDue = false;
      client.invalidateQueries({ queryKey: [...t, 'overview'] });
      client.invalidateQueries({ queryKey: [...t, 'stats'] });
    }, 2000);
  };
  return (frame) => {
    switch (frame.type) {
      case 'message.created': {
        const message = frame.data as unknown as Message;
        const key = [...t, 'messages', message.conversationId];
        const data = client.getQueryData<Infinite<Message>>(key);
        if (data?.pages) client.setQueryData(key, appendMessage(data, message));
        refreshOverview();
        break;
      }
      case 'conversation.updated': {
        const conversation = frame.data as unknown as Conversation;
        client.setQueryData([...t, 'conversation', conversation.id], conversation);
        for (const [queryKey, data] of client.getQueriesData<Infinite<Conversation>>({
          queryKey: [...t, 'conversations'],
        })) {
          if (!data?.pages) continue;
          const filter = (queryKey[3] ?? {}) as ConversationFilter;
          // A search matches on text the frame does not carry: ask the server.
          if (filter.q) client.invalidateQueries({ queryKey, exact: true });
          else client.setQueryData(queryKey, placeConversation(data, filter, conversation));
        }
        client.invalidateQueries({ queryKey: [...t, 'customer', conversation.customerId] });
        client.invalidateQueries({ queryKey: [...t, 'all-tenants'] });
        refreshOverview();
        break;
      }
      case 'customer.updated': {
        const customer = frame.data as unknown as Customer;
        patchList(client, [...t, 'customers'], customer, (filter) => !filter.q);
        client.invalidateQueries({ queryKey: [...t, 'customer', customer.id] });
        break;
      }
      case 'order.created':
      case 'order.updated':
        client.invalidateQueries({ queryKey: [...t, 'orders'] });
        client.invalidateQueries({ queryKey: [...t, 'customer', String(frame.data.customerId)] });
        refreshOverview();
        break;
      case 'escalation.created':
      case 'escalation.resolved':
        client.invalidateQueries({ queryKey: [...t, 'escalations'] });
        client.invalidateQueries({ queryKey: [...t, 'customer', String(frame.data.customerId)] });
        refreshOverview();
        break;
      case 'bot.updated':
      case 'bot.deleted':
        client.invalidateQueries({ queryKey: [...t, 'bots'] });
        client.invalidateQueries({ queryKey: [...t, 'restaurant-bots'] });
        break;
      case 'table.synced':
        // A push changed a synced table: the Sync screen's tables, rows, log and charts ask again.
        client.invalidateQueries({
          predicate: ({ queryKey }) =>
            queryKey[0] === t[0] &&
            queryKey[1] === t[1] &&
            typeof queryKey[2] === 'string' &&
            queryKey[2].startsWith('sync-'),
        });
        break;
    }
  };
}
