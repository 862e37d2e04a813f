import { BatchedLookup } from '../db/batched-lookup.ts';
import type { Queryable } from '../db/index.ts';
import { findActiveKeysByHash, type KeyCredential } from './store.ts';

/**
 * Finds API keys by token hash for many concurrent requests with one query. Every lookup reads
 * the database after its request arrived (BatchedLookup): a key revoked before the request is
 * refused, in every process.
 */
export class ApiKeyLookup extends BatchedLookup<KeyCredential> {
  constructor(db: Queryable) {
    super((tokenHashes) => findActiveKeysByHash(db, tokenHashes));
  }
}
