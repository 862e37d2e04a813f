/*
 * The wire contract's constants, without zod: the dashboard's bundle imports these from
 * `@syncdeck/core/constants`, and the schemas beside them build their enums from the same lists.
 */

// auth
/**
 * What a credential may do within a tenant. `admin` implies `read` and `operate`;
 * `ingest` is separate so a bot's key can never read the dashboard's data.
 */
export const scopes = ['ingest', 'read', 'operate', 'admin'] as const;
/** A person's role in one tenant, and the scopes it grants. */
export const roles = ['owner', 'admin', 'agent', 'viewer'] as const;

// bots
/** A sender's lifecycle, as the seed names it; `INACTIVE` is where a deleted bot with history goes. */
export const botStatuses = ['PENDING', 'VERIFYING', 'ACTIVE', 'FAILED', 'INACTIVE'] as const;
/** Most bytes of a session's state, as compact JSON. */
export const BOT_SESSION_MAX_STATE_BYTES = 64 * 1024;
/** Longest TTL a session may ask for: a year. */
export const BOT_SESSION_MAX_TTL_SECONDS = 365 * 24 * 60 * 60;
/** Deepest nesting a session's state may have. */
export const BOT_SESSION_MAX_DEPTH = 64;

// fields
/** Deepest nesting free-form JSON in a request (ingest `metadata`) may have. */
export const MAX_JSON_DEPTH = 64;

// dashboard
export const conversationStatuses = ['active', 'closed'] as const;
export const escalationStatuses = ['open', 'resolved'] as const;
export const timelineEntryTypes = [
  'customer.first_seen',
  'conversation.started',
  'conversation.closed',
  'order.created',
  'order.status',
  'escalation.opened',
  'escalation.resolved',
] as const;
export const PROFILE_LIST_LIMIT = 50;
export const TIMELINE_LIMIT = 100;

// ingest
export const channels = ['whatsapp', 'telegram', 'web'] as const;
export const orderStatuses = [
  'created',
  'confirmed',
  'cooking',
  'delivering',
  'delivered',
  'cancelled',
] as const;
export const MAX_BATCH_EVENTS = 1000;

// overview
/** Longest range one overview answers, in days. */
export const OVERVIEW_MAX_DAYS = 366;

// realtime
/** What the change feed carries; `data` is the same object the REST API answers. */
export const feedEventTypes = [
  'message.created',
  /** A sent message's delivery status moved (queued → sent → delivered → read, or failed). */
  'message.updated',
  'conversation.updated',
  'customer.updated',
  'order.created',
  'order.updated',
  'escalation.created',
  'escalation.resolved',
  'bot.updated',
  'bot.deleted',
  'table.synced',
] as const;
/** Close codes of the realtime socket besides the standard ones. */
export const realtimeCloseCodes = {
  /** The client did not read fast enough; reconnect with `since` = the last seq received. */
  tooSlow: 4001,
  /** The server is shutting down; reconnect (to another process) with `since`. */
  goingAway: 1001,
} as const;

// rowsync
export const MAX_FULL_SYNC_BATCH = 5_000;
/** The types a tenant's view gives pushed columns; anything mixed widens to text (or jsonb). */
export const syncedColumnTypes = ['text', 'numeric', 'boolean', 'timestamptz', 'jsonb'] as const;
export const webhookLogResults = ['applied', 'ignored', 'duplicate', 'staged', 'rejected', 'failed'] as const;
export const filterOps = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'contains', 'isnull', 'notnull'] as const;

// errors
/**
 * Every `error.code` a Syncdeck route answers with. The server maps each to its HTTP status in
 * one place; clients (the SDK, the dashboard) branch on these rather than on message text.
 */
export const errorCodes = [
  'validation_failed',
  'bad_request',
  'invalid_json',
  'bad_data',
  'chart_invalid',
  'unmapped_table',
  'unauthorized',
  'invalid_credentials',
  'forbidden',
  'not_found',
  'route_not_found',
  'conflict',
  'session_exists',
  'version_conflict',
  'body_too_large',
  'state_too_large',
  'unsupported_media_type',
  'upgrade_required',
  'too_many_attempts',
  'internal_error',
] as const;
