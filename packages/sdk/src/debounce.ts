import { chatKey } from './events.ts';
import type { SyncClientOptions } from './types.ts';

/**
 * Options of {@link CustomerSeenDebounce}: the sync client's options of the same names.
 *
 * @example
 * ```ts
 * const options: CustomerSeenDebounceOptions = { customerSeenDebounceMs: 60_000 };
 * ```
 */
export type CustomerSeenDebounceOptions = Pick<
  SyncClientOptions,
  'customerSeenDebounceMs' | 'debounceSweepMs' | 'debounceMaxEntries'
>;

/**
 * The defaults of {@link CustomerSeenDebounce}: a 5-minute window, swept every minute, at most
 * 10,000 chats.
 *
 * @example
 * ```ts
 * const windowMs = DEFAULT_CUSTOMER_SEEN_DEBOUNCE_OPTIONS.customerSeenDebounceMs; // 300000
 * ```
 */
export const DEFAULT_CUSTOMER_SEEN_DEBOUNCE_OPTIONS: Readonly<Required<CustomerSeenDebounceOptions>> =
  Object.freeze({
    customerSeenDebounceMs: 5 * 60 * 1000,
    debounceSweepMs: 60_000,
    debounceMaxEntries: 10_000,
  });

/**
 * The sync client's debounce of `customer.seen`: a bot calls it on every message, and only the
 * first per chat and window (or one whose data changed) is sent. Memory stays bounded: chats past
 * the window are swept periodically, and past `debounceMaxEntries` the least recent are forgotten.
 *
 * @example
 * ```ts
 * const debounce = new CustomerSeenDebounce({ customerSeenDebounceMs: 300_000 });
 * debounce.skip({ telegram_chat_id: 1 }); // false: send it
 * debounce.skip({ telegram_chat_id: 1 }); // true: the same data within the window
 * debounce.stop();
 * ```
 */
export class CustomerSeenDebounce {
  /** Calls skipped so far. */
  skipped = 0;
  private readonly windowMs: number;
  private readonly maxEntries: number;
  /**
   * Chat → when its customer.seen was last sent and what it said. Map order is recency order
   * (entries are re-inserted on every send), so the sweep stops at the first fresh one.
   */
  private readonly seen = new Map<string, { at: number; fingerprint: string }>();
  private readonly sweepTimer: ReturnType<typeof setInterval>;

  constructor(options: CustomerSeenDebounceOptions = {}) {
    const defaults = DEFAULT_CUSTOMER_SEEN_DEBOUNCE_OPTIONS;
    this.windowMs = options.customerSeenDebounceMs ?? defaults.customerSeenDebounceMs;
    this.maxEntries = Math.max(1, options.debounceMaxEntries ?? defaults.debounceMaxEntries);
    this.sweepTimer = setInterval(() => this.sweep(), options.debounceSweepMs ?? defaults.debounceSweepMs);
    this.sweepTimer.unref?.();
  }

  /** Chats remembered now. */
  get size(): number {
    return this.seen.size;
  }

  /**
   * Whether this `customer.seen` repeats, within the window, what was last sent for its chat (and
   * then counts it). Otherwise it is remembered as sent. Data without a chat is never skipped.
   */
  skip(data: unknown): boolean {
    if (!data || typeof data !== 'object') return false;
    const key = chatKey(data as Record<string, unknown>);
    if (!key) return false;
    const now = Date.now();
    const fingerprint = JSON.stringify(data);
    const last = this.seen.get(key);
    if (last && now - last.at < this.windowMs && last.fingerprint === fingerprint) {
      this.skipped++;
      return true;
    }
    this.seen.delete(key);
    this.seen.set(key, { at: now, fingerprint });
    if (this.seen.size > this.maxEntries) this.seen.delete(this.seen.keys().next().value!);
    return false;
  }

  /** Stops the periodic sweep. */
  stop(): void {
    clearInterval(this.sweepTimer);
  }

  private sweep() {
    const horizon = Date.now() - this.windowMs;
    for (const [key, entry] of this.seen) {
      if (entry.at > horizon) break;
      this.seen.delete(key);
    }
  }
}
