import { type FullSyncBatch, type RowChange, type WebhookResult, webhookPayloadSchema } from '@syncdeck/core';
import type { FastifyBaseLogger } from 'fastify';
import type { SecretBox } from '../lib/secret-box.ts';
import type { Db, Queryable } from '../db/index.ts';
import { httpStatusOf } from '../http/errors.ts';
import { AppError, detailsFromZod } from '../lib/errors.ts';
import { addsColumns, type ColumnType, columnsOf, loadColumns } from '../synced/index.ts';
import { type SignatureHeaders, verifySignature } from './signature.ts';
import type { RowChangeWriter } from './writer.ts';
import { trackColumns } from './ddl.ts';
import { applyUnstagedBatch, claimDelivery, stageBatch } from './full-sync-batch.ts';
import { completeRun } from './full-sync-complete.ts';
import { type PushTarget, recordPush } from './push-log.ts';
import { bodyProblem, decodeBody, logFields } from './payload.ts';
import { isDataException, type PreparedRow, prepareRow, recordSet, rejected } from './rows.ts';
import { SourceDirectory } from './source-directory.ts';
import { insertWebhookLog, type WebhookLogEntry } from './webhook-log.ts';

/**
 * The signed webhook's receiving end: checks a push's signature against its source's secrets,
 * then applies single-row changes (through the group-commit writer) or full-sync batches, and
 * logs every attempt.
 */
export class RowSyncService {
  private readonly directory: SourceDirectory;
  /** Columns known to be tracked, per tenant and table: only ever a subset of the database's. */
  private readonly columns = new Map<string, Map<string, ColumnType>>();

  constructor(
    private readonly db: Db,
    /** Opens the sources' webhook secrets. */
    box: SecretBox,
    /** Group commit for single-row changes. */
    private readonly writer: RowChangeWriter,
  ) {
    this.directory = new SourceDirectory(db, box);
  }

  /**
   * The columns of these records when they add to (or widen) what is known to be tracked;
   * null when they do not, which is nearly always.
   */
  private async newColumns(
    tenantId: string,
    table: string,
    records: readonly Record<string, unknown>[],
  ): Promise<Map<string, ColumnType> | null> {
    const key = `${tenantId}:${table}`;
    let known = this.columns.get(key);
    if (!known) {
      known = await loadColumns(this.db, tenantId, table);
      this.columns.set(key, known);
    }
    return addsColumns(known, records) ? columnsOf(records) : null;
  }

  private remember(tenantId: string, table: string, columns: Map<string, ColumnType>): void {
    this.columns.set(`${tenantId}:${table}`, columns);
  }

