import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/index.ts';
import { FEED_CHANNEL } from './append.ts';
import { currentSeq, feedAfter, type StoredFeedEvent } from './read.ts';

/** Told each read's changes of its tenant at once, so it can send them in one write. */
export type FeedListener<Run> = (changes: Run) => void;

const PAGE = 1_000;

/**
 * This process's reader of the change feed. Whichever process committed a change, its NOTIFY
 * wakes every process's tail, which reads what is new once and hands each tenant's listeners
 * that tenant's part of it, encoded once for all of them. A timer reads too, so a notification
 * lost while the listening connection was down delays a change by at most `pollMs`, and never
 * loses it.
 */
export class FeedTail<Run = readonly StoredFeedEvent[]> {
  /** Every change up to here has been read (and handed to the listeners of that moment). */
  lastSeq = 0;
  private readonly listeners = new Map<string, Set<FeedListener<Run>>>();
  private reading: Promise<void> | null = null;
  private readAgain = false;
  private unlisten: (() => Promise<void>) | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly logger: FastifyBaseLogger,
    private readonly pollMs: number,
    /**
     * Wraps one read's changes of one tenant before they go to its listeners, once for all of
     * them (realtime encodes their frames there, once however many clients a tenant has).
     */
    private readonly group: (events: StoredFeedEvent[]) => Run = (events) => events as Run,
  ) {}

  async start(): Promise<void> {
    this.lastSeq = await currentSeq(this.db);
    // feed_append notifies with the last seq its transaction took.
    this.unlisten = await this.db.listen(FEED_CHANNEL, (payload) => this.poke(Number(payload) || undefined));
    this.timer = setInterval(() => this.poke(), this.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.unlisten?.();
    this.unlisten = null;
    await this.reading;
  }

  /** Listens to one tenant's changes read from now on; returns the unsubscribe function. */
  subscribe(tenantId: string, listener: FeedListener<Run>): () => void {
    let set = this.listeners.get(tenantId);
    if (!set) {
      set = new Set();
      this.listeners.set(tenantId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(tenantId) === set) this.listeners.delete(tenantId);
    };
  }

  /**
   * Something may have been committed: read it (once more, if a read is already running).
   * `committedSeq` is a NOTIFY's seq, when the poke comes from one: every change up to it is
   * committed, since transactions take their seqs in COMMIT order.
   */
  poke(committedSeq?: number): void {
    if (committedSeq !== undefined && this.listeners.size === 0 && !this.reading) {
      // Nobody to hand changes to: keep up with the numbers without a query. Synchronous, so no
      // client can subscribe in between and miss what the jump skips.
      this.lastSeq = Math.max(this.lastSeq, committedSeq);
      return;
    }
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = this.readNew()
      .catch((error) => this.logger.error({ err: error }, 'reading the change feed failed'))
      .finally(() => {
        this.reading = null;
      });
  }

  private async readNew(): Promise<void> {
    do {
      this.readAgain = false;
      if (this.listeners.size === 0) {
        // Nobody to hand changes to: only keep up with the numbers. A client that subscribed
        // while this query ran may have started its replay before the query read the counter,
        // so it would miss what the jump skips: then read the changes the ordinary way.
        const seq = await currentSeq(this.db);
        if (this.listeners.size === 0) {
          this.lastSeq = Math.max(this.lastSeq, seq);
          continue;
        }
      }
      let page: StoredFeedEvent[];
      do {
        page = await feedAfter(this.db, this.lastSeq, PAGE);
        if (page.length === 0) break;
        this.lastSeq = page.at(-1)!.seq;
        const byTenant = new Map<string, StoredFeedEvent[]>();
        for (const event of page) {
          if (!this.listeners.has(event.tenantId)) continue;
          let events = byTenant.get(event.tenantId);
          if (!events) {
            events = [];
            byTenant.set(event.tenantId, events);
          }
          events.push(event);
        }
        for (const [tenantId, events] of byTenant) {
          const changes = this.group(events);
          for (const listener of this.listeners.get(tenantId) ?? []) listener(changes);
        }
      } while (page.length === PAGE);
    } while (this.readAgain);
  }
}
