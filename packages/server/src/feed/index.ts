/**
 * The change feed: every state change appends to it in the transaction that makes the change;
 * realtime (and anything else that follows the tenant's changes) reads it from a seq, and a
 * FeedTail in each process follows it live through NOTIFY. Changes older than the retention
 * window are pruned.
 */
export { appendFeed, FEED_CHANNEL, type FeedEntry, recordChange } from './append.ts';
export {
  currentSeq,
  feedAfter,
  oldestRetainedSeq,
  type StoredFeedEvent,
  tenantFeedAfter,
} from './read.ts';
export { pruneFeed } from './retention.ts';
export { FeedTail, type FeedListener } from './tail.ts';
