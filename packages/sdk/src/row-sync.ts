import { createHmac, randomUUID } from 'node:crypto';
import { bindMethods } from './bind.ts';
import { SyncdeckError } from './errors.ts';
import {
  backoffMs,
  defaultFetch,
  type FetchLike,
  errorMessage,
  joinPath,
  parseUrl,
  request,
  retryAfterMs,
  retryableStatus,
  sleep,
  USER_AGENT,
} from './http.ts';

/**
 * A row, as the source platform has it.
 *
 * @example
 * ```ts
 * const row: Row = { id: 'wo-1', title: 'Fix the door', updated_at: new Date().toISOString() };
 * ```
 */
export type Row = Record<string, unknown>;

/**
 * One change of one row (DESIGN.md, "Row sync").
 *
 * @example
 * ```ts
 * await rows.send({ type: 'UPDATE', table: 'sites', tenant_id: t, record: site, old_record: before });
 * ```
 */
export interface RowChange {
  type: 'INSERT' | 'UPDATE' | 'DELETE';
  /** The source's table name, e.g. `adhoc_work_orders`. */
  table: string;
  tenant_id: string;
  /** The row after the change; null for DELETE. */
  record: Row | null;
  /** The row before the change (UPDATE, DELETE); null for INSERT. */
  old_record: Row | null;
}

/**
 * One batch of a full sync (DESIGN.md, "Row sync"), as {@link RowSyncSender.fullSync} sends it.
 *
 * @example
 * ```ts
 * const batch: FullSyncBatch = {
 *   type: 'FULL_SYNC', table: 'sites', tenant_id: t, sync_id: 'run-1',
 *   offset: 0, records: [], total: 0, is_last: true,
 * };
 * ```
 */
export interface FullSyncBatch {
  type: 'FULL_SYNC';
  table: string;
  tenant_id: string;
  /** The same for every batch of one run. */
  sync_id: string;
  /** Index of this batch's first row in the run. */
  offset: number;
  records: Row[];
  total: number;
  is_last: boolean;
}

/**
 * Options of the {@link RowSyncSender}; the defaults of the optional ones are in
 * {@link DEFAULT_ROW_SYNC_SENDER_OPTIONS}.
 *
 * @example
 * ```ts
 * const options: RowSyncSenderOptions = { url: 'https://hub.example.com', source: 'optiqo', secret };
 * ```
 */
export interface RowSyncSenderOptions {
  /** The Syncdeck server (`https://hub.example.com`); with `source`, posts to `/api/webhooks/:source`. Without `source`, the full webhook URL. */
  url: string;
  /** The source's shared secret: every body is signed with it. */
  secret: string;
  /** The source's name in Syncdeck, e.g. `optiqo`. */
  source?: string;
  /** Per request. Default 10,000 ms. */
  timeoutMs?: number;
  /** Attempts per request on network errors, timeouts, 5xx and 429. Default 5. */
  maxAttempts?: number;
  /** Replaces the global `fetch`. */
  fetch?: FetchLike;
}

/**
 * The defaults of the {@link RowSyncSender}'s options: 10 s per request, 5 attempts.
 *
 * @example
 * ```ts
 * DEFAULT_ROW_SYNC_SENDER_OPTIONS.timeoutMs; // 10000
 * ```
 */
export const DEFAULT_ROW_SYNC_SENDER_OPTIONS: Readonly<
  Required<Pick<RowSyncSenderOptions, 'timeoutMs' | 'maxAttempts'>>
> = Object.freeze({ timeoutMs: 10_000, maxAttempts: 5 });

/**
 * Options of {@link RowSyncSender.fullSync}.
 *
 * @example
 * ```ts
 * const options: FullSyncOptions = { batchSize: 200, concurrency: 2, syncId: 'nightly-2024-06-01' };
 * ```
 */
export interface FullSyncOptions {
  /** Rows per batch. Default 500. */
  batchSize?: number;
  /** The run's id. Default: a new UUID. */
  syncId?: string;
  /** Batches in flight at once. Default 4. */
  concurrency?: number;
}

