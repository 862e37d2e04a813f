import type { Db } from '../db/index.ts';
import { FeedTail, type StoredFeedEvent } from '../feed/index.ts';
import type { FastifyBaseLogger } from 'fastify';

/**
 * A WebSocket text frame as a server sends it (RFC 6455 §5.2: final, unmasked), ready to be
 * written to any number of sockets. Encoding it here rather than through `ws.send` lets one
 * change be encoded once for all the clients of its tenant, and a run of changes go to each
 * client in a single write.
 */
export function textFrame(payload: string): Buffer {
  const length = Buffer.byteLength(payload);
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81; // FIN + opcode 1 (text)
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  frame.write(payload, headerLength, 'utf8');
  return frame;
}

/** The change's frame, encoded the first time any client needs it; the payload goes in as stored. */
export function frameOf(event: StoredFeedEvent): Buffer {
  event.frame ??= textFrame(frameText(event));
  return event.frame;
}

/** The change as its frame's JSON text: `{"seq","type","data"}`, the payload spliced in as stored. */
function frameText(event: StoredFeedEvent): string {
  return `{"seq":${event.seq},"type":${JSON.stringify(event.type)},"data":${event.json}}`;
}

/**
 * Consecutive changes of one tenant, in seq order: what one read of the feed brought, or one
 * replay page. `wire` is all their frames back to back, and `batchWire` one frame holding them
 * all as a JSON array (for clients that asked for `batch=true`); each is built once, the first
 * time a client needs it, however many clients it goes to.
 */
export class FrameRun {
  private encoded: Buffer | null = null;
  private batched: Buffer | null = null;

  constructor(readonly events: readonly StoredFeedEvent[]) {}

  get lastSeq(): number {
    return this.events.at(-1)?.seq ?? 0;
  }

  get wire(): Buffer {
    this.encoded ??= Buffer.concat(this.events.map(frameOf));
    return this.encoded;
  }

  get batchWire(): Buffer {
    this.batched ??= textFrame(`[${this.events.map(frameText).join(',')}]`);
    return this.batched;
  }

  /** The changes after `seq`: this run itself when all are, null when none is. */
  after(seq: number): FrameRun | null {
    if (this.events.length === 0 || this.lastSeq <= seq) return null;
    if (this.events[0]!.seq > seq) return this;
    return new FrameRun(this.events.filter((event) => event.seq > seq));
  }
}

/** This process's follower of the feed, handing each tenant's clients its changes as one FrameRun. */
export function frameFeedTail(db: Db, logger: FastifyBaseLogger, pollMs: number): FeedTail<FrameRun> {
  return new FeedTail(db, logger, pollMs, (events) => new FrameRun(events));
}
