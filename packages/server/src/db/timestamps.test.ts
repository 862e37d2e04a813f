import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { parseTimestamptz } from './timestamps.ts';

const general = pg.types.getTypeParser(1184, 'text') as (value: string) => unknown;

describe('parseTimestamptz', () => {
  it('reads what PostgreSQL writes exactly as pg’s own parser does', () => {
    const samples = [
      '2026-11-23 18:00:19.123456+00',
      '2026-11-23 18:00:19+00',
      '2026-11-23 18:00:19.1+00',
      '2026-11-23 18:00:19.12+00',
      '2026-11-23 18:00:19.999999+00',
      '2026-01-01 00:00:00.000001+05:30',
      '1999-12-31 23:59:59.5-08',
      '2024-02-29 12:00:00.25-03:30',
      '0099-06-15 10:00:00+00',
    ];
    for (let i = 0; i < 500; i++) {
      const at = new Date(
        Date.UTC(1970 + (i % 80), i % 12, 1 + (i % 28), i % 24, (i * 7) % 60, (i * 13) % 60),
      );
      samples.push(
        `${at.toISOString().slice(0, 19).replace('T', ' ')}.${String(i * 1997)
          .padStart(6, '0')
          .slice(0, 6)}+00`,
      );
    }
    for (const sample of samples) {
      expect(parseTimestamptz(sample), sample).toEqual(general(sample));
    }
  });

  it('hands what it does not know to pg’s parser', () => {
    for (const sample of ['infinity', '-infinity', '2026-11-23 18:00:19 BC+00', '12026-11-23 18:00:19+00']) {
      expect(parseTimestamptz(sample), sample).toEqual(general(sample));
    }
  });
});
