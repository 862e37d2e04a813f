import { z } from 'zod';
import { filterOps, MAX_FULL_SYNC_BATCH, syncedColumnTypes, webhookLogResults } from './constants.ts';

/** Source and schema names: they become PostgreSQL identifiers, so the pattern is strict. */
export const sourceNameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]{1,39}$/,
    'use 2–40 lower-case letters, digits and underscores, starting with a letter',
  );
export const syncSchemaNameSchema = sourceNameSchema.refine(
  (name) => !/^(pg_|information_schema$|public$|tenants$)/.test(name),
  'is reserved',
);
export const sourceTableNameSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'use lower-case letters, digits and underscores');
/** Short enough that `<tenant uuid>_<table>` fits PostgreSQL's 63-byte identifiers. */
export const targetTableNameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]{0,25}$/,
    'use 1–26 lower-case letters, digits and underscores, starting with a letter',
  );
export const sourceSecretSchema = z.string().min(16, 'must be at least 16 characters').max(512);

export const tableMappingSchema = z.object({
  sourceTable: sourceTableNameSchema,
  targetTable: targetTableNameSchema,
});
export type TableMapping = z.infer<typeof tableMappingSchema>;

export const sourceSchema = z.object({
  id: z.string().uuid(),
  name: z.string(),
  schema: z.string(),
  secrets: z
    .array(z.object({ fingerprint: z.string(), createdAt: z.string() }))
    .describe('Active secrets, by fingerprint; the secrets themselves are never returned'),
  tables: z.array(tableMappingSchema),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Source = z.infer<typeof sourceSchema>;

export const createSourceSchema = z
  .object({
    name: sourceNameSchema,
    secret: sourceSecretSchema,
    schema: syncSchemaNameSchema.optional().describe('Defaults to the name'),
    tables: z.array(tableMappingSchema).max(200).optional().describe('Added to the default mapping'),
  })
  .strict();
export type CreateSourceInput = z.infer<typeof createSourceSchema>;

/** The table mapping every source starts with (its platform's table names); more can be added. */
export const defaultTableMapping: TableMapping[] = [
  { sourceTable: 'adhoc_work_orders', targetTable: 'work_orders' },
  { sourceTable: 'attendance_events', targetTable: 'attendance_events' },
  { sourceTable: 'zone_categories', targetTable: 'zones' },
];

// ---- the webhook's payloads ---------------------------------------------------------------

const externalTenantId = z.union([z.string().trim().min(1).max(100), z.number().int()]).transform(String);
// A plain object; its fields are the source's own, checked where they are used (id, updated_at).
// Cheaper than z.record for a batch of thousands of records.
const recordSchema = z.custom<Record<string, unknown>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  'must be an object',
);

export const rowChangeSchema = z.object({
  type: z.enum(['INSERT', 'UPDATE', 'DELETE']),
  table: sourceTableNameSchema,
  tenant_id: externalTenantId,
  record: recordSchema.nullable().optional(),
  old_record: recordSchema.nullable().optional(),
});
export const fullSyncSchema = z.object({
  type: z.literal('FULL_SYNC'),
  table: sourceTableNameSchema,
  tenant_id: externalTenantId,
  sync_id: z.union([z.string().trim().min(1).max(200), z.number().int()]).transform(String),
  offset: z.number().int().min(0),
  records: z.array(recordSchema).max(MAX_FULL_SYNC_BATCH),
  total: z.number().int().min(0).optional(),
  is_last: z.boolean().optional(),
});
export const webhookPayloadSchema = z.discriminatedUnion('type', [rowChangeSchema, fullSyncSchema]);
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;
export type RowChange = z.infer<typeof rowChangeSchema>;
export type FullSyncBatch = z.infer<typeof fullSyncSchema>;

export const webhookResultSchema = z.object({
  success: z.literal(true),
  result: z.enum(['applied', 'ignored', 'duplicate', 'staged']),
  type: z.string(),
  table: z.string(),
  tenantId: z.string().uuid().nullable(),
  rows: z.number().int(),
  fullSync: z
    .object({
      syncId: z.string(),
      received: z.number().int(),
      total: z.number().int().nullable(),
      complete: z.boolean(),
      removed: z.number().int(),
    })
    .optional(),
});
export type WebhookResult = z.infer<typeof webhookResultSchema>;

export type SyncedColumnType = (typeof syncedColumnTypes)[number];
export const syncedColumnSchema = z.object({ name: z.string(), type: z.enum(syncedColumnTypes) });
export type SyncedColumn = z.infer<typeof syncedColumnSchema>;

export const syncedTableSchema = z.object({
  table: z.string(),
  columns: z.array(syncedColumnSchema).describe('The columns pushed for this tenant, oldest first'),
  lastPushAt: z
    .string()
    .nullable()
    .describe('The last push that changed rows, while the push log still holds it'),
});
export type SyncedTable = z.infer<typeof syncedTableSchema>;

export const webhookLogSchema = z.object({
  id: z.string().uuid(),
  source: z.string(),
  tenantId: z.string().uuid().nullable(),
  tenantSlug: z.string().nullable().describe('The tenant the push landed in (null when deleted since)'),
  externalTenantId: z.string().nullable(),
  type: z.string().nullable(),
  table: z.string().nullable(),
  syncId: z.string().nullable(),
  rows: z.number().int(),
  result: z.enum(webhookLogResults),
  status: z.number().int(),
  durationMs: z.number(),
  error: z.string().nullable(),
  createdAt: z.string(),
});
export type WebhookLog = z.infer<typeof webhookLogSchema>;

// ---- charts --------------------------------------------------------------------------------

export const columnNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'is not a column name');
export const rowFilterSchema = z.object({
  column: columnNameSchema,
  op: z.enum(filterOps),
  value: z.union([z.string().max(500), z.number(), z.boolean()]).optional(),
});
export type RowFilter = z.infer<typeof rowFilterSchema>;

export const chartSpecSchema = z
  .object({
    table: targetTableNameSchema,
    metric: z
      .object({
        fn: z.enum(['count', 'sum', 'avg', 'min', 'max']),
        column: columnNameSchema.optional(),
      })
      .strict()
      .refine((m) => m.fn === 'count' || m.column !== undefined, {
        message: 'needs a column unless fn is count',
        path: ['column'],
      }),
    groupBy: z
      .object({ column: columnNameSchema, bucket: z.enum(['day', 'week', 'month']).optional() })
      .strict()
      .optional(),
    filters: z.array(rowFilterSchema.strict()).max(20).default([]),
  })
  .strict();
export type ChartSpec = z.infer<typeof chartSpecSchema>;

export const createChartSchema = z
  .object({ name: z.string().trim().min(1).max(200), spec: chartSpecSchema })
  .strict();

export const chartSchema = z.object({
  id: z.string().uuid(),
  name: z.string(),
  spec: chartSpecSchema,
  tables: z.array(z.string()),
  cacheStatus: z.enum(['fresh', 'stale']),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Chart = z.infer<typeof chartSchema>;

export const chartDataSchema = z.object({
  chartId: z.string().uuid(),
  cacheStatus: z
    .enum(['fresh', 'stale'])
    .describe('What the cache was when asked: stale means recomputed now'),
  computedAt: z.string(),
  rows: z.array(z.object({ key: z.unknown(), value: z.number().nullable() })),
});
export type ChartData = z.infer<typeof chartDataSchema>;
