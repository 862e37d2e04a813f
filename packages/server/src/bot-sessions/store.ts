import type { BotSession } from '@syncdeck/core';
import type { Queryable } from '../db/index.ts';
import { iso } from '../lib/time.ts';

interface SessionRow {
  bot_id: string;
  customer_key: string;
  state: unknown;
  version: number;
  expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'bot_id, customer_key, state, version, expires_at, created_at, updated_at';
/** A session past its expiry reads as absent; the hourly prune removes it later. */
const live = (alias = '') => `(${alias}expires_at IS NULL OR ${alias}expires_at > now())`;

function toSession(row: SessionRow): BotSession {
  return {
    botId: row.bot_id,
    customerKey: row.customer_key,
    state: row.state,
    version: row.version,
    expiresAt: iso(row.expires_at),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export interface SessionKey {
  tenantId: string;
  botId: string;
  customerKey: string;
}

export async function botExists(q: Queryable, tenantId: string, botId: string): Promise<boolean> {
  const result = await q.query('SELECT 1 FROM bots WHERE tenant_id = $1 AND id = $2', [tenantId, botId]);
  return result.rowCount > 0;
}

export async function readSession(q: Queryable, key: SessionKey): Promise<BotSession | null> {
  const result = await q.query<SessionRow>(
    `SELECT ${COLUMNS} FROM bot_sessions WHERE tenant_id = $1 AND bot_id = $2 AND customer_key = $3 AND ${live()}`,
    [key.tenantId, key.botId, key.customerKey],
  );
  return result.rows[0] ? toSession(result.rows[0]) : null;
}

/** What a write may require of the session it replaces. */
export type Precondition =
  | { kind: 'none' }
  /** `If-None-Match: *`: only when there is no live session. */
  | { kind: 'absent' }
  /** `If-Match: *`: only over a live session. */
  | { kind: 'exists' }
  /** `If-Match: "v1", "v2"`: only over a live session at one of these versions. */
  | { kind: 'version'; versions: number[] };

export type WriteResult = { ok: true; session: BotSession; created: boolean } | { ok: false };

const UPSERT_VALUES = `VALUES ($1, $2, $3, $4::jsonb, nextval('bot_session_versions'),
  CASE WHEN $5::int IS NULL THEN NULL ELSE now() + make_interval(secs => $5::int) END)`;
// An expired session being replaced starts afresh: its creation time is this write's.
const REPLACE = `state = EXCLUDED.state, version = EXCLUDED.version, expires_at = EXCLUDED.expires_at,
  updated_at = now(),
  created_at = CASE WHEN s.expires_at IS NOT NULL AND s.expires_at <= now() THEN now() ELSE s.created_at END`;

/**
 * Writes a session in one statement, under its precondition: the check and the write are
 * one atomic step, so of two writers holding the same version exactly one succeeds.
 * `created`: there was no live session before (its timestamps are both this write's).
 */
export async function writeSession(
  q: Queryable,
  key: SessionKey,
  stateJson: string,
  ttlSeconds: number | null,
  precondition: Precondition,
): Promise<WriteResult> {
  const params: unknown[] = [key.tenantId, key.botId, key.customerKey, stateJson, ttlSeconds];
  let sql: string;
  if (precondition.kind === 'none' || precondition.kind === 'absent') {
    const onlyIfExpired = precondition.kind === 'absent' ? `WHERE NOT ${live('s.')}` : '';
    sql = `INSERT INTO bot_sessions AS s (tenant_id, bot_id, customer_key, state, version, expires_at) ${UPSERT_VALUES}
      ON CONFLICT (tenant_id, bot_id, customer_key) DO UPDATE SET ${REPLACE} ${onlyIfExpired}
      RETURNING ${COLUMNS}`;
  } else {
    const versionCheck =
      precondition.kind === 'version'
        ? `AND s.version = ANY($${params.push(precondition.versions)}::bigint[])`
        : '';
    sql = `UPDATE bot_sessions AS s SET state = $4::jsonb, version = nextval('bot_session_versions'),
        expires_at = CASE WHEN $5::int IS NULL THEN NULL ELSE now() + make_interval(secs => $5::int) END,
        updated_at = now()
      WHERE s.tenant_id = $1 AND s.bot_id = $2 AND s.customer_key = $3
        AND ${live('s.')} ${versionCheck}
      RETURNING ${COLUMNS}`;
  }
  const result = await q.query<SessionRow>(sql, params);
  const row = result.rows[0];
  if (!row) return { ok: false };
  return {
    ok: true,
    session: toSession(row),
    created: row.created_at.getTime() === row.updated_at.getTime(),
  };
}

/** Deletes a live session, at one of `versions` when given. */
export async function deleteSession(
  q: Queryable,
  key: SessionKey,
  versions: number[] | null,
): Promise<boolean> {
  const result = await q.query(
    `DELETE FROM bot_sessions
     WHERE tenant_id = $1 AND bot_id = $2 AND customer_key = $3 AND ${live()}
       AND ($4::bigint[] IS NULL OR version = ANY($4::bigint[]))`,
    [key.tenantId, key.botId, key.customerKey, versions],
  );
  return result.rowCount > 0;
}

/** Removes expired sessions; part of the hourly prune. */
export async function pruneExpiredSessions(q: Queryable): Promise<number> {
  const result = await q.query('DELETE FROM bot_sessions WHERE expires_at <= now()');
  return result.rowCount;
}
