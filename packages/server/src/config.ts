import path from 'node:path';
import { z } from 'zod';

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  PUBLIC_URL: z.string().url().optional(),
  CORS_ORIGINS: z
    .string()
    .transform((value, ctx) => {
      const origins = value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean);
      for (const origin of origins) {
        if (!isExactOrigin(origin)) {
          ctx.addIssue({
            code: 'custom',
            message: `"${origin}" is not an origin like https://app.example.com`,
          });
        }
      }
      return origins;
    })
    .default([]),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  SESSION_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 365)
    .default(24 * 7),
  COOKIE_SECURE: booleanFromEnv.default(false),
  VALIDATE_RESPONSES: booleanFromEnv.default(false),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(10),
  LOGIN_WINDOW_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  PHONE_DEFAULT_REGION: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be a two-letter country code, e.g. SA')
    .default('SA'),
  RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
  STATISTICS_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(10),
  INGEST_MAX_BATCH: z.coerce.number().int().min(1).max(10_000).default(500),
  INGEST_CONCURRENT_TRANSACTIONS: z.coerce.number().int().min(1).max(64).optional(),
  ROWSYNC_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(32 * 1024 * 1024),
  // Seed 004's shared secret: makes it a secret of the row-sync source `optiqo` on start.
  OPTIQO_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').max(512).optional(),
  // Providers are called at these bases: their real APIs by default, loopback stand-ins in tests.
  TWILIO_API_BASE_URL: z.string().url().default('https://api.twilio.com'),
  TELEGRAM_API_BASE_URL: z.string().url().default('https://api.telegram.org'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  REALTIME_HEARTBEAT_MS: z.coerce.number().int().min(100).max(600_000).default(25_000),
  REALTIME_MAX_BUFFERED_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(4 * 1024 * 1024),
  REALTIME_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(2_000),
  SECRET_KEY: z
    .string()
    .transform((value, ctx) => {
      const key = decodeSecretKey(value);
      if (!key) ctx.addIssue({ code: 'custom', message: 'must be 32 bytes, as 64 hex digits or base64' });
      return key ?? z.NEVER;
    })
    .optional(),
});

/**
 * An origin exactly as a browser sends it: scheme, host and port only (no path, no trailing slash,
 * no wildcard). Origins are compared as strings, so anything else would simply never match.
 */
function isExactOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === text;
  } catch {
    return false;
  }
}

/** 32 bytes written as 64 hex digits or as base64/base64url; null when it is neither. */
export function decodeSecretKey(text: string): Buffer | null {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const key = Buffer.from(value, 'base64');
    if (key.length === 32) return key;
  }
  return null;
}

