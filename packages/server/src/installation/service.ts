import { type CreatedApiKey, scopes } from '@syncdeck/core';
import { advisoryLocks, type Db } from '../db/index.ts';
import { createApiKey } from '../keys/index.ts';
import { ensureUser } from '../users/index.ts';

export const DEFAULT_ADMIN_EMAIL = 'admin@syncdeck.local';

export type InitialiseResult =
  | { created: true; email: string; password: string | null; apiKey: CreatedApiKey }
  | { created: false; email: string | null };

/**
 * Creates the platform admin and an admin API key, once per database. Runs under an advisory
 * lock so several processes starting together create one admin between them.
 */
export async function initialise(
  db: Db,
  input: { email?: string | undefined; password?: string | undefined } = {},
): Promise<InitialiseResult> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [advisoryLocks.initialise]);
    const existing = await tx.query<{ email: string | null }>(
      'SELECT u.email FROM installation i LEFT JOIN users u ON u.id = i.admin_user_id WHERE i.id = 1',
    );
    if (existing.rows[0]) return { created: false, email: existing.rows[0].email };
    const email = input.email ?? DEFAULT_ADMIN_EMAIL;
    const ensured = await ensureUser(tx, { email, password: input.password, platformAdmin: true });
    await tx.query('UPDATE users SET platform_admin = true WHERE id = $1', [ensured.user.id]);
    const apiKey = await createApiKey(tx, {
      tenantId: null,
      name: 'Platform admin key',
      scopes: [...scopes],
    });
    await tx.query('INSERT INTO installation (id, admin_user_id) VALUES (1, $1)', [ensured.user.id]);
    return { created: true, email, password: ensured.generatedPassword ?? null, apiKey };
  });
}

export async function isInitialised(db: Db): Promise<boolean> {
  const result = await db.query('SELECT 1 FROM installation WHERE id = 1');
  return result.rowCount > 0;
}