  /**
   * Verifies the signature over the raw bytes before anything is parsed, then applies the
   * payload. Every attempt, refused or not, leaves one line in `webhook_logs`.
   */
  async receive(
    name: string,
    body: Buffer,
    headers: SignatureHeaders,
    startedAt: number,
    log: FastifyBaseLogger,
  ): Promise<WebhookResult> {
    const entry: Omit<WebhookLogEntry, 'result' | 'status' | 'durationMs' | 'error'> = {
      sourceName: name,
      sourceId: null,
      tenantId: null,
      externalTenantId: null,
      type: null,
      table: null,
      syncId: null,
      rows: 0,
      deliveryKey: null,
    };
    const elapsed = () => performance.now() - startedAt;
    const refuse = async (error: AppError): Promise<AppError> => {
      await insertWebhookLog(this.db, {
        ...entry,
        result: httpStatusOf(error.code) >= 500 ? 'failed' : 'rejected',
        status: httpStatusOf(error.code),
        durationMs: elapsed(),
        error:
          error.message +
          (error.details ? `: ${error.details.map((d) => `${d.path} ${d.message}`).join('; ')}` : ''),
      });
      return error;
    };

    const source = await this.directory.source(name);
    if (!source) throw await refuse(AppError.notFound('Source'));
    entry.sourceId = source.id;
    const verified = verifySignature(body, headers, source.secrets);
    if (!verified.ok)
      throw await refuse(AppError.unauthorized(`The signature was refused: ${verified.reason}`));
    entry.deliveryKey = verified.deliveryKey;

    let decoded: { text: string; json: unknown };
    try {
      decoded = decodeBody(body);
    } catch (error) {
      throw await refuse(error as AppError);
    }
    // Decoded once: parsed here, and a full sync's batch is staged from this same text.
    const { text, json } = decoded;
    Object.assign(entry, logFields(json));
    // Text PostgreSQL cannot store, and nesting its jsonb parser cannot take, are refused
    // whole before anything is written from the body: either would fail its commit.
    const problem = bodyProblem(text, json);
    if (problem) throw await refuse(AppError.invalid([problem], 'The payload is not valid'));
    const parsed = webhookPayloadSchema.safeParse(json);
    if (!parsed.success)
      throw await refuse(
        new AppError('validation_failed', 'The payload is not valid', detailsFromZod(parsed.error)),
      );
    const payload = parsed.data;
    const table = source.tables.get(payload.table);
    if (!table)
      throw await refuse(
        new AppError(
          'unmapped_table',
          `Source "${source.name}" has no mapping for table "${payload.table}"`,
          [
            {
              path: 'table',
              message: `map it with: syncdeck source map ${source.name} ${payload.table} TARGET`,
            },
          ],
        ),
      );
    entry.table = table;

    try {
      const prepared =
        payload.type === 'FULL_SYNC'
          ? payload.records.map((record, index) => prepareRow(record, `records.${index}`))
          : [this.prepareChange(payload)];
      const tenantId = await this.directory.tenantFor(source, payload.tenant_id, log);
      entry.tenantId = tenantId;
      const target: PushTarget = {
        sourceId: source.id,
        sourceName: source.name,
        schema: source.schema,
        tenantId,
        externalTenantId: payload.tenant_id,
        table,
      };
      if (payload.type === 'FULL_SYNC')
        return await this.fullSync(target, payload, text, prepared, entry, elapsed);
      return await this.rowChange(target, payload, prepared[0]!, entry, startedAt);
    } catch (error) {
      if (error instanceof AppError) throw await refuse(error);
      if (isDataException(error))
        throw await refuse(
          new AppError('bad_data', `The database refused a value: ${(error as Error).message}`),
        );
      await refuse(new AppError('internal_error', (error as Error).message)).catch(() => {});
      throw error;
    }
  }

  private prepareChange(payload: RowChange): PreparedRow {
    if (payload.type === 'DELETE') {
      const record = payload.old_record ?? payload.record;
      if (!record) throw rejected('old_record', 'a DELETE needs old_record (or record) with the id');
      return prepareRow(record, payload.old_record ? 'old_record' : 'record');
    }
    if (!payload.record) throw rejected('record', `an ${payload.type} needs the record`);
    return prepareRow(payload.record, 'record');
  }

  private async rowChange(
    target: PushTarget,
    payload: RowChange,
    row: PreparedRow,
    entry: Omit<WebhookLogEntry, 'result' | 'status' | 'durationMs' | 'error'>,
    startedAt: number,
  ): Promise<WebhookResult> {
    const kind = payload.type === 'DELETE' ? ('delete' as const) : ('upsert' as const);
    const columns =
      kind === 'upsert' ? await this.newColumns(target.tenantId, target.table, [row.record]) : null;
    if (columns) {
      // Committed ahead of the change: a column known without rows yet is harmless, and the
      // view is then in place before the group commit writes the row.
      const tracked = await this.db.transaction((tx) => trackColumns(tx, target, columns));
      this.remember(target.tenantId, target.table, tracked);
    }
    const outcome = await this.writer.write({
      target,
      kind,
      type: payload.type,
      id: row.id,
      data: kind === 'delete' ? null : row.record,
      updatedAt: row.updatedAt,
      deliveryKey: entry.deliveryKey,
      startedAt,
    });
    return {
      success: true,
      result: outcome,
      type: payload.type,
      table: target.table,
      tenantId: target.tenantId,
      rows: outcome === 'applied' ? 1 : 0,
    };
  }

