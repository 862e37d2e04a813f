import type { Queryable } from '../db/index.ts';
import { applyEscalations } from './escalations.ts';
import { applyOrderStatuses, createOrders } from './orders.ts';
import { EventRejected, type PreparedEvent } from './prepare.ts';
import type { FeedEntry } from '../feed/index.ts';
import { type BatchOutcome, applyEventBody, type OneByOneEvent } from './store.ts';
import { resolveBots } from './bots.ts';
import { identifyCustomers, resolveCustomers } from './customers.ts';
import { recordIdsAndLookUp, type BatchLookup } from './lookup.ts';
import { insertMessages } from './messages.ts';

/**
 * Applies a batch in one transaction with set-based SQL: the event ids, bots, customers,
 * conversations and messages of all its `message.created` and `customer.seen` events take a
 * fixed number of statements whatever the batch's size. The rarer events (orders,
 * escalations) follow one by one, in order; a `conversation.closed` splits the batch, so a
 * message after it opens a new conversation exactly as it would have alone.
 */
export async function applyBatch(
  tx: Queryable,
  events: PreparedEvent[],
  feed: FeedEntry[],
): Promise<BatchOutcome[]> {
  const outcomes: (BatchOutcome | undefined)[] = new Array(events.length);
  const lookup = await recordIdsAndLookUp(tx, events, outcomes);
  const fresh = events.map((_, index) => index).filter((index) => outcomes[index] === undefined);
  let segment: number[] = [];
  const flush = async () => {
    if (segment.length > 0) await applySegment(tx, events, segment, outcomes, feed, lookup);
    segment = [];
  };
  for (const index of fresh) {
    const event = events[index]!;
    if (event.name === 'conversation.closed') {
      await flush();
      const customerOf = event.customer
        ? await resolveCustomers(tx, events, [index], feed, lookup.take())
        : new Map<number, string>();
      let botId: string | undefined;
      if (!event.data.conversation_id && event.bot) {
        botId = (await resolveBots(tx, events, [index], outcomes, null)).get(index);
        if (outcomes[index]) continue; // an unknown bot id: rejected, its event id freed
      }
      outcomes[index] = await applyOne(tx, event, feed, customerOf.get(index), botId);
    } else {
      segment.push(index);
    }
  }
  await flush();
  // Array.from, not map: map would skip the holes of a sparse array.
  return Array.from(outcomes, (outcome) => outcome ?? { status: 'accepted' });
}

async function applyOne(
  tx: Queryable,
  event: OneByOneEvent,
  feed: FeedEntry[],
  customerId: string | undefined,
  botId: string | undefined,
): Promise<BatchOutcome> {
  try {
    return { status: await applyEventBody(tx, event, feed, customerId, botId) };
  } catch (error) {
    if (error instanceof EventRejected) return { status: 'rejected', details: error.details };
    throw error;
  }
}

async function applySegment(
  tx: Queryable,
  events: PreparedEvent[],
  indexes: number[],
  outcomes: (BatchOutcome | undefined)[],
  feed: FeedEntry[],
  lookup: BatchLookup,
) {
  const found = lookup.take();
  const messages = indexes.filter((i) => events[i]!.name === 'message.created');
  const botOf = await resolveBots(tx, events, messages, outcomes, found);
  // Every event that names a customer has them resolved together, up front.
  const withCustomer = indexes.filter(
    (i) =>
      outcomes[i] === undefined &&
      events[i]!.name !== 'order.status' &&
      events[i]!.name !== 'conversation.closed',
  );
  const { customerOf, merge: mergeCustomers } = await identifyCustomers(tx, events, withCustomer, found);
  const liveMessages = messages.filter((i) => outcomes[i] === undefined);
  const named = (name: PreparedEvent['name']) => indexes.filter((i) => events[i]!.name === name);
  const escalations = indexes.filter(
    (i) => events[i]!.name === 'escalation.created' || events[i]!.name === 'escalation.resolved',
  );
  // None of these needs an answer another gives: sent without waiting for each other, they share
  // a round trip. The database still runs them in this order, so the conversations the messages
  // return carry the names the merge wrote.
  await Promise.all([
    mergeCustomers(feed),
    insertMessages(tx, events, liveMessages, botOf, customerOf, outcomes, feed),
    createOrders(tx, events, named('order.created'), customerOf, outcomes, feed),
    applyOrderStatuses(tx, events, named('order.status'), outcomes, feed),
  ]);
  // After the messages: an escalation switches the bot of the conversation they may have opened.
  await applyEscalations(tx, events, escalations, customerOf, outcomes, feed);
}
