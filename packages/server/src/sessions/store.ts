import type { Queryable } from '../db/index.ts';

/** Operators' login sessions, and the failed logins counted against an address. */
export async function insertSession(q: Queryable, userId: string, tokenHash: string, ttlHours: number) {
  const result = await q.query<{ expires_at: Date }>(
    `INSERT INTO sessions (user_id, token_hash, expires_at)
     VALUES ($1, $2, now() + make_interval(hours => $3)) RETURNING expires_at`,
    [userId, tokenHash, ttlHours],
  );
  return result.rows[0]!.expires_at;
}

export async function deleteSession(q: Queryable, sessionId: string): Promise<void> {
  await q.query('DELETE FROM sessions WHERE id = $1 OR expires_at < now()', [sessionId]);
}

export async function findUserForLogin(q: Queryable, email: string) {
  const result = await q.query<{ id: string; password_hash: string }>(
    'SELECT id, password_hash FROM users WHERE email = $1',
    [email],
  );
  return result.rows[0] ?? null;
}

export async function countRecentLoginFailures(
  q: Queryable,
  ip: string,
  windowMinutes: number,
): Promise<number> {
  const result = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM login_failures
     WHERE ip = $1 AND failed_at > now() - make_interval(mins => $2)`,
    [ip, windowMinutes],
  );
  return result.rows[0]?.n ?? 0;
}

export async function recordLoginFailure(q: Queryable, ip: string, windowMinutes: number): Promise<void> {
  await q.query('DELETE FROM login_failures WHERE failed_at < now() - make_interval(mins => $1)', [
    windowMinutes,
  ]);
  await q.query('INSERT INTO login_failures (ip) VALUES ($1)', [ip]);
}

export async function clearLoginFailures(q: Queryable, ip: string): Promise<void> {
  await q.query('DELETE FROM login_failures WHERE ip = $1', [ip]);
}