export type Env = z.input<typeof envSchema>;

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** A PostgreSQL server; when absent, PGlite keeps the database in `dataDir`. */
  databaseUrl: string | undefined;
  publicUrl: string;
  /**
   * Other origins (a dashboard served elsewhere) allowed to call the API with CORS, and to open
   * the realtime socket with the session cookie. Empty: none.
   */
  corsOrigins: string[];
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  bodyLimitBytes: number;
  /** The row-sync webhook's own limit: a full-sync batch of 500 wide rows is far above BODY_LIMIT_BYTES. */
  rowSyncBodyLimitBytes: number;
  /**
   * A secret of the row-sync source `optiqo` (seed 004's `OPTIQO_WEBHOOK_SECRET`): on start the
   * source is created with it, or it is added to the source's secrets (rowsync/configured-source.ts).
   */
  optiqoWebhookSecret: string | undefined;
  sessionTtlHours: number;
  cookieSecure: boolean;
  /**
   * Checks every response against its route's zod schema before writing it, so a value the code
   * fills wrongly is a 500, not a coerced one. The tests run with it on; it costs a fifth of the
   * server's CPU on large responses, so it is off by default.
   */
  validateResponses: boolean;
  loginMaxFailures: number;
  loginWindowMinutes: number;
  dbPoolSize: number;
  shutdownTimeoutMs: number;
  /** Region assumed for phone numbers written without a country code. */
  phoneDefaultRegion: string;
  /** How long event ids (retry safety) and the change feed are kept. */
  retentionDays: number;
  /** Where no autovacuum runs, how often tables that changed enough are analysed (db/statistics.ts). */
  statisticsIntervalMs: number;
  /** Most events the group-commit writer puts in one transaction. */
  ingestMaxBatch: number;
  /** Group-commit transactions that may run at once, each over tenants the others do not hold. */
  ingestConcurrentTransactions: number;
  realtime: {
    /** How often sockets are pinged; one that missed the last ping is closed. */
    heartbeatMs: number;
    /** A client whose unsent backlog exceeds this is closed (code 4001) and resumes by seq. */
    maxBufferedBytes: number;
    /** How often the feed is read even without a notification: the bound on a lost NOTIFY. */
    pollMs: number;
  };
  /** Where the channel providers' APIs are (channels/): a stand-in's address in tests and the demo. */
  providers: {
    twilioApiBaseUrl: string;
    telegramApiBaseUrl: string;
  };
  /**
   * Master key for secrets kept at rest (channel auth tokens). Unset: a key generated once
   * and kept in `dataDir` (see lib/secret-box.ts).
   */
  secretKey: Buffer | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment once, at boot. The only place that reads `process.env`. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const shownHost = e.HOST === '0.0.0.0' || e.HOST === '::' ? 'localhost' : e.HOST;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    publicUrl: (e.PUBLIC_URL ?? `http://${shownHost}:${e.PORT}`).replace(/\/$/, ''),
    corsOrigins: e.CORS_ORIGINS,
    logLevel: e.LOG_LEVEL,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    rowSyncBodyLimitBytes: e.ROWSYNC_BODY_LIMIT_BYTES,
    optiqoWebhookSecret: e.OPTIQO_WEBHOOK_SECRET,
    sessionTtlHours: e.SESSION_TTL_HOURS,
    cookieSecure: e.COOKIE_SECURE,
    validateResponses: e.VALIDATE_RESPONSES,
    loginMaxFailures: e.LOGIN_MAX_FAILURES,
    loginWindowMinutes: e.LOGIN_WINDOW_MINUTES,
    dbPoolSize: e.DB_POOL_SIZE,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    phoneDefaultRegion: e.PHONE_DEFAULT_REGION,
    ingestMaxBatch: e.INGEST_MAX_BATCH,
    // PGlite is one session and runs transactions one after another: four at once there would only
    // split the waiting events into smaller transactions, each paying for its own statements.
    ingestConcurrentTransactions: e.INGEST_CONCURRENT_TRANSACTIONS ?? (e.DATABASE_URL ? 4 : 1),
    retentionDays: e.RETENTION_DAYS,
    statisticsIntervalMs: e.STATISTICS_INTERVAL_SECONDS * 1000,
    realtime: {
      heartbeatMs: e.REALTIME_HEARTBEAT_MS,
      maxBufferedBytes: e.REALTIME_MAX_BUFFERED_BYTES,
      pollMs: e.REALTIME_POLL_MS,
    },
    // Without a trailing slash, so paths join the same whichever way the base was written.
    providers: {
      twilioApiBaseUrl: e.TWILIO_API_BASE_URL.replace(/\/+$/, ''),
      telegramApiBaseUrl: e.TELEGRAM_API_BASE_URL.replace(/\/+$/, ''),
    },
    secretKey: e.SECRET_KEY,
  };
}

const testEnvSchema = z.object({
  SYNCDECK_TEST_DB: z.enum(['pglite', 'postgres']).default('pglite'),
  TEST_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .default('postgres://postgres@127.0.0.1:5432/postgres'),
});

export interface TestSettings {
  /** Which engine this test run uses; vitest's projects run the suite once on each. */
  db: 'pglite' | 'postgres';
  /** A PostgreSQL database the suite may create and drop its own databases from. */
  adminUrl: string;
}

/** The test suite's own settings, parsed like the server's. */
export function loadTestSettings(env: Record<string, string | undefined> = process.env): TestSettings {
  const parsed = testEnvSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(`Invalid test configuration: ${parsed.error.message}`);
  return { db: parsed.data.SYNCDECK_TEST_DB, adminUrl: parsed.data.TEST_DATABASE_URL };
}
