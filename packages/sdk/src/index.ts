/**
 * `@syncdeck/sdk`: what a bot (or a source platform) embeds to talk to Syncdeck.
 *
 * @example
 * ```ts
 * import { createSessionStore, createSyncClient } from '@syncdeck/sdk';
 *
 * const sync = createSyncClient({ url: process.env.SYNCDECK_URL, apiKey: process.env.SYNCDECK_API_KEY });
 * sync.customerSeen({ telegram_chat_id: 123456789, display_name: 'Omar', preferred_language: 'en' });
 * ```
 * @packageDocumentation
 */
export { createSyncClient, DEFAULT_SYNC_CLIENT_OPTIONS, SyncClient } from './client.ts';
export { SyncdeckError, type SyncdeckErrorCode } from './errors.ts';
export type { FetchLike } from './http.ts';
export { consoleLogger, type SyncdeckLogger, silentLogger } from './logger.ts';
export {
  createRowSyncSender,
  type FullSyncBatch,
  type Row,
  type RowChange,
  type RowSyncAnswer,
  type RowSyncSender,
  type RowSyncSenderOptions,
  signBody,
} from './row-sync.ts';
export {
  createSessionStore,
  type PutOptions,
  type Session,
  type SessionStore,
  type SessionStoreOptions,
} from './sessions.ts';
export { mapSyrveStatus, type OrderStatusUpdate } from './status.ts';
export type { EventData, SendOptions, SendOutcome, SyncClientOptions, SyncStats } from './types.ts';
export { uuidv7 } from './uuid.ts';
