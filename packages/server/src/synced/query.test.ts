// Reading synced rows whatever names and values a source sends, and whatever cursor a client sends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signSeed } from '../rowsync/index.ts';
import { bearer, createTestApp, type TestApp } from '../testing/harness.ts';
import { rowChange } from '../testing/rowsync.ts';

let t: TestApp;
const SECRET = 'synced-query-secret-0123456789';
const tokens = new Map<string, string>();

/** Pushes a row for a source tenant (one per test, so each reads its own view); its read token. */
async function push(tenant: string, record: Record<string, unknown>): Promise<string> {
  const body = JSON.stringify(rowChange('INSERT', 'adhoc_work_orders', tenant, record));
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/webhooks/optiqo',
    headers: { 'content-type': 'application/json', 'x-webhook-signature': signSeed(body, SECRET) },
    payload: body,
  });
  expect(response.statusCode, response.body).toBe(200);
  if (!tokens.has(tenant)) tokens.set(tenant, (await t.createKey(response.json().tenantId, ['read'])).token);
  return tokens.get(tenant)!;
}

function read(token: string, query = '') {
  return t.app.inject({ method: 'GET', url: `/api/synced/work_orders${query}`, headers: bearer(token) });
}

async function rows(token: string, query = '?limit=200'): Promise<Record<string, unknown>[]> {
  const response = await read(token, query);
  expect(response.statusCode, response.body).toBe(200);
  return response.json().data;
}

