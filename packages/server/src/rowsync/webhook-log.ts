import type { WebhookLog } from '@syncdeck/core';
import { z } from 'zod';
import type { Queryable } from '../db/index.ts';
import { decodeCursor, type Page, sqlMicros, toPage } from '../lib/pagination.ts';
import { iso } from '../lib/time.ts';

export interface WebhookLogEntry {
  sourceName: string;
  sourceId: string | null;
  tenantId: string | null;
  externalTenantId: string | null;
  type: string | null;
  table: string | null;
  syncId: string | null;
  rows: number;
  result: WebhookLog['result'];
  status: number;
  durationMs: number;
  error: string | null;
  deliveryKey: string | null;
}

export function insertWebhookLog(q: Queryable, entry: WebhookLogEntry): Promise<void> {
  return insertWebhookLogs(q, [entry]);
}

const LONE_SURROGATES = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text as a log line can hold it: bounded, and what PostgreSQL cannot store (core's rule) shown
 * as U+FFFD. A refused attempt is logged too, and its error may quote what was refused.
 */
function loggable(text: string | null | undefined, max: number): string | null {
  if (text === null || text === undefined) return null;
  // Cut first, then cleaned: a cut through a pair leaves a lone half, which is cleaned too.
  return text.slice(0, max).replaceAll('\u0000', '\uFFFD').replace(LONE_SURROGATES, '\uFFFD');
}

/** Several log lines in one statement. */
export async function insertWebhookLogs(q: Queryable, entries: WebhookLogEntry[]): Promise<void> {
  const rows = entries.map((entry) => ({
    source_name: loggable(entry.sourceName, 100),
    source_id: entry.sourceId,
    tenant_id: entry.tenantId,
    external_tenant_id: loggable(entry.externalTenantId, 100),
    event_type: loggable(entry.type, 40),
    table_name: loggable(entry.table, 100),
    sync_id: loggable(entry.syncId, 200),
    rows: entry.rows,
    result: entry.result,
    status: entry.status,
    duration_ms: entry.durationMs,
    error: loggable(entry.error, 1000),
    webhook_id: loggable(entry.deliveryKey, 200),
  }));
  await q.query(
    `INSERT INTO webhook_logs (source_name, source_id, tenant_id, external_tenant_id, event_type, table_name,
       sync_id, rows, result, status, duration_ms, error, webhook_id)
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(source_name text, source_id uuid, tenant_id uuid,
       external_tenant_id text, event_type text, table_name text, sync_id text, rows int, result text,
       status int, duration_ms float8, error text, webhook_id text)`,
    [JSON.stringify(rows)],
  );
}

interface WebhookLogRow {
  id: string;
  source_name: string;
  tenant_id: string | null;
  tenant_slug: string | null;
  external_tenant_id: string | null;
  event_type: string | null;
  table_name: string | null;
  sync_id: string | null;
  rows: number;
  result: WebhookLog['result'];
  status: number;
  duration_ms: number;
  error: string | null;
  created_at: Date;
  micros: number;
}

function toWebhookLog(row: WebhookLogRow): WebhookLog {
  return {
    id: row.id,
    source: row.source_name,
    tenantId: row.tenant_id,
    tenantSlug: row.tenant_slug,
    externalTenantId: row.external_tenant_id,
    type: row.event_type,
    table: row.table_name,
    syncId: row.sync_id,
    rows: row.rows,
    result: row.result,
    status: row.status,
    durationMs: Math.round(row.duration_ms * 1000) / 1000,
    error: row.error,
    createdAt: iso(row.created_at),
  };
}

// The tenant's slug as it is now: a line says where its push landed, in the name people use.
const LOG_SELECT = `SELECT w.id, w.source_name, w.tenant_id, t.slug AS tenant_slug, w.external_tenant_id,
    w.event_type, w.table_name, w.sync_id, w.rows, w.result, w.status, w.duration_ms, w.error, w.created_at,
    ${sqlMicros('w.created_at')} AS micros
  FROM webhook_logs w LEFT JOIN tenants t ON t.id = w.tenant_id`;

const logCursor = z.tuple([z.number().int(), z.string().uuid()]);

/** One attempt; `tenantId` null finds any (a platform admin's view), else only that tenant's. */
export async function findWebhookLog(
  q: Queryable,
  id: string,
  tenantId: string | null,
): Promise<WebhookLog | null> {
  const result = await q.query<WebhookLogRow>(
    `${LOG_SELECT} WHERE w.id = $1 AND ($2::uuid IS NULL OR w.tenant_id = $2)`,
    [id, tenantId],
  );
  return result.rows[0] ? toWebhookLog(result.rows[0]) : null;
}

/** Newest first. `tenantId` null: every tenant's (and tenantless) attempts, for a platform admin. */
export async function listWebhookLogs(
  q: Queryable,
  filter: {
    tenantId: string | null;
    source?: string | undefined;
    result?: string | undefined;
    table?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  },
): Promise<Page<WebhookLog>> {
  const after = filter.cursor ? decodeCursor(filter.cursor, logCursor) : null;
  const result = await q.query<WebhookLogRow>(
    `${LOG_SELECT}
     WHERE ($1::uuid IS NULL OR w.tenant_id = $1)
       AND ($2::text IS NULL OR w.source_name = $2)
       AND ($3::text IS NULL OR w.result = $3)
       AND ($4::text IS NULL OR w.table_name = $4)
       AND ($5::bigint IS NULL OR (w.created_at, w.id) < (to_timestamp(0) + $5::bigint * interval '1 microsecond', $6::uuid))
     ORDER BY w.created_at DESC, w.id DESC LIMIT $7`,
    [
      filter.tenantId,
      filter.source ?? null,
      filter.result ?? null,
      filter.table ?? null,
      after?.[0] ?? null,
      after?.[1] ?? null,
      filter.limit + 1,
    ],
  );
  return toPage(result.rows, filter.limit, toWebhookLog, (row) => [row.micros, row.id]);
}