/**
 * What the server answered to a request.
 *
 * @example
 * ```ts
 * const { status, body } = await rows.insert('sites', t, site);
 * ```
 */
export interface RowSyncAnswer {
  status: number;
  body: unknown;
}

/**
 * The `x-webhook-signature` of a body: hex HMAC-SHA256 of exactly these bytes, keyed with the
 * secret's bytes as written — a `whsec_` secret too, as the server reads this header (only
 * Standard Webhooks signatures base64-decode a `whsec_` secret).
 *
 * @example
 * ```ts
 * const body = JSON.stringify(change);
 * await fetch(url, { method: 'POST', body, headers: { 'x-webhook-signature': signBody(body, secret) } });
 * ```
 */
export function signBody(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('hex');
}

/**
 * The sender a source platform uses to push its rows to Syncdeck's row-sync webhook
 * (`POST /api/webhooks/:source`): each body is signed (`x-webhook-signature`, hex HMAC-SHA256 of
 * the raw body). Requests that fail with a network error, timeout, 5xx or 429 are retried with
 * backoff (honouring `Retry-After`); a 4xx throws {@link SyncdeckError} `rejected` at once. The
 * constructor throws `invalid_config` without a usable url or secret. Methods are bound.
 *
 * @example
 * ```ts
 * const rows = new RowSyncSender({ url: 'https://hub.example.com', source: 'optiqo', secret });
 *
 * await rows.insert('adhoc_work_orders', tenantId, { id: 'wo-1', title: 'Fix the door' });
 * await rows.update('adhoc_work_orders', tenantId, { id: 'wo-1', title: 'Fixed' });
 * await rows.delete('adhoc_work_orders', tenantId, { id: 'wo-1' });
 *
 * // Initial import: batches of 500 with one sync_id, offsets, total and is_last.
 * await rows.fullSync('zone_categories', tenantId, allZones, { batchSize: 500 });
 * ```
 */
export class RowSyncSender {
  private readonly endpoint: string;
  private readonly secret: string;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly fetch: FetchLike;

