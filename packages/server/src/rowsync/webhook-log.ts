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

/** Several log lines in one statement; every text is cut to a bounded length. */
export async function insertWebhookLogs(q: Queryable, entries: WebhookLogEntry[]): Promise<void> {
  const rows = entries.map((entry) => ({
    source_name: entry.sourceName.slice(0, 100),
    source_id: entry.sourceId,
    tenant_id: entry.tenantId,
    external_tenant_id: entry.externalTenantId?.slice(0, 100) ?? null,
    event_type: entry.type?.slice(0, 40) ?? null,
    table_name: entry.table?.slice(0, 100) ?? null,
    sync_id: entry.syncId?.slice(0, 200) ?? null,
    rows: entry.rows,
    result: entry.result,
    status: entry.status,
    duration_ms: entry.durationMs,
    error: entry.error?.slice(0, 1000) ?? null,
    webhook_id: entry.deliveryKey?.slice(0, 200) ?? null,
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

const LOG_COLUMNS = `id, source_name, tenant_id, external_tenant_id, event_type, table_name, sync_id, rows, result,
  status, duration_ms, error, created_at, ${sqlMicros('created_at')} AS micros`;

const logCursor = z.tuple([z.number().int(), z.string().uuid()]);

/** One attempt; `tenantId` null finds any (a platform admin's view), else only that tenant's. */
export async function findWebhookLog(
  q: Queryable,
  id: string,
  tenantId: string | null,
): Promise<WebhookLog | null> {
  const result = await q.query<WebhookLogRow>(
    `SELECT ${LOG_COLUMNS} FROM webhook_logs WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2)`,
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
    `SELECT ${LOG_COLUMNS}
     FROM webhook_logs
     WHERE ($1::uuid IS NULL OR tenant_id = $1)
       AND ($2::text IS NULL OR source_name = $2)
       AND ($3::text IS NULL OR result = $3)
       AND ($4::text IS NULL OR table_name = $4)
       AND ($5::bigint IS NULL OR (created_at, id) < (to_timestamp(0) + $5::bigint * interval '1 microsecond', $6::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $7`,
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
