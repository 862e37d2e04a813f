import { defaultTableMapping, type Source, type TableMapping } from '@syncdeck/core';
import { PREPARED, type Queryable } from '../db/index.ts';
import { AppError } from '../lib/errors.ts';
import { sqlMicros } from '../lib/pagination.ts';
import { iso } from '../lib/time.ts';
import { schemaIdent } from '../synced/index.ts';
import { createDataTable } from './ddl.ts';

export interface StoredSecret {
  fingerprint: string;
  sealed: string;
  createdAt: string;
}

/** Secrets open only as the secret of the source they were sealed for. */
export function secretContext(sourceName: string): string {
  return `sync_sources.secret:${sourceName}`;
}

export interface SourceRecord {
  id: string;
  name: string;
  schema: string;
  secrets: StoredSecret[];
  tables: TableMapping[];
  createdAt: string;
  updatedAt: string;
}

interface SourceRow {
  id: string;
  name: string;
  schema_name: string;
  created_at: Date;
  updated_at: Date;
  secrets: { fingerprint: string; sealed: string; created_at: string }[] | string;
  tables: TableMapping[] | string;
}

const SOURCE_SELECT = `SELECT s.id, s.name, s.schema_name, s.created_at, s.updated_at,
  COALESCE((SELECT json_agg(json_build_object('fingerprint', x.fingerprint, 'sealed', x.sealed,
      'created_at', x.created_at) ORDER BY x.created_at, x.fingerprint)
    FROM sync_source_secrets x WHERE x.source_id = s.id), '[]') AS secrets,
  COALESCE((SELECT json_agg(json_build_object('sourceTable', t.source_table, 'targetTable', t.target_table)
      ORDER BY t.source_table)
    FROM sync_source_tables t WHERE t.source_id = s.id), '[]') AS tables
  FROM sync_sources s`;