/** Every page of a sort, one row at a time, following the cursors the server hands out. */
async function pagedIds(token: string, sort: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await read(token, `?limit=1&sort=${sort}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.statusCode, page.body).toBe(200);
    ids.push(...page.json().data.map((r: { id: string }) => r.id));
    cursor = page.json().nextCursor;
  } while (cursor);
  return ids;
}

const cursorOf = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');

beforeAll(async () => {
  t = await createTestApp();
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/admin/sources',
    headers: bearer(t.adminToken),
    payload: { name: 'optiqo', secret: SECRET },
  });
  expect(created.statusCode, created.body).toBe(201);
});
afterAll(() => t.close());

describe('column names', () => {
  it("round-trip when they are the query's aliases, SQL keywords, id-like or in mixed case", async () => {
    const named = {
      v: 'vee',
      t: 'tee',
      row: 'a row',
      k: 'kay',
      q: 'queue',
      key: 'a key',
      value: 7,
      select: 'chosen',
      order: 2,
      from: 'here',
      where: true,
      null: 'not null',
      data: 'not the data',
      tenant_id: 'not the tenant',
      synced_at: 'not a time',
      ID: 'upper',
      Id: 'mixed',
      _id: 'underscored',
      Amount: 1,
      amount: 2,
    };
    const token = await push('names', { id: 'n1', ...named, 'we"ird': 'quoted', "it's": 'apostrophe' });
    await push('names', { id: 'n2', ...named, v: 'other', select: 'also', order: 1 });
    const [first] = await rows(token, '?limit=200&filter=v:eq:vee');
    expect(first).toEqual({ id: 'n1', ...named });

    // Names that are not plain identifiers stay in the stored row but are no column of the view.
    const columns = (await read(token)).json().columns.map((c: { name: string }) => c.name);
    expect(columns.sort()).toEqual(['id', ...Object.keys(named)].sort());
    const stored = await t.db.query<{ data: Record<string, unknown> | string }>(
      "SELECT data FROM optiqo.work_orders WHERE id = 'n1'",
    );
    const data = stored.rows[0]!.data;
    expect(typeof data === 'string' ? JSON.parse(data) : data).toMatchObject({
      'we"ird': 'quoted',
      "it's": 'apostrophe',
    });

    expect((await rows(token, '?sort=v')).map((r) => r.id)).toEqual(['n2', 'n1']);
    expect(await pagedIds(token, 'order')).toEqual(['n2', 'n1']);
    expect(await pagedIds(token, '-select')).toEqual(['n1', 'n2']);
    expect((await rows(token, '?filter=row:contains:row&filter=where:eq:true')).length).toBe(2);
  });
});

describe('timestamps', () => {
  it('only values PostgreSQL reads type a column as timestamptz; the others leave it text, and readable', async () => {
    const token = await push('offsets', {
      id: 'o1',
      at: '2024-06-01T10:00:00+15:59',
      far: '2024-06-01T10:00:00+16:00',
    });
    await push('offsets', { id: 'o2', at: '2024-06-01T10:00:00-1559', odd: '2024-06-01T10:00:00+05:99' });
    const response = await read(token, '?sort=at');
    expect(response.statusCode, response.body).toBe(200);
    const types = response.json().columns.map((c: { name: string; type: string }) => [c.name, c.type]);
    expect(Object.fromEntries(types)).toEqual({ id: 'text', at: 'timestamptz', far: 'text', odd: 'text' });
    expect(response.json().data.map((r: { id: string }) => r.id)).toEqual(['o1', 'o2']);
    expect(response.json().data[0].far).toBe('2024-06-01T10:00:00+16:00');
    expect(response.json().data[1].odd).toBe('2024-06-01T10:00:00+05:99');
  });
});

describe('cursors', () => {
  let token: string;
  beforeAll(async () => {
    token = await push('cursors', {
      id: 'c1',
      amount: 1.5,
      flag: true,
      at: '0001-01-01T00:00:00+01:00',
      title: 'b',
    });
    await push('cursors', { id: 'c2', amount: 10, flag: false, at: '9999-12-31T23:00:00-05:00', title: 'a' });
    await push('cursors', { id: 'c3', amount: -2, flag: true, at: '2024-06-01T10:00:00.123456+05:30' });
    await push('cursors', { id: 'c4', title: 'c' });
  });

  it('that the server hands out page every sort, whatever the type and the range of its values', async () => {
    expect(await pagedIds(token, 'amount')).toEqual(['c3', 'c1', 'c2', 'c4']);
    expect(await pagedIds(token, '-flag')).toEqual(['c3', 'c1', 'c2', 'c4']);
    expect(await pagedIds(token, 'at')).toEqual(['c1', 'c3', 'c2', 'c4']);
    expect(await pagedIds(token, '-at')).toEqual(['c2', 'c3', 'c1', 'c4']);
    expect(await pagedIds(token, 'title')).toEqual(['c2', 'c1', 'c4', 'c3']);
  });

  it("whose values do not fit the sort column's type are refused with 400, never a 500", async () => {
    for (const [sort, key] of [
      ['amount', ['x', 'r1']],
      ['amount', ['', 'r1']],
      ['-flag', ['yes', 'r1']],
      ['at', ['2024-13-01 00:00:00+00', 'r1']],
      ['at', ['2024-06-01 10:00:00+16', 'r1']],
      ['at', ['June', 'r1']],
      ['title', ['a\u0000', 'r1']],
      ['title', ['a', 'r\u0000']],
    ] as const) {
      const response = await read(token, `?sort=${sort}&cursor=${cursorOf([...key])}`);
      expect(response.statusCode, `${sort} ${JSON.stringify(key)}: ${response.body}`).toBe(400);
      expect(response.json().error).toMatchObject({
        code: 'validation_failed',
        details: [{ path: 'query.cursor', message: expect.any(String) }],
      });
    }
    // A cursor of another sort, by a client keeping it as it changes the sort.
    const byTitle = (await read(token, '?limit=1&sort=title')).json().nextCursor;
    expect((await read(token, `?sort=amount&cursor=${byTitle}`)).statusCode).toBe(400);
  });
});

describe('filters and cursors holding text PostgreSQL cannot take', () => {
  it('are refused with 400 naming the value or the cursor, never a 500', async () => {
    const token = await push('text-rule', {
      id: 't1',
      title: 'a',
      amount: 1,
      flag: true,
      at: '2024-01-01T00:00:00Z',
    });
    for (const column of ['title', 'amount', 'flag', 'at', 'id']) {
      for (const [op, value] of [
        ['eq', 'a%00b'],
        ['ne', '%00'],
        ['contains', 'a%00'],
        ['gte', '1%00'],
      ]) {
        const response = await read(token, `?filter=${column}:${op}:${value}`);
        expect(response.statusCode, `${column}:${op}:${value}: ${response.body}`).toBe(400);
        expect(response.json().error.code).toBe('validation_failed');
        expect(response.json().error.details).toEqual([
          { path: 'query.filter.0.value', message: 'must not contain NUL characters or unpaired surrogates' },
        ]);
      }
    }
    // The second filter is the bad one, and named so.
    const second = await read(token, '?filter=title:notnull&filter=title:eq:%00');
    expect(second.json().error.details[0].path).toBe('query.filter.1.value');
    // Unpaired surrogates cannot come through a URL's UTF-8, but can inside a cursor's JSON.
    for (const [sort, key] of [
      ['title', ['a\uD800', 't1']],
      ['title', ['a', 't\uDC00']],
      ['-amount', [null, '\uD800']],
      ['', [null, 't\uDBFF']],
    ] as const) {
      const response = await read(token, `?${sort ? `sort=${sort}&` : ''}cursor=${cursorOf([...key])}`);
      expect(response.statusCode, `${sort} ${JSON.stringify(key)}: ${response.body}`).toBe(400);
      expect(response.json().error).toMatchObject({
        code: 'validation_failed',
        details: [{ path: 'query.cursor' }],
      });
    }
    expect(await rows(token, '?filter=title:eq:a')).toHaveLength(1);
  });
});
