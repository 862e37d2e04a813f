import type { Queryable } from '../db/index.ts';

/** Operators' login sessions, and the login attempts counted against an account and an address. */
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

type ThrottleScope = 'account' | 'address';

/** One login attempt, counted against its account and address until it is known not to be a failure. */
export interface LoginAttempt {
  email: string;
  ip: string;
  /**
   * Where its counters' windows began, as the database writes the time: a Date would drop the
   * microseconds and never match again. A counter that has started over since is left alone.
   */
  windows: Record<ThrottleScope, string>;
  /** Whether the password may be checked: no counter was past the limit with this attempt in it. */
  allowed: boolean;
  /** When refused, the seconds until the fullest counter's window ends. */
  retryAfterSeconds: number;
}

/**
 * Counts an attempt against the account (`email`) and the address (`ip`) before its password
 * is checked, and says whether it may be. Counting first, in one upsert that takes each
 * counter's row lock, is what bounds concurrent attempts: each sees the ones before it, so at
 * most `limit` of them are checked in a window, however many arrive at once. The address row
 * is always locked before the account row, so two attempts cannot wait on each other.
 */
export async function beginLoginAttempt(
  q: Queryable,
  email: string,
  ip: string,
  limit: number,
  windowMinutes: number,
): Promise<LoginAttempt> {
  const result = await q.query<{
    scope: ThrottleScope;
    attempts: number;
    window_start: string;
    retry_after: number;
  }>(
    `INSERT INTO login_throttle AS t (scope, subject, attempts, window_start)
     VALUES ('address', $1, 1, now()), ('account', $2, 1, now())
     ON CONFLICT (scope, subject) DO UPDATE SET
       attempts = CASE WHEN t.window_start <= now() - make_interval(mins => $3) THEN 1
                       ELSE t.attempts + 1 END,
       window_start = CASE WHEN t.window_start <= now() - make_interval(mins => $3) THEN now()
                           ELSE t.window_start END
     RETURNING t.scope, t.attempts, t.window_start::text AS window_start,
       ceil(extract(epoch FROM t.window_start + make_interval(mins => $3) - now()))::int AS retry_after`,
    [ip, email, windowMinutes],
  );
  const windows = {} as Record<ThrottleScope, string>;
  let allowed = true;
  let retryAfterSeconds = 0;
  for (const row of result.rows) {
    windows[row.scope] = row.window_start;
    if (row.attempts > limit) {
      allowed = false;
      retryAfterSeconds = Math.max(retryAfterSeconds, row.retry_after, 1);
    }
  }
  return { email, ip, windows, allowed, retryAfterSeconds };
}

/** Takes an attempt back off a counter, unless the counter has started a new window since. */
async function uncount(q: Queryable, attempt: LoginAttempt, scope: ThrottleScope): Promise<void> {
  await q.query(
    `UPDATE login_throttle SET attempts = attempts - 1
     WHERE scope = $1 AND subject = $2 AND window_start = $3::timestamptz AND attempts > 0`,
    [scope, scope === 'account' ? attempt.email : attempt.ip, attempt.windows[scope]],
  );
}

/**
 * A refused attempt is not a failure: neither counter keeps it, so someone retrying a locked
 * account from a shared address does not lock the address for everyone behind it.
 */
export async function refuseLoginAttempt(q: Queryable, attempt: LoginAttempt): Promise<void> {
  // One row per statement, address first, in the order beginLoginAttempt locks them.
  await uncount(q, attempt, 'address');
  await uncount(q, attempt, 'account');
}

/**
 * A successful login starts its account's count over; the address keeps the failures it made
 * against other accounts, so a valid login of one's own does not buy more guesses at others'.
 */
export async function succeedLoginAttempt(q: Queryable, attempt: LoginAttempt): Promise<void> {
  await uncount(q, attempt, 'address');
  await q.query(`DELETE FROM login_throttle WHERE scope = 'account' AND subject = $1`, [attempt.email]);
}

/**
 * A failed attempt stays counted; counters whose window has passed are removed meanwhile. Rows
 * an attempt holds are skipped, not waited for: the attempt may be waiting for one this holds.
 */
export async function failLoginAttempt(q: Queryable, windowMinutes: number): Promise<void> {
  await q.query(
    `DELETE FROM login_throttle WHERE (scope, subject) IN (
       SELECT scope, subject FROM login_throttle
       WHERE window_start <= now() - make_interval(mins => $1)
       FOR UPDATE SKIP LOCKED)`,
    [windowMinutes],
  );
}
