import { createHash } from 'node:crypto';
import { type CreateSourceInput, defaultTableMapping, type Source, type TableMapping } from '@syncdeck/core';
import type { Db, Queryable } from '../db/index.ts';
import { AppError } from '../lib/errors.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import {
  addSourceSecret,
  findSourceByName,
  insertSource,
  mapTable,
  removeSourceSecret,
  secretContext,
  type SourceRecord,
  toSource,
} from './sources.ts';

/**
 * Managing sources, for the admin API and the CLI. The webhook (service.ts) only reads them, and
 * sees a change on its next request through the source's version.
 */

/** Identifies a secret without revealing it. */
export function secretFingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 16);
}

async function requireSource(q: Queryable, name: string): Promise<SourceRecord> {
  const source = await findSourceByName(q, name);
  if (!source) throw AppError.notFound(`Source "${name}"`);
  return source;
}

export async function createSource(db: Db, box: SecretBox, input: CreateSourceInput): Promise<Source> {
  const tables = new Map(defaultTableMapping.map((m) => [m.sourceTable, m.targetTable]));
  for (const mapping of input.tables ?? []) tables.set(mapping.sourceTable, mapping.targetTable);
  await db.transaction((tx) =>
    insertSource(tx, {
      name: input.name,
      schema: input.schema ?? input.name,
      secret: {
        fingerprint: secretFingerprint(input.secret),
        sealed: box.seal(input.secret, secretContext(input.name)),
      },
      tables: [...tables].map(([sourceTable, targetTable]) => ({ sourceTable, targetTable })),
    }),
  );
  return toSource(await requireSource(db, input.name));
}

export async function getSource(db: Db, name: string): Promise<Source> {
  return toSource(await requireSource(db, name));
}

export async function addSecret(db: Db, box: SecretBox, name: string, secret: string): Promise<Source> {
  await db.transaction(async (tx) => {
    const source = await requireSource(tx, name);
    await addSourceSecret(tx, source.id, {
      fingerprint: secretFingerprint(secret),
      sealed: box.seal(secret, secretContext(name)),
    });
  });
  return toSource(await requireSource(db, name));
}

/** Removes a secret named by its value or its fingerprint. */
export async function removeSecret(db: Db, name: string, secretOrFingerprint: string): Promise<Source> {
  await db.transaction(async (tx) => {
    const source = await requireSource(tx, name);
    const fingerprint = source.secrets.some((s) => s.fingerprint === secretOrFingerprint)
      ? secretOrFingerprint
      : secretFingerprint(secretOrFingerprint);
    await removeSourceSecret(tx, source.id, fingerprint);
  });
  return toSource(await requireSource(db, name));
}

export async function mapSourceTable(db: Db, name: string, mapping: TableMapping): Promise<Source> {
  await db.transaction(async (tx) => {
    const source = await requireSource(tx, name);
    await mapTable(tx, source, mapping);
  });
  return toSource(await requireSource(db, name));
}
