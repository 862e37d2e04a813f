/**
 * `@syncdeck/server/testing`: what the other packages' tests and the benchmarks use to run
 * Syncdeck for real — test databases on both engines, server processes, event builders — and
 * the few internals they measure or sign with.
 */
export { conversationStats } from '../conversations/index.ts';
export { type Db, openPglite, openPostgres, type Queryable } from '../db/index.ts';
export { signSeed } from '../rowsync/index.ts';
export {
  allScopes,
  bearer,
  createTestApp,
  createTestDatabase,
  deferred,
  spawnedServerPerTest,
  TEST_ADMIN,
  TEST_SECRET_KEY,
  type TestApp,
  type TestDatabase,
  testSettings,
} from './harness.ts';
export { BOT_NUMBER, ingest, message, newPhone, orderCreated, orderStatus } from './ingest.ts';
export {
  adminKeyOf,
  type CliResult,
  credentialsIn,
  runCli,
  type ServerProcess,
  startServerProcess,
  syncdeckBin,
} from './process.ts';
export { rowChange } from './rowsync.ts';
export { FakeTelegram, FakeTwilio, type TelegramFault, type TwilioFault } from './providers/index.ts';
