interface Waiter<V> {
  key: string;
  resolve: (value: V | null) => void;
  reject: (error: unknown) => void;
}

/**
 * Answers many concurrent lookups with one query. A lookup that arrives while a query runs
 * waits for the next one instead of sharing the running one, so every answer was read from
 * the database after its lookup was asked: a change committed before a request is seen by
 * it, in every process, exactly as with a query per request. Unlike a cache, nothing here can
 * go stale.
 */
export class BatchedLookup<V> {
  private waiting: Waiter<V>[] = [];
  private running = false;

  /** `fetch` answers a set of distinct keys; a key it leaves out is answered null. */
  constructor(private readonly fetch: (keys: string[]) => Promise<Map<string, V>>) {}

  find(key: string): Promise<V | null> {
    const found = new Promise<V | null>((resolve, reject) => this.waiting.push({ key, resolve, reject }));
    if (!this.running) void this.run();
    return found;
  }

  private async run() {
    this.running = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting;
        this.waiting = [];
        try {
          const values = await this.fetch([...new Set(batch.map((w) => w.key))]);
          for (const waiter of batch) waiter.resolve(values.get(waiter.key) ?? null);
        } catch (error) {
          for (const waiter of batch) waiter.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
