import { type RealtimeFrame, realtimeCloseCodes } from '@syncdeck/core';
import type { WebSocket } from 'ws';
import type { Db } from '../db/index.ts';
import type { FeedTail } from './feed-tail.ts';
import { oldestRetainedSeq, type StoredFeedEvent, tenantFeedAfter } from './store.ts';

const REPLAY_PAGE = 500;
/** Live changes held while the replay runs; past this the replay simply goes on reading. */
const MAX_HELD = 5_000;

export interface RealtimeClientOptions {
  maxBufferedBytes: number;
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
  alive = true;

  constructor(
    private readonly socket: WebSocket,
    private readonly tenantId: string,
    private readonly tail: FeedTail,
    private readonly db: Db,
    private readonly options: RealtimeClientOptions,
  ) {
    socket.on('pong', () => {
      this.alive = true;
    });
    socket.on('close', () => this.stop());
  }

  async start(since: number | null): Promise<void> {
    this.unsubscribe = this.tail.subscribe(this.tenantId, (event) => this.onChange(event));
    this.send({ type: 'hello', seq: this.tail.lastSeq });
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
      this.send({ type: 'reset', seq: this.sentSeq });
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
    this.send({ type: 'heartbeat', seq: this.sentSeq });
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
      await new Promise<void>((resolve) => {
        page.forEach((event, i) => {
          this.sendChange(event, i === page.length - 1 ? resolve : undefined);
        });
        if (page.length === 0 || this.isClosed()) resolve();
      });
      // A short page read after the subscription began covers everything the tail had read
      // before it; what came later is held, unless the hold overflowed during this read.
      if (page.length < REPLAY_PAGE && this.drops === dropsBefore) break;
    }
    this.goLive();
  }

  private goLive() {
    for (const event of this.held) this.sendChange(event);
    this.held = [];
    this.live = true;
  }

  private onChange(event: StoredFeedEvent) {
    if (this.live) {
      this.sendChange(event);
      return;
    }
    if (this.held.length >= MAX_HELD) {
      this.held = [];
      this.drops += 1;
    }
    this.held.push(event);
  }

  private sendChange(event: StoredFeedEvent, onWritten?: () => void) {
    if (event.seq <= this.sentSeq) {
      onWritten?.();
      return;
    }
    this.sentSeq = event.seq;
    this.send({ seq: event.seq, type: event.type, data: event.data }, onWritten);
  }

  private send(frame: RealtimeFrame, onWritten?: () => void) {
    if (this.isClosed()) {
      onWritten?.();
      return;
    }
    this.socket.send(JSON.stringify(frame), onWritten && (() => onWritten()));
    if (this.socket.bufferedAmount > this.options.maxBufferedBytes) {
      // Its backlog would grow without bound: the client resumes from its last seq instead.
      this.stop();
      this.socket.close(realtimeCloseCodes.tooSlow, 'too slow: reconnect with since=<last seq>');
    }
  }

  private isClosed() {
    return this.socket.readyState !== this.socket.OPEN;
  }
}
