import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.ts';
import { claimDataDir, releaseDataDir, updateClaim } from './control/index.ts';
import type { Config } from './config.ts';
import { type Db, migrate, openDatabase } from './db/index.ts';
import { analyzeChangedTables, autovacuumRuns } from './db/statistics.ts';
import { initialise, isInitialised } from './installation/index.ts';
import { createLogger } from './logger.ts';
import { pruneExpired } from './retention.ts';

export interface RunningServer {
  app: FastifyInstance;
  db: Db;
  url: string;
  /** Stops accepting, lets in-flight requests finish, closes the database. */
  stop(): Promise<void>;
}

/** Starts Syncdeck: claims the data directory (PGlite), migrates, initialises on first start, listens. */
export async function startServer(
  config: Config,
  output: (text: string) => void = (text) => process.stdout.write(text),
  logger: Logger = createLogger(config),
): Promise<RunningServer> {
  const embedded = !config.databaseUrl;
  const controlToken = embedded ? randomBytes(32).toString('base64url') : null;
  if (embedded) await claimDataDir(config.dataDir, { role: 'server', port: null, host: null, token: null });
  let db: Db | undefined;
  try {
    db = await openDatabase(config);
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ migrations: applied }, 'applied migrations');
    if (!(await isInitialised(db))) {
      const result = await initialise(db);
      if (result.created) {
        output(
          [
            '',
            'Syncdeck is set up. Keep these; they are shown only this once:',
            `  Admin login:   ${result.email}`,
            `  Password:      ${result.password}`,
            `  Admin API key: ${result.apiKey.token}`,
            '',
          ].join('\n'),
        );
      }
    }
    const app = await buildApp({ config, db, logger, controlToken });
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    if (embedded)
      await updateClaim(config.dataDir, { role: 'server', port, host: config.host, token: controlToken });
    const url = config.port === 0 ? config.publicUrl.replace(/:0$/, `:${port}`) : config.publicUrl;
    output(`Syncdeck is running: dashboard ${url}/  API docs ${url}/api/docs  (${db.kind})\n`);
    const openDb = db;
    // Every process prunes; the deletes are idempotent, so several servers need no coordination.
    const prune = () =>
      pruneExpired(openDb, config.retentionDays).then(
        (pruned) =>
          logger.info(pruned, 'pruned expired event ids, feed entries, bot sessions and row-sync logs'),
        (error: unknown) => logger.warn({ err: error }, 'pruning failed; will retry'),
      );
    const pruning = setInterval(prune, 60 * 60 * 1000);
    pruning.unref();
    void prune();
    // Where no autovacuum runs (PGlite always), plans would keep the statistics of empty tables.
    let analyzing: NodeJS.Timeout | undefined;
    if (!(await autovacuumRuns(openDb))) {
      const analyze = () =>
        analyzeChangedTables(openDb).then(
          (tables) => tables.length > 0 && logger.debug({ tables }, 'analysed changed tables'),
          (error: unknown) => logger.warn({ err: error }, 'analysing tables failed; will retry'),
        );
      analyzing = setInterval(analyze, config.statisticsIntervalMs);
      analyzing.unref();
    }
    return {
      app,
      db: openDb,
      url,
      async stop() {
        clearInterval(pruning);
        clearInterval(analyzing);
        await app.close();
        await openDb.close();
        if (embedded) await releaseDataDir(config.dataDir);
      },
    };
  } catch (error) {
    await db?.close().catch(() => {});
    if (embedded) await releaseDataDir(config.dataDir);
    throw error;
  }
}

/**
 * SIGTERM/SIGINT: stop accepting, finish in-flight requests, close the database, exit 0.
 * Installed before start-up begins, so a signal that arrives while the server is still
 * starting waits for it and then stops it cleanly.
 */
export function stopOnSignals(starting: Promise<RunningServer>, timeoutMs: number, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const forced = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, timeoutMs);
    forced.unref();
    starting
      .then((server) => server.stop())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