  private async fullSync(
    target: PushTarget,
    payload: FullSyncBatch,
    text: string,
    rows: PreparedRow[],
    entry: Omit<WebhookLogEntry, 'result' | 'status' | 'durationMs' | 'error'>,
    elapsed: () => number,
  ): Promise<WebhookResult> {
    entry.syncId = payload.sync_id;
    const newColumns = await this.newColumns(
      target.tenantId,
      target.table,
      rows.map((row) => row.record),
    );
    const staged = payload.total !== undefined || payload.is_last !== undefined;
    const outcome = await this.db.transaction((tx) =>
      staged
        ? this.stagedBatch(tx, target, payload, text, rows, newColumns, entry, elapsed)
        : this.unstagedBatch(tx, target, payload, recordSet(rows), newColumns, entry, elapsed),
    );
    if (outcome.tracked) this.remember(target.tenantId, target.table, outcome.tracked);
    return {
      success: true,
      result: outcome.result,
      type: 'FULL_SYNC',
      table: target.table,
      tenantId: target.tenantId,
      rows: outcome.count,
      fullSync: outcome.fullSync,
    };
  }

  /** A batch of a run with `total` or `is_last`: staged, and applied whole with the last one. */
  private async stagedBatch(
    tx: Queryable,
    target: PushTarget,
    payload: FullSyncBatch,
    text: string,
    rows: PreparedRow[],
    newColumns: Map<string, ColumnType> | null,
    entry: Omit<WebhookLogEntry, 'result' | 'status' | 'durationMs' | 'error'>,
    elapsed: () => number,
  ): Promise<BatchOutcome> {
    const distinct = new Set(rows.map((row) => row.id)).size;
    const log = () => ({
      sourceName: target.sourceName,
      externalTenantId: target.externalTenantId,
      deliveryKey: entry.deliveryKey,
      elapsedMs: elapsed(),
    });
    const run = await stageBatch(
      tx,
      target,
      {
        syncId: payload.sync_id,
        offset: payload.offset,
        size: payload.records.length,
        total: payload.total ?? null,
        isLast: payload.is_last === true,
        text,
        ids: rows.map((row) => row.id),
        distinct,
      },
      log(),
    );
    const fullSync = {
      syncId: payload.sync_id,
      received: run.received,
      total: run.total ?? payload.total ?? null,
      complete: run.complete || run.alreadyComplete,
      removed: 0,
    };
    if (!run.claimed)
      return { tracked: null, result: 'duplicate', count: 0, fullSync: { ...fullSync, complete: false } };
    if (run.alreadyComplete) return { tracked: null, result: 'duplicate', count: 0, fullSync };
    const tracked = newColumns ? await trackColumns(tx, target, newColumns) : null;
    if (!run.complete) return { tracked, result: 'staged', count: distinct, fullSync };
    const done = await completeRun(
      tx,
      target,
      { syncId: payload.sync_id, startedAt: run.startedAt!, distinct },
      log(),
    );
    return { tracked, result: 'applied', count: distinct, fullSync: { ...fullSync, removed: done.removed } };
  }

  /** The seed's full sync (neither `total` nor `is_last`): offset 0 clears the tenant's table. */
  private async unstagedBatch(
    tx: Queryable,
    target: PushTarget,
    payload: FullSyncBatch,
    set: { json: string; count: number },
    newColumns: Map<string, ColumnType> | null,
    entry: Omit<WebhookLogEntry, 'result' | 'status' | 'durationMs' | 'error'>,
    elapsed: () => number,
  ): Promise<BatchOutcome> {
    const finish = async (
      result: WebhookResult['result'],
      count: number,
      fullSync: NonNullable<WebhookResult['fullSync']>,
      tracked: Map<string, ColumnType> | null,
    ): Promise<BatchOutcome> => {
      await insertWebhookLog(tx, {
        ...entry,
        rows: count,
        result,
        status: 200,
        durationMs: elapsed(),
        error: null,
      });
      return { tracked, result, count, fullSync };
    };
    const fullSync = { syncId: payload.sync_id, received: 0, total: null, complete: false, removed: 0 };
    if (!(await claimDelivery(tx, target.sourceId, entry.deliveryKey)))
      return finish('duplicate', 0, fullSync, null);
    const tracked = newColumns ? await trackColumns(tx, target, newColumns) : null;
    const done = await applyUnstagedBatch(tx, target, payload.offset, set.json);
    await recordPush(tx, target, 'FULL_SYNC', done.applied + done.removed);
    return finish(
      'applied',
      done.applied,
      { ...fullSync, received: set.count, removed: done.removed },
      tracked,
    );
  }
}

interface BatchOutcome {
  tracked: Map<string, ColumnType> | null;
  result: WebhookResult['result'];
  count: number;
  fullSync: NonNullable<WebhookResult['fullSync']>;
}
