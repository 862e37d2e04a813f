import { describe, expect, it } from 'vitest';
import { addsColumns, columnsOf, isPrintedTimestamp, isTimestamp } from './columns.ts';

describe('isTimestamp', () => {
  it('takes ISO-8601 dates and date-times PostgreSQL reads as written', () => {
    for (const value of [
      '2024-06-01',
      '2024-06-01T10:00',
      '2024-06-01 10:00:59',
      '2024-06-01T23:59:59.123456Z',
      '2024-06-01T10:00:00+03:00',
      '2024-06-01T10:00:00-0330',
      '2024-06-01T10:00z',
      '2024-02-29',
      '2000-02-29T00:00:00Z',
      '0001-01-01',
      '2024-06-01T10:00:00+15:59',
      '2024-06-01T10:00:00-15:59',
      '2024-06-01T10:00+1559',
      '2024-06-01 10:00:00.5-15',
    ])
      expect(isTimestamp(value), value).toBe(true);
  });

  it('refuses impossible dates and times, and other text', () => {
    for (const value of [
      '2023-02-29',
      '1900-02-29',
      '2024-04-31',
      '2024-13-01',
      '2024-00-10',
      '2024-06-00',
      '0000-01-01',
      '2024-06-01T24:00:00Z',
      '2024-06-01T10:60',
      '2024-06-01T10:00:60Z',
      '2024-06-01T10:00:00.1234567Z',
      '2024-06-01T10',
      // Offsets PostgreSQL refuses ("time zone displacement out of range").
      '2024-06-01T10:00:00+16:00',
      '2024-06-01T10:00:00-16:00',
      '2024-06-01T10:00:00+05:99',
      '2024-06-01T10:00:00+0560',
      '2024-06-01T10:00+99',
      '2024-06-01T10:00:00.123-1600',
      '2024-6-1',
      ' 2024-06-01',
      'June 1st',
      '',
    ])
      expect(isTimestamp(value), value).toBe(false);
  });
});

describe('isPrintedTimestamp', () => {
  it('takes timestamps as PostgreSQL prints them, and nothing it could not read back', () => {
    for (const value of [
      '2024-06-01 10:00:00+00',
      '2024-06-01 10:00:00.123456+05:30',
      '1900-01-01 00:00:00+00:19:32',
      '0001-12-31 23:00:00+00 BC',
      '0005-02-29 00:00:00+00 BC',
      '10000-01-01 04:00:00+00',
    ])
      expect(isPrintedTimestamp(value), value).toBe(true);
    for (const value of [
      '2024-06-01T10:00:00Z',
      '2024-06-01 10:00:00',
      '2024-06-01 10:00:00+16',
      '2024-06-01 10:00:00+05:60',
      '2024-02-30 10:00:00+00',
      '2023-02-29 10:00:00+00',
      '0004-02-29 00:00:00+00 BC',
      '0000-01-01 00:00:00+00',
      '2024-06-01 24:00:00+00',
      '999999-01-01 00:00:00+00',
      'x',
    ])
      expect(isPrintedTimestamp(value), value).toBe(false);
  });
});

describe('column types', () => {
  it('types columns by their values, widening mixed ones, and sees when records add or widen one', () => {
    const records = [
      { id: 'a', at: '2024-06-01T10:00:00Z', n: 1, ok: true, note: null },
      { id: 'b', at: '2024-06-02', n: 2.5, ok: false, note: 'x', tags: ['a'] },
    ];
    const known = columnsOf(records);
    expect(Object.fromEntries(known)).toEqual({
      id: 'text',
      at: 'timestamptz',
      n: 'numeric',
      ok: 'boolean',
      note: 'text',
      tags: 'jsonb',
    });
    expect(addsColumns(known, records)).toBe(false);
    expect(addsColumns(known, [{ id: 'c', at: 'not a date' }])).toBe(true);
    expect(addsColumns(known, [{ id: 'c', n: '3' }])).toBe(true);
    expect(addsColumns(known, [{ id: 'c', fresh: 1 }])).toBe(true);
    expect(columnsOf([...records, { id: 'c', at: '2024-02-30' }]).get('at')).toBe('text');
    expect(columnsOf([...records, { id: 'c', at: '2024-06-01T10:00:00+16:00' }]).get('at')).toBe('text');
    expect(addsColumns(known, [{ id: 'c', at: '2024-06-01T10:00:00+05:99' }])).toBe(true);
  });
});
