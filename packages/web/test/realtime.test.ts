import type { Conversation, Message } from '@syncdeck/core';
import type { InfiniteData } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import type { Page } from '../src/api.ts';
import { appendMessage, placeConversation } from '../src/realtime.ts';

/* How live changes are put into the cached pages the screens show. */

function conversation(id: string, minute: number, extra: Partial<Conversation> = {}): Conversation {
  const at = `2026-03-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
  return {
    id,
    restaurantId: 't',
    botId: 'bot-a',
    customerId: `customer-${id}`,
    customerPhone: null,
    customerName: id,
    status: 'active',
    lastMessageAt: at,
    lastMessagePreview: null,
    unreadCount: 0,
    messageCount: 1,
    isBotActive: true,
    createdAt: at,
    updatedAt: at,
    closedAt: null,
    ...extra,
  };
}

function pages<T>(...lists: [T[], string | null][]): InfiniteData<Page<T>, unknown> {
  return { pages: lists.map(([items, next]) => ({ items, next })), pageParams: lists.map((_, i) => i) };
}

const ids = (data: InfiniteData<Page<Conversation>, unknown>) =>
  data.pages.map((p) => p.items.map((c) => c.id));

describe('placeConversation', () => {
  const data = pages<Conversation>(
    [[conversation('d', 40), conversation('c', 30)], 'cursor-1'],
    [[conversation('b', 20), conversation('a', 10)], 'cursor-2'],
  );

  it('moves a conversation with a new message to the top, keeping page sizes', () => {
    const moved = placeConversation(data, {}, conversation('b', 50, { unreadCount: 3 }));
    expect(ids(moved)).toEqual([
      ['b', 'd'],
      ['c', 'a'],
    ]);
    expect(moved.pages[0]!.items[0]!.unreadCount).toBe(3);
    expect(moved.pages.map((p) => p.next)).toEqual(['cursor-1', 'cursor-2']);
  });

  it('adds a new conversation at the top, and none older than the pages fetched so far', () => {
    expect(ids(placeConversation(data, {}, conversation('e', 55)))[0]).toEqual(['e', 'd']);
    expect(ids(placeConversation(data, {}, conversation('old', 1))).flat()).not.toContain('old');
  });

  it('takes a conversation out of a list whose filter it no longer matches', () => {
    const closed = placeConversation(data, { status: 'active' }, conversation('c', 30, { status: 'closed' }));
    expect(ids(closed).flat()).toEqual(['d', 'b', 'a']);
    const otherBot = placeConversation(data, { botId: 'bot-b' }, conversation('e', 55));
    expect(ids(otherBot).flat()).toEqual(['d', 'c', 'b', 'a']);
  });
});

describe('appendMessage', () => {
  const message = (id: string, second: number): Message => ({
    id,
    conversationId: 'c',
    restaurantId: 't',
    direction: 'IN',
    messageType: 'text',
    content: id,
    mediaUrl: null,
    waSid: null,
    createdAt: `2026-03-01T10:00:${String(second).padStart(2, '0')}.000Z`,
    metadata: {},
    authorType: 'customer',
    authorName: null,
  });

  it('appends once, in time order, to the newest page', () => {
    const data = pages<Message>([[message('m1', 1)], 'older'], [[message('m2', 2), message('m4', 4)], null]);
    const once = appendMessage(data, message('m3', 3));
    expect(once.pages[1]!.items.map((m) => m.id)).toEqual(['m2', 'm3', 'm4']);
    expect(appendMessage(once, message('m3', 3))).toBe(once);
    expect(appendMessage(once, message('m1', 1))).toBe(once);
  });
});
