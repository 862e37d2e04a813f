/**
 * `@syncdeck/server`: the Syncdeck server as a library, for embedding it or driving it from
 * scripts (the `syncdeck` command uses the same pieces).
 *
 * @example
 * ```ts
 * import { loadConfig, startServer } from '@syncdeck/server';
 *
 * const running = await startServer(loadConfig());
 * ```
 */
export { type AppOptions, buildApp } from './app.ts';
export { type Config, ConfigError, loadConfig } from './config.ts';
export { type Db, MigrationError, migrate, openDatabase, type Queryable } from './db/index.ts';
export { type RunningServer, startServer, stopOnSignals } from './server.ts';
