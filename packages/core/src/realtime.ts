import { z } from 'zod';

/** What the change feed carries; `data` is the same object the REST API answers. */
export const feedEventTypes = [
  'message.created',
  'conversation.updated',
  'customer.updated',
  'order.created',
  'order.updated',
  'escalation.created',
  'escalation.resolved',
  'bot.updated',
  'bot.deleted',
  'table.synced',
] as const;
export type FeedEventType = (typeof feedEventTypes)[number];

/** One change, in feed order. A client resumes with the last `seq` it saw (`?since=`). */
export const feedFrameSchema = z.object({
  seq: z.number().int(),
  type: z.enum(feedEventTypes),
  data: z.record(z.string(), z.unknown()),
});
export type FeedFrame = z.infer<typeof feedFrameSchema>;

/** With `?batch=true`, changes come as arrays: every change one read of the feed brought, in order. */
export const feedBatchSchema = z.array(feedFrameSchema);
export type FeedBatch = z.infer<typeof feedBatchSchema>;

/**
 * Frames that carry no change: `hello` first (the feed's current `seq`), `heartbeat` while
 * idle (the last `seq` sent to this client), and `reset` when `since` is older than the
 * retained feed — reload from the REST API, then follow from the `seq` given.
 */
export const controlFrameSchema = z.object({
  type: z.enum(['hello', 'heartbeat', 'reset']),
  seq: z.number().int(),
});
export type ControlFrame = z.infer<typeof controlFrameSchema>;

export const realtimeFrameSchema = z.union([feedFrameSchema, controlFrameSchema]);
export type RealtimeFrame = z.infer<typeof realtimeFrameSchema>;

/** Close codes of the realtime socket besides the standard ones. */
export const realtimeCloseCodes = {
  /** The client did not read fast enough; reconnect with `since` = the last seq received. */
  tooSlow: 4001,
  /** The server is shutting down; reconnect (to another process) with `since`. */
  goingAway: 1001,
} as const;
