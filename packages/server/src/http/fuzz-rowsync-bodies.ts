/*
 * Row-sync bodies for the fuzz test (fuzz.test.ts), signed as real senders sign them, so they
 * get past the signature check into parsing: valid payloads to mutate, hand-made hostile ones
 * that must be refused without writing anything, and odd but valid ones that must be stored
 * and read back without a 5xx (column names that collide with SQL keywords and aliases).
 */
import { createHmac } from 'node:crypto';
import { signBody } from '@syncdeck/sdk';
import type { Rng } from './fuzz-bodies.ts';

export const ROWSYNC_SECRET = 'fuzz-source-secret-0123456789abcdef';
export const ROWSYNC_TABLES = ['adhoc_work_orders', 'attendance_events', 'zone_categories'] as const;

/**
 * Headers signing `body` the two ways senders do: the SDK's `x-webhook-signature` (hex HMAC of
 * the raw bytes, `sha256=` prefix optional), or Standard Webhooks (`v1,` base64 HMAC of
 * `id.timestamp.body`) with a fresh id, so a body sent again is not taken for a duplicate.
 */
export function signedHeaders(body: string | Buffer, n: number): Record<string, string> {
  if (n % 3 === 2) {
    const id = `msg_fuzz_${n}_${Date.now()}`;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = createHmac('sha256', ROWSYNC_SECRET)
      .update(`${id}.${timestamp}.`)
      .update(body)
      .digest('base64');
    return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
  }
  const hex =
    typeof body === 'string'
      ? signBody(body, ROWSYNC_SECRET)
      : createHmac('sha256', ROWSYNC_SECRET).update(body).digest('hex');
  return { 'x-webhook-signature': n % 3 === 0 ? `sha256=${hex}` : hex };
}

/** How deep the nested records of `edgeRowSyncBodies` go: refused or stored, never a 500. */
export const NESTING_DEPTHS = [70, 2_000, 5_000] as const;

/** Column names a source may send that collide with the SQL around them: aliases, keywords, system columns. */
export const HOSTILE_COLUMNS = [
  'v',
  'k',
  'd',
  'u',
  'row',
  'data',
  'tenant_id',
  'select',
  'from',
  'where',
  'order',
  'group',
  'user',
  'table',
  'null',
  'true',
  'limit',
  'offset',
  'ctid',
  'xmin',
  'oid',
  'tableoid',
  'Status',
  'status',
  'a'.repeat(63),
  `${'a'.repeat(63)}b`,
  'with space',
  'semi;colon',
  'quo"te',
  'dash-ed',
  '1starts_with_digit',
  '',
];

function record(rng: Rng, n: number): Record<string, unknown> {
  const row: Record<string, unknown> = {
    id: rng.int(3) === 0 ? n : `r-${n}`,
    updated_at: rng.pick(['2026-01-01T00:00:00Z', '2026-01-02T10:00:00.123456+03:00', null]),
    title: rng.pick(['Fix the door', 'تنظيف', '👍🏽', '']),
    amount: rng.pick([1, 2.5, -3, 0]),
    done: rng.pick([true, false]),
    meta: { a: [1, { b: 'c' }] },
  };
  if (rng.int(3) === 0) row[rng.pick(HOSTILE_COLUMNS)] = rng.pick(['x', 1, true, null, { v: 1 }]);
  return row;
}

/** A valid change or full-sync batch, to be mutated. */
export function validRowSync(rng: Rng, n: number): Record<string, unknown> {
  const table = ROWSYNC_TABLES[n % ROWSYNC_TABLES.length]!;
  const tenant = rng.pick(['fuzz-a', 'fuzz-b', 42]);
  if (n % 4 === 3) {
    const size = 1 + rng.int(4);
    return {
      type: 'FULL_SYNC',
      table,
      tenant_id: tenant,
      sync_id: `sync-${n}`,
      offset: rng.pick([0, 0, 2, 500]),
      records: Array.from({ length: size }, (_, i) => record(rng, n * 10 + i)),
      ...(rng.int(2) ? { total: size } : {}),
      ...(rng.int(2) ? { is_last: rng.int(2) === 0 } : {}),
    };
  }
  const type = rng.pick(['INSERT', 'UPDATE', 'DELETE']);
  const row = record(rng, n);
  return {
    type,
    table,
    tenant_id: tenant,
    record: type === 'DELETE' ? null : row,
    old_record: type === 'DELETE' ? { id: row.id } : null,
  };
}

const NUL = 'a\u0000b';
const HIGH = 'a\uD800';
const LOW = '\uDC00b';
const BAD_TEXTS = [NUL, HIGH, LOW, '\u0000'];

/** A signed body that must be refused (4xx) and write nothing but its webhook log line. */
export interface RefusedBody {
  name: string;
  /** JSON text, or raw bytes. */
  body: string | Buffer;
}