function toSourceRecord(row: SourceRow): SourceRecord {
  const secrets = typeof row.secrets === 'string' ? JSON.parse(row.secrets) : row.secrets;
  const tables = typeof row.tables === 'string' ? JSON.parse(row.tables) : row.tables;
  return {
    id: row.id,
    name: row.name,
    schema: row.schema_name,
    secrets: (secrets as { fingerprint: string; sealed: string; created_at: string }[]).map((s) => ({
      fingerprint: s.fingerprint,
      sealed: s.sealed,
      createdAt: new Date(s.created_at).toISOString(),
    })),
    tables: tables as TableMapping[],
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/** What the API shows of a source: never a secret, sealed or not. */
export function toSource(record: SourceRecord): Source {
  return {
    id: record.id,
    name: record.name,
    schema: record.schema,
    secrets: record.secrets.map(({ fingerprint, createdAt }) => ({ fingerprint, createdAt })),
    tables: record.tables,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export async function findSourceByName(q: Queryable, name: string): Promise<SourceRecord | null> {
  const result = await q.query<SourceRow>(`${SOURCE_SELECT} WHERE s.name = $1`, [name]);
  return result.rows[0] ? toSourceRecord(result.rows[0]) : null;
}

/**
 * Each named source's version: its `updated_at` in microseconds, which every change to its
 * secrets or mapping moves (touchSource). Sources that do not exist are left out.
 */
export async function findSourceVersions(q: Queryable, names: string[]): Promise<Map<string, string>> {
  const result = await q.query<{ name: string; version: string }>(
    `SELECT name, ${sqlMicros('updated_at')}::text AS version
     FROM sync_sources WHERE name = ANY($1::text[])`,
    [names],
    PREPARED,
  );
  return new Map(result.rows.map((row) => [row.name, row.version]));
}

export async function listSources(q: Queryable): Promise<SourceRecord[]> {
  const result = await q.query<SourceRow>(`${SOURCE_SELECT} ORDER BY s.name`);
  return result.rows.map(toSourceRecord);
}

export async function insertSource(
  tx: Queryable,
  input: {
    name: string;
    schema: string;
    secret: { fingerprint: string; sealed: string };
    tables: TableMapping[];
  },
): Promise<void> {
  const taken = await tx.query<{ name: string; schema_name: string }>(
    'SELECT name, schema_name FROM sync_sources WHERE name = $1 OR schema_name = $2',
    [input.name, input.schema],
  );
  for (const row of taken.rows) {
    if (row.name === input.name)
      throw AppError.conflict(`A source named "${input.name}" already exists`, [
        { path: 'name', message: 'already taken' },
      ]);
    throw AppError.conflict(`Schema "${input.schema}" belongs to source "${row.name}"`, [
      { path: 'schema', message: 'already taken' },
    ]);
  }
  const inserted = await tx.query<{ id: string }>(
    'INSERT INTO sync_sources (name, schema_name) VALUES ($1, $2) RETURNING id',
    [input.name, input.schema],
  );
  const id = inserted.rows[0]!.id;
  await tx.query('INSERT INTO sync_source_secrets (source_id, fingerprint, sealed) VALUES ($1, $2, $3)', [
    id,
    input.secret.fingerprint,
    input.secret.sealed,
  ]);
  await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${schemaIdent(input.schema)}`);
  for (const mapping of input.tables)
    await mapTable(tx, { id, name: input.name, schema: input.schema }, mapping);
}

/** Maps a source table to a target table (replacing an earlier mapping of that source table). */
export async function mapTable(
  tx: Queryable,
  source: { id: string; name: string; schema: string },
  mapping: TableMapping,
): Promise<void> {
  const owner = await tx.query<{ name: string }>(
    `SELECT s.name FROM sync_source_tables t JOIN sync_sources s ON s.id = t.source_id
     WHERE t.target_table = $1 AND t.source_id <> $2 LIMIT 1`,
    [mapping.targetTable, source.id],
  );
  if (owner.rows[0]) {
    throw AppError.conflict(`Table "${mapping.targetTable}" belongs to source "${owner.rows[0].name}"`, [
      { path: 'targetTable', message: 'already used by another source' },
    ]);
  }
  await tx.query(
    `INSERT INTO sync_source_tables (source_id, source_table, target_table) VALUES ($1, $2, $3)
     ON CONFLICT (source_id, source_table) DO UPDATE SET target_table = EXCLUDED.target_table`,
    [source.id, mapping.sourceTable, mapping.targetTable],
  );
  await createDataTable(tx, source.schema, mapping.targetTable);
  await touchSource(tx, source.id);
}

export async function addSourceSecret(
  tx: Queryable,
  sourceId: string,
  secret: { fingerprint: string; sealed: string },
): Promise<void> {
  // Locks the source row, so two concurrent additions cannot both see one secret and make three.
  await tx.query('SELECT 1 FROM sync_sources WHERE id = $1 FOR UPDATE', [sourceId]);
  const existing = await tx.query<{ fingerprint: string }>(
    'SELECT fingerprint FROM sync_source_secrets WHERE source_id = $1',
    [sourceId],
  );
  if (existing.rows.some((row) => row.fingerprint === secret.fingerprint))
    throw AppError.conflict('This secret is already active', [{ path: 'secret', message: 'already active' }]);
  if (existing.rows.length >= 2)
    throw AppError.conflict('A source has at most two active secrets: remove the old one first', [
      { path: 'secret', message: 'two secrets are already active' },
    ]);
  await tx.query('INSERT INTO sync_source_secrets (source_id, fingerprint, sealed) VALUES ($1, $2, $3)', [
    sourceId,
    secret.fingerprint,
    secret.sealed,
  ]);
  await touchSource(tx, sourceId);
}

export async function removeSourceSecret(
  tx: Queryable,
  sourceId: string,
  fingerprint: string,
): Promise<void> {
  await tx.query('SELECT 1 FROM sync_sources WHERE id = $1 FOR UPDATE', [sourceId]);
  const existing = await tx.query<{ fingerprint: string }>(
    'SELECT fingerprint FROM sync_source_secrets WHERE source_id = $1',
    [sourceId],
  );
  if (!existing.rows.some((row) => row.fingerprint === fingerprint)) throw AppError.notFound('Secret');
  if (existing.rows.length === 1)
    throw AppError.conflict('A source needs one active secret: add the new one before removing the last', [
      { path: 'secret', message: 'is the only active secret' },
    ]);
  await tx.query('DELETE FROM sync_source_secrets WHERE source_id = $1 AND fingerprint = $2', [
    sourceId,
    fingerprint,
  ]);
  await touchSource(tx, sourceId);
}

export async function touchSource(tx: Queryable, sourceId: string): Promise<void> {
  await tx.query('UPDATE sync_sources SET updated_at = now() WHERE id = $1', [sourceId]);
}

/**
 * The default mapping, less the target tables another source already holds: a target table
 * belongs to one source, and a default is a convenience, so a second source starts without the
 * defaults the first one took rather than being refused for them.
 */
export async function freeDefaultMapping(tx: Queryable): Promise<TableMapping[]> {
  const taken = await tx.query<{ target_table: string }>(
    'SELECT DISTINCT target_table FROM sync_source_tables WHERE target_table = ANY($1::text[])',
    [defaultTableMapping.map((m) => m.targetTable)],
  );
  const held = new Set(taken.rows.map((row) => row.target_table));
  return defaultTableMapping.filter((m) => !held.has(m.targetTable));
}
