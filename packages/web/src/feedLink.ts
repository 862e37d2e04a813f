import type { FeedBatch, FeedFrame, RealtimeFrame } from '@syncdeck/core';

export type LinkStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface LinkState {
  status: LinkStatus;
  /** The last feed seq applied; the next connection resumes after it. */
  seq: number | null;
  /** Changes replayed by the last resume: what happened while the socket was down. */
  caughtUp: number | null;
  /** When the socket last went down, while it is down. */
  downSince: number | null;
}

interface Handlers {
  onFrame(frame: FeedFrame): void;
  /** The cached data cannot be trusted to be complete: fetch it again. */
  onReload(): void;
  /** A resume finished: queries that failed while the server was away may be retried. */
  onResumed(): void;
  onState(state: LinkState): void;
}

const MAX_DELAY_MS = 4000;

/**
 * The tenant's change feed over one WebSocket. It reconnects by itself with growing pauses,
 * resumes from the last seq it applied (the server replays what was missed, once and in
 * order), and asks for a reload when it cannot resume (first connection, or `reset`).
 */
export class FeedLink {
  private socket: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempts = 0;
  private stopped = false;
  private replayUntil: number | null = null;
  private replayed = 0;
  private state: LinkState = { status: 'connecting', seq: null, caughtUp: null, downSince: null };

  constructor(
    private readonly tenant: string,
    private readonly handlers: Handlers,
  ) {}

  start(): void {
    window.addEventListener('online', this.retryNow);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.retryNow);
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close(1000, 'page left');
    this.socket = null;
  }

  private readonly retryNow = () => {
    if (this.stopped || this.state.status === 'live') return;
    if (this.timer) clearTimeout(this.timer);
    this.connect();
  };

  private set(patch: Partial<LinkState>): void {
    this.state = { ...this.state, ...patch };
    this.handlers.onState(this.state);
  }

  private connect(): void {
    this.timer = null;
    // Batched: a commit's changes arrive as one message, not one each.
    const params = new URLSearchParams({ tenant: this.tenant, batch: 'true' });
    if (this.state.seq !== null) params.set('since', String(this.state.seq));
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${window.location.host}/api/realtime?${params}`);
    this.socket = socket;
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      let frame: RealtimeFrame | FeedBatch;
      try {
        frame = JSON.parse(String(event.data)) as RealtimeFrame | FeedBatch;
      } catch {
        return;
      }
      if (Array.isArray(frame)) for (const change of frame) this.receive(change);
      else this.receive(frame);
    };
    socket.onclose = () => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = null;
      this.attempts += 1;
      const offline = !navigator.onLine || this.attempts > 3;
      this.set({
        status: offline ? 'offline' : 'reconnecting',
        downSince: this.state.downSince ?? Date.now(),
      });
      const delay = Math.min(250 * 2 ** (this.attempts - 1), MAX_DELAY_MS);
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  private receive(frame: RealtimeFrame): void {
    if (frame.type === 'hello') {
      const resuming = this.state.seq !== null;
      this.attempts = 0;
      if (!resuming) {
        // Nothing to resume from: whatever was fetched before this socket may be missing changes.
        this.set({ status: 'live', seq: frame.seq, downSince: null });
        this.handlers.onReload();
        return;
      }
      this.replayed = 0;
      if (frame.seq > (this.state.seq ?? 0)) {
        this.replayUntil = frame.seq;
        this.set({ status: 'live', downSince: null });
      } else {
        this.replayUntil = null;
        this.set({ status: 'live', downSince: null, caughtUp: 0 });
        this.handlers.onResumed();
      }
      return;
    }
    if (frame.type === 'heartbeat') return;
    if (frame.type === 'reset') {
      this.replayUntil = null;
      this.set({ seq: frame.seq, caughtUp: null });
      this.handlers.onReload();
      this.handlers.onResumed();
      return;
    }
    const change = frame as FeedFrame;
    if (this.state.seq !== null && change.seq <= this.state.seq) return;
    this.state = { ...this.state, seq: change.seq };
    this.handlers.onFrame(change);
    if (this.replayUntil !== null) {
      this.replayed += 1;
      if (frame.seq >= this.replayUntil) {
        this.replayUntil = null;
        this.set({ caughtUp: this.replayed });
        this.handlers.onResumed();
      }
    }
  }
}
