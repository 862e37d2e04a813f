/**
 * `@syncdeck/sdk`: what a bot (or a source platform) embeds to talk to Syncdeck.
 *
 * @example
 * ```ts
 * import { SyncClient } from '@syncdeck/sdk';
 *
 * const sync = new SyncClient({ url: process.env.SYNCDECK_URL, apiKey: process.env.SYNCDECK_API_KEY });
 * sync.customerSeen({ telegram_chat_id: 123456789, display_name: 'Omar', preferred_language: 'en' });
 * ```
 * @packageDocumentation
 */
export { createSyncClient, DEFAULT_SYNC_CLIENT_OPTIONS, SyncClient } from './client.ts';
export { type ServerErrorCode, SyncdeckError, type SyncdeckErrorCode } from './errors.ts';
export type { FetchLike } from './http.ts';
export { consoleLogger, type SyncdeckLogger, silentLogger } from './logger.ts';
export {
  createRowSyncSender,
  DEFAULT_ROW_SYNC_SENDER_OPTIONS,
  type FullSyncBatch,
  type FullSyncOptions,
  type Row,
  type RowChange,
  type RowSyncAnswer,
  RowSyncSender,
  type RowSyncSenderOptions,
  signBody,
} from './row-sync.ts';
export {
  createSessionStore,
  DEFAULT_SESSION_STORE_OPTIONS,
  type PutOptions,
  type Session,
  SessionStore,
  type SessionStoreOptions,
} from './sessions.ts';
export { mapSyrveStatus, type OrderStatusUpdate } from './status.ts';
export type {
  EventData,
  MessageSender,
  SendOptions,
  SendOutcome,
  SyncClientOptions,
  SyncStats,
} from './types.ts';
export { uuidv7 } from './uuid.ts';
