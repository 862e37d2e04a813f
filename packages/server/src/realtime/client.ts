import { type RealtimeFrame, realtimeCloseCodes } from '@syncdeck/core';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Db } from '../db/index.ts';
import { type FeedTail, oldestRetainedSeq, type StoredFeedEvent, tenantFeedAfter } from '../feed/index.ts';
import { FrameRun, frameOf } from './frames.ts';

const REPLAY_PAGE = 500;
/** Live changes held while the replay runs; past this the replay simply goes on reading. */
const MAX_HELD = 5_000;

export interface RealtimeClientOptions {
  maxBufferedBytes: number;
  /**
   * Changes go out as one frame per read (a JSON array) rather than one frame each: a client
   * then handles a message per commit, not per change.
   */
  batch: boolean;
}

/**
 * One socket following one tenant's feed. With `since`, it first replays what the client
 * missed from the database, page by page, while holding the live changes that arrive
 * meanwhile; then it sends the held ones it has not replayed and goes live. Every change is
 * sent once, in seq order, whatever the writers do meanwhile.
 */
export class RealtimeClient {
  /** The last seq sent (or known to the client): only later changes go out. */
  private sentSeq = 0;
  private live = false;
  private held: StoredFeedEvent[] = [];
  /** Counts how often `held` overflowed and was dropped: the replay must then read on. */
  private drops = 0;
  private unsubscribe: (() => void) | null = null;
  /**
   * The connection under the WebSocket. Changes are written to it as ready-made frames (see
   * frames.ts) so that one buffer serves every client of a tenant, in one system call each:
   * a write per change per client costs more than the machine has at a few thousand changes a
   * second. ws writes each of its own frames whole and at once (no permessage-deflate here),
   * so its control frames and ours interleave only between frames; its `bufferedAmount`
   * counts what waits here too.
   */
  private readonly wire: Duplex;
  alive = true;

  constructor(
    private readonly socket: WebSocket,
    private readonly tenantId: string,
    private readonly tail: FeedTail<FrameRun>,
    private readonly db: Db,
    private readonly options: RealtimeClientOptions,
  ) {
    this.wire = (socket as unknown as { _socket: Duplex })._socket;
    socket.on('pong', () => {
      this.alive = true;
    });
    socket.on('close', () => this.stop());
  }

  async start(since: number | null): Promise<void> {
    this.unsubscribe = this.tail.subscribe(this.tenantId, (changes) => this.onChanges(changes));
    this.sendControl({ type: 'hello', seq: this.tail.lastSeq });
    if (since === null) {
      this.sentSeq = this.tail.lastSeq;
      this.live = true;
      return;
    }
    this.sentSeq = since;
    const oldest = await oldestRetainedSeq(this.db);
    if (oldest !== null && since + 1 < oldest) {
      // Changes the client missed were pruned: it must reload, then follow from here.
      this.sentSeq = this.tail.lastSeq;
      this.held = [];
      this.sendControl({ type: 'reset', seq: this.sentSeq });
      this.goLive();
      return;
    }
    await this.replay();
  }

  /** Sends a heartbeat, and tells whether the client answered the previous ping. */
  heartbeat(): boolean {
    if (!this.alive) return false;
    this.alive = false;
    this.socket.ping();
    this.sendControl({ type: 'heartbeat', seq: this.sentSeq });
    return true;
  }

  terminate(): void {
    this.stop();
    this.socket.terminate();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.held = [];
  }

  private async replay() {
    for (;;) {
      if (this.isClosed()) return;
      const dropsBefore = this.drops;
      const page = await tenantFeedAfter(this.db, this.tenantId, this.sentSeq, REPLAY_PAGE);
      // The next page is read once this one has left for the network: no faster than the client reads.
      await new Promise<void>((resolve) => this.sendEach(page, resolve));
      // A short page read after the subscription began covers everything the tail had read
      // before it; what came later is held, unless the hold overflowed during this read.
      if (page.length < REPLAY_PAGE && this.drops === dropsBefore) break;
    }
    this.goLive();
  }

  private goLive() {
    this.sendEach(this.held);
    this.held = [];
    this.live = true;
  }

  private onChanges(changes: FrameRun) {
    if (this.live) {
      const fresh = changes.after(this.sentSeq);
      if (!fresh) return;
      this.sentSeq = fresh.lastSeq;
      this.write(this.options.batch ? fresh.batchWire : fresh.wire);
      return;
    }
    if (this.held.length + changes.events.length > MAX_HELD) {
      this.held = [];
      this.drops += 1;
    }
    this.held.push(...changes.events);
  }

  /**
   * Sends the changes after `sentSeq` frame by frame (or, batched, a page of them per frame),
   * so that a backlog past the limit stops them at once, but corked: they still leave in one
   * system call. `onWritten` runs once the last has been handed to the network (or at once, if
   * there is nothing to send).
   */
  private sendEach(events: readonly StoredFeedEvent[], onWritten?: () => void) {
    const fresh = events.filter((event) => event.seq > this.sentSeq);
    if (fresh.length === 0 || this.isClosed()) {
      onWritten?.();
      return;
    }
    // What one write carries: a change, or batched, a page of them as one array frame.
    const size = this.options.batch ? REPLAY_PAGE : 1;
    this.wire.cork();
    for (let start = 0; start < fresh.length; start += size) {
      const group = fresh.slice(start, start + size);
      this.sentSeq = group.at(-1)!.seq;
      const afterLast = start + size >= fresh.length ? onWritten : undefined;
      if (afterLast) onWritten = undefined;
      const frames = this.options.batch ? new FrameRun(group).batchWire : frameOf(group[0]!);
      if (!this.write(frames, afterLast)) break;
    }
    this.wire.uncork();
    onWritten?.();
  }

  /** Writes ready-made frames; false if the client is (now) closed. */
  private write(frames: Buffer, onWritten?: () => void): boolean {
    if (this.isClosed()) {
      onWritten?.();
      return false;
    }
    this.wire.write(frames, onWritten && (() => onWritten()));
    return this.checkBacklog();
  }

  private sendControl(frame: RealtimeFrame) {
    if (this.isClosed()) return;
    this.socket.send(JSON.stringify(frame));
    this.checkBacklog();
  }

  private checkBacklog(): boolean {
    if (this.socket.bufferedAmount <= this.options.maxBufferedBytes) return true;
    // Its backlog would grow without bound: the client resumes from its last seq instead.
    this.stop();
    this.socket.close(realtimeCloseCodes.tooSlow, 'too slow: reconnect with since=<last seq>');
    return false;
  }

  private isClosed() {
    return this.socket.readyState !== this.socket.OPEN;
  }
}