/**
 * Hand-made bodies that get past the signature and must be refused: text PostgreSQL cannot
 * store in every place a payload carries text, wrong types, numbers JSON cannot round-trip,
 * nesting deeper than anything stores, full syncs with offsets and totals that cannot be.
 * Each uses a tenant id of its own (`tenant`), so a body that created its tenant before being
 * refused shows as a partial write.
 */
export function refusedRowSyncBodies(): RefusedBody[] {
  const out: RefusedBody[] = [];
  let n = 0;
  const tenant = () => `fuzz-refused-${n++}`;
  const change = (extra: Record<string, unknown>, rec: unknown = { id: 'r1', title: 'ok' }) => ({
    type: 'INSERT',
    table: 'adhoc_work_orders',
    tenant_id: tenant(),
    record: rec,
    old_record: null,
    ...extra,
  });
  const full = (extra: Record<string, unknown>, records: unknown = [{ id: 'r1' }]) => ({
    type: 'FULL_SYNC',
    table: 'zone_categories',
    tenant_id: tenant(),
    sync_id: `refused-${n}`,
    offset: 0,
    records,
    total: 1,
    ...extra,
  });
  const json = (name: string, value: unknown) => out.push({ name, body: JSON.stringify(value) });
  const raw = (name: string, body: string | Buffer) => out.push({ name, body });

  for (const [i, bad] of BAD_TEXTS.entries()) {
    json(`record key #${i}`, change({}, { id: 'r1', [`k${bad}`]: 1 }));
    json(`record value #${i}`, change({}, { id: 'r1', title: bad }));
    json(`nested record value #${i}`, change({}, { id: 'r1', meta: { list: [1, { deep: bad }] } }));
    json(`nested record key #${i}`, change({}, { id: 'r1', meta: { [bad]: 1 } }));
    json(`record id #${i}`, change({}, { id: `r${bad}` }));
    json(`updated_at #${i}`, change({}, { id: 'r1', updated_at: `2026-01-01${bad}` }));
    json(`old_record id of a DELETE #${i}`, change({ type: 'DELETE', old_record: { id: `r${bad}` } }, null));
    json(`table #${i}`, change({ table: `adhoc${bad}` }));
    json(`type #${i}`, change({ type: `INSERT${bad}` }));
    json(`tenant_id #${i}`, change({ tenant_id: `t${bad}` }));
    json(`unknown key #${i}`, { ...change({}), [`x${bad}`]: 1 });
    json(`full-sync record value #${i}`, full({}, [{ id: 'r1' }, { id: 'r2', title: bad }]));
    json(`full-sync record key #${i}`, full({}, [{ id: 'r1', [bad]: true }]));
    json(`sync_id #${i}`, full({ sync_id: `s${bad}` }));
    json(`full-sync tenant_id #${i}`, full({ tenant_id: bad }));
  }
  json('DELETE without a record', change({ type: 'DELETE', old_record: null }, null));

  // Wrong types everywhere.
  json('record is an array', change({}, [{ id: 'r1' }]));
  json('record is a string', change({}, 'r1'));
  json('record without id', change({}, { title: 'no id' }));
  json('record id is an object', change({}, { id: { a: 1 } }));
  json('record id is a float', change({}, { id: 1.5 }));
  json('record id is unsafe', change({}, { id: 2 ** 53 + 2 }));
  json('record id is empty', change({}, { id: '' }));
  json('record id is long', change({}, { id: 'x'.repeat(201) }));
  json('updated_at is a number', change({}, { id: 'r1', updated_at: 1_700_000_000 }));
  json('updated_at out of range offset', change({}, { id: 'r1', updated_at: '2026-01-01T00:00:00+16:00' }));
  json('updated_at Feb 30', change({}, { id: 'r1', updated_at: '2026-02-30T00:00:00Z' }));
  json('tenant_id is an object', change({ tenant_id: { id: 1 } }));
  json('tenant_id is a float', change({ tenant_id: 1.5 }));
  json('tenant_id is empty', change({ tenant_id: '   ' }));
  json('tenant_id is long', change({ tenant_id: 'x'.repeat(101) }));
  json('table is a number', change({ table: 7 }));
  json('table is SQL', change({ table: 'adhoc_work_orders; DROP TABLE tenants' }));
  json('table is unmapped', change({ table: 'no_such_table' }));
  json('type is lower case', change({ type: 'insert' }));
  json('type is missing', change({ type: undefined }));
  json('INSERT without record', change({ record: null }));
  json('body is an array', [change({})]);
  json('body is a string', 'INSERT');
  json('body is null', null);
  json('body is a number', 1e308);

  // Numbers JSON cannot round-trip, where an integer is required.
  raw('offset 1e999', JSON.stringify(full({ offset: 0 })).replace('"offset":0', '"offset":1e999'));
  raw('id 1e999', JSON.stringify(change({}, { id: 0 })).replace('"id":0', '"id":1e999'));
  raw(
    'id big integer',
    JSON.stringify(change({}, { id: 0 })).replace('"id":0', '"id":123456789012345678901234567890'),
  );
  raw(
    'tenant_id big integer',
    JSON.stringify(change({ tenant_id: 0 })).replace('"tenant_id":0', '"tenant_id":1e400'),
  );

  // Full syncs that cannot be.
  json('offset negative', full({ offset: -1 }));
  json('offset float', full({ offset: 0.5 }));
  json('offset a string', full({ offset: '0' }));
  json('offset null', full({ offset: null }));
  json('offset unsafe', full({ offset: 2 ** 53 + 2 }));
  json('total negative', full({ total: -1 }));
  json('total a float', full({ total: 1.5 }));
  json('total unsafe', full({ total: 2 ** 60 }));
  json('is_last a string', full({ is_last: 'true' }));
  json('records an object', full({}, { id: 'r1' }));
  json('records hold a string', full({}, ['r1']));
  json('records hold null', full({}, [{ id: 'r1' }, null]));
  json(
    'records too many',
    full(
      { total: 5_001 },
      Array.from({ length: 5_001 }, (_, i) => ({ id: i })),
    ),
  );
  json('sync_id empty', full({ sync_id: ' ' }));
  json('sync_id an object', full({ sync_id: { a: 1 } }));
  json('sync_id long', full({ sync_id: 's'.repeat(201) }));
  json('full-sync record without id', full({}, [{ id: 'r1' }, { title: 'no id' }]));

  // Records nested deeper than PostgreSQL's jsonb parser (or JSON.stringify) goes, and with a
  // NUL beside them: refused, in time linear in the depth, before a tenant or column is made.
  const deep = `${'{"v":['.repeat(10_000)}1${']}'.repeat(10_000)}`;
  raw(
    'record nested 20,000 deep',
    JSON.stringify(change({}, { id: 'r1', deep: 0 })).replace('"deep":0', `"deep":${deep}`),
  );
  raw(
    'record nested 20,000 deep with a NUL',
    JSON.stringify(change({}, { id: 'r1', t: NUL, deep: 0 })).replace('"deep":0', `"deep":${deep}`),
  );
  raw(
    'unstaged full sync nested 20,000 deep',
    JSON.stringify(full({ total: undefined }, [{ id: 'r1', deep: 0 }])).replace('"deep":0', `"deep":${deep}`),
  );
  raw(
    'staged full sync nested 20,000 deep',
    JSON.stringify(full({}, [{ id: 'r1', deep: 0 }])).replace('"deep":0', `"deep":${deep}`),
  );
  // Nesting as deep as the body limit allows, where no payload can be.
  raw('body nested 20,000 deep', `${'['.repeat(20_000)}${']'.repeat(20_000)}`);
  raw('type nested 20,000 deep', `{"type":${'['.repeat(20_000)}${']'.repeat(20_000)}}`);

  // Not JSON, or not UTF-8.
  raw('not JSON', '{"type":"INSERT",');
  raw('empty body', '');
  raw('Latin-1 bytes', Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d]));
  raw('a raw NUL byte in a string', Buffer.from('{"type":"INSERT","table":"a\u0000"}', 'utf8'));
  raw('__proto__', `{"__proto__":{"type":"INSERT"},"table":"adhoc_work_orders","tenant_id":"${tenant()}"}`);
  return out;
}