  constructor(options: RowSyncSenderOptions) {
    const base = parseUrl(options.url, 'url');
    if (!options.secret) throw new SyncdeckError('invalid_config', 'secret is missing');
    this.endpoint = options.source
      ? joinPath(base, `/api/webhooks/${encodeURIComponent(options.source)}`)
      : base.toString();
    this.secret = options.secret;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_ROW_SYNC_SENDER_OPTIONS.timeoutMs;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_ROW_SYNC_SENDER_OPTIONS.maxAttempts);
    this.fetch = options.fetch ?? defaultFetch;
    bindMethods(this, ['send', 'insert', 'update', 'delete', 'fullSync']);
  }

  /**
   * Sends one change, signed; retried on network errors, timeouts, 5xx and 429.
   *
   * @example
   * ```ts
   * await rows.send({ type: 'UPDATE', table: 'sites', tenant_id: t, record: site, old_record: before });
   * ```
   */
  send(change: RowChange): Promise<RowSyncAnswer> {
    return this.post(change);
  }

  /**
   * Sends an `INSERT`.
   *
   * @example
   * ```ts
   * await rows.insert('sites', tenantId, { id: 'site-9', name: 'Riyadh North' });
   * ```
   */
  insert(table: string, tenantId: string, record: Row): Promise<RowSyncAnswer> {
    return this.post({ type: 'INSERT', table, tenant_id: tenantId, record, old_record: null });
  }

  /**
   * Sends an `UPDATE`; `oldRecord` (default null) is the row before it.
   *
   * @example
   * ```ts
   * await rows.update('sites', tenantId, { id: 'site-9', name: 'Riyadh N.' }, before);
   * ```
   */
  update(table: string, tenantId: string, record: Row, oldRecord: Row | null = null): Promise<RowSyncAnswer> {
    return this.post({ type: 'UPDATE', table, tenant_id: tenantId, record, old_record: oldRecord });
  }

  /**
   * Sends a `DELETE` of the row as it was.
   *
   * @example
   * ```ts
   * await rows.delete('sites', tenantId, { id: 'site-9' });
   * ```
   */
  delete(table: string, tenantId: string, oldRecord: Row): Promise<RowSyncAnswer> {
    return this.post({ type: 'DELETE', table, tenant_id: tenantId, record: null, old_record: oldRecord });
  }

  /**
   * Replaces a table's rows of one tenant: batches of `batchSize` (default 500) with one `sync_id`,
   * their `offset`, the `total` and `is_last` on the last one. Up to `concurrency` batches (default
   * 4) are in flight at once — the server stages them by offset, in whatever order they arrive — and
   * the last one goes only after all the others were acknowledged. Zero rows send one empty last
   * batch, which empties the table. A batch that fails after its retries throws (once the batches
   * in flight have been answered); the server keeps the previous rows until a run's last batch
   * commits.
   *
   * @example
   * ```ts
   * const { syncId, batches } = await rows.fullSync('zone_categories', tenantId, allZones, { concurrency: 2 });
   * ```
   */
  async fullSync(
    table: string,
    tenantId: string,
    rows: readonly Row[],
    options: FullSyncOptions = {},
  ): Promise<{ syncId: string; batches: number; total: number }> {
    const batchSize = Math.max(1, options.batchSize ?? 500);
    const concurrency = Math.max(1, options.concurrency ?? 4);
    const syncId = options.syncId ?? randomUUID();
    const total = rows.length;
    const offsets: number[] = [];
    for (let offset = 0; offset === 0 || offset < total; offset += batchSize) offsets.push(offset);
    const send = (offset: number) =>
      this.post({
        type: 'FULL_SYNC',
        table,
        tenant_id: tenantId,
        sync_id: syncId,
        offset,
        records: rows.slice(offset, offset + batchSize),
        total,
        is_last: offset + batchSize >= total,
      });
    // Every batch but the last, `concurrency` at a time; a failure stops new ones from starting.
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (!failed && next < offsets.length - 1) {
        const offset = offsets[next++]!;
        await send(offset).catch((error: unknown) => {
          failed = true;
          throw error;
        });
      }
    };
    const settled = await Promise.allSettled(Array.from({ length: concurrency }, worker));
    const failure = settled.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    await send(offsets.at(-1)!);
    return { syncId, batches: offsets.length, total };
  }

  /** Signs and posts one body, retrying as the class says; a 2xx is answered, anything else thrown. */
  private async post(payload: RowChange | FullSyncBatch): Promise<RowSyncAnswer> {
    const body = JSON.stringify(payload);
    const headers = {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'x-webhook-signature': signBody(body, this.secret),
    };
    for (let attempt = 1; ; attempt++) {
      let wait: number | undefined;
      try {
        const init = { method: 'POST', headers, body };
        const answer = await request(this.fetch, this.endpoint, init, this.timeoutMs);
        if (answer.status >= 200 && answer.status < 300) return { status: answer.status, body: answer.body };
        const code = retryableStatus(answer.status) ? 'server_error' : 'rejected';
        const error = new SyncdeckError(code, `row sync: ${errorMessage(answer)}`, {
          status: answer.status,
          body: answer.body,
        });
        if (code === 'rejected' || attempt >= this.maxAttempts) throw error;
        wait = retryAfterMs(answer.headers.get('retry-after'));
      } catch (error) {
        if (!(error instanceof SyncdeckError) || !error.retryable || attempt >= this.maxAttempts) throw error;
      }
      await sleep(Math.min(60_000, wait ?? backoffMs(attempt, 500, 30_000)));
    }
  }
}

/**
 * Creates a {@link RowSyncSender}: the same as `new RowSyncSender(options)`, kept for the
 * platforms that already call it. Throws `invalid_config` without a usable url or secret.
 *
 * @example
 * ```ts
 * const rows = createRowSyncSender({ url: 'https://hub.example.com', source: 'optiqo', secret });
 * await rows.insert('adhoc_work_orders', tenantId, { id: 'wo-1', title: 'Fix the door' });
 * ```
 */
export function createRowSyncSender(options: RowSyncSenderOptions): RowSyncSender {
  return new RowSyncSender(options);
}
