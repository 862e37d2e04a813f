import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.ts';
import type { Db } from '../db/index.ts';
import { AppError } from '../lib/errors.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import { secretFingerprint } from './admin.ts';
import {
  addSourceSecret,
  findSourceByName,
  freeDefaultMapping,
  insertSource,
  secretContext,
} from './sources.ts';

export type ConfiguredSourceOutcome = 'created' | 'added' | 'unchanged' | 'full';

/**
 * Makes a secret given by the environment one of the source's accepted secrets, creating the
 * source (with the default mapping) if there is none. Idempotent, so it runs on every start, and
 * under a lock, so servers starting together agree. It only ever adds: secrets added or removed
 * through the CLI or the API are left as they are, but a removed secret the environment still
 * gives comes back on the next start. A source with two secrets already gets no third (`full`):
 * the caller says so, and the environment's secret is refused until one is removed.
 */
export async function ensureConfiguredSource(
  db: Db,
  box: SecretBox,
  name: string,
  secret: string,
): Promise<ConfiguredSourceOutcome> {
  const fingerprint = secretFingerprint(secret);
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`rowsync-configured-source:${name}`]);
    const source = await findSourceByName(tx, name);
    const sealed = { fingerprint, sealed: box.seal(secret, secretContext(name)) };
    if (!source) {
      await insertSource(tx, { name, schema: name, secret: sealed, tables: await freeDefaultMapping(tx) });
      return 'created';
    }
    if (source.secrets.some((s) => s.fingerprint === fingerprint)) return 'unchanged';
    if (source.secrets.length >= 2) return 'full';
    await addSourceSecret(tx, source.id, sealed);
    return 'added';
  });
}

/** On start: the sources whose secret the environment gives (`OPTIQO_WEBHOOK_SECRET`). */
export async function ensureConfiguredSources(
  db: Db,
  box: SecretBox,
  config: Pick<Config, 'optiqoWebhookSecret'>,
  log: FastifyBaseLogger,
): Promise<void> {
  const configured = [
    { name: 'optiqo', secret: config.optiqoWebhookSecret, variable: 'OPTIQO_WEBHOOK_SECRET' },
  ];
  for (const { name, secret, variable } of configured) {
    if (!secret) continue;
    try {
      const outcome = await ensureConfiguredSource(db, box, name, secret);
      if (outcome === 'full')
        log.error(
          { source: name },
          `row sync: ${variable} is not a secret of source "${name}", which has two already; its pushes ` +
            `signed with it are refused until one is removed (syncdeck source secret ${name} --remove …)`,
        );
      else if (outcome !== 'unchanged')
        log.info({ source: name, outcome }, `row sync: ${variable} is a secret of source "${name}"`);
    } catch (error) {
      // A schema another source holds, say: the server still starts; the log says why pushes fail.
      if (!(error instanceof AppError)) throw error;
      log.error({ source: name, err: error }, `row sync: could not set up source "${name}" from ${variable}`);
    }
  }
}
