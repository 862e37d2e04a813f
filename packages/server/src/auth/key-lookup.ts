import type { Queryable } from '../db/index.ts';
import { findActiveKeysByHash, type KeyCredential } from './store.ts';

interface Waiter {
  tokenHash: string;
  resolve: (key: KeyCredential | null) => void;
  reject: (error: unknown) => void;
}

/**
 * Finds API keys for many concurrent requests with one query. A request that arrives while a
 * lookup is running waits for the next one instead of sharing the running one, so every
 * lookup reads the database after its request arrived: a key revoked before the request is
 * refused, in every process, exactly as with a query per request. Unlike a cache, nothing
 * here can go stale.
 */
export class ApiKeyLookup {
  private waiting: Waiter[] = [];
  private running = false;

  constructor(private readonly db: Queryable) {}

  find(tokenHash: string): Promise<KeyCredential | null> {
    const found = new Promise<KeyCredential | null>((resolve, reject) =>
      this.waiting.push({ tokenHash, resolve, reject }),
    );
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
          const keys = await findActiveKeysByHash(this.db, [...new Set(batch.map((w) => w.tokenHash))]);
          for (const waiter of batch) waiter.resolve(keys.get(waiter.tokenHash) ?? null);
        } catch (error) {
          for (const waiter of batch) waiter.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