/**
 * Bodies a source may well send, which must be stored or refused but never answer 5xx: every
 * hostile column name, in single changes and a full sync, and records nested deep (refusing
 * those, by core's depth rule, is as right as storing them).
 */
export function edgeRowSyncBodies(tenant: string, depths: readonly number[] = NESTING_DEPTHS): string[] {
  const bodies: string[] = [];
  for (const depth of depths) {
    const deep = `${'{"v":['.repeat(depth / 2)}1${']}'.repeat(depth / 2)}`;
    bodies.push(
      `{"type":"INSERT","table":"adhoc_work_orders","tenant_id":"${tenant}","record":{"id":"deep-${depth}","deep":${deep}}}`,
      `{"type":"FULL_SYNC","table":"attendance_events","tenant_id":"${tenant}","sync_id":"deep-${depth}","offset":0,"records":[{"id":"deep","deep":${deep}}]}`,
    );
  }
  for (const [i, column] of HOSTILE_COLUMNS.entries()) {
    bodies.push(
      JSON.stringify({
        type: 'INSERT',
        table: 'adhoc_work_orders',
        tenant_id: tenant,
        record: { id: `col-${i}`, [column]: i % 2 ? `value ${i}` : i, updated_at: '2026-01-01T00:00:00Z' },
        old_record: null,
      }),
    );
  }
  bodies.push(
    JSON.stringify({
      type: 'FULL_SYNC',
      table: 'zone_categories',
      tenant_id: tenant,
      sync_id: 'hostile-columns',
      offset: 0,
      total: HOSTILE_COLUMNS.length,
      records: HOSTILE_COLUMNS.map((column, i) => ({ id: `z-${i}`, [column]: i })),
    }),
  );
  return bodies;
}
