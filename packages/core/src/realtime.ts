import { z } from 'zod';
import { feedEventTypes } from './constants.ts';

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
