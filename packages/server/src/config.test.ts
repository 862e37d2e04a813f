import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('has defaults for a newcomer: port 8080, PGlite in ./data', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir).toMatch(/\/data$/);
    expect(config.publicUrl).toBe('http://localhost:8080');
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL: must be a postgres/);
    expect(() => loadConfig({ COOKIE_SECURE: 'maybe' })).toThrow(/COOKIE_SECURE/);
  });

  it('runs one group-commit transaction at a time on PGlite and four on PostgreSQL, unless told', () => {
    expect(loadConfig({}).ingestConcurrentTransactions).toBe(1);
    expect(loadConfig({ DATABASE_URL: 'postgres://x@localhost/db' }).ingestConcurrentTransactions).toBe(4);
    expect(loadConfig({ INGEST_CONCURRENT_TRANSACTIONS: '3' }).ingestConcurrentTransactions).toBe(3);
  });

  it('takes the optiqo source secret from OPTIQO_WEBHOOK_SECRET, refusing a short one', () => {
    expect(loadConfig({}).optiqoWebhookSecret).toBeUndefined();
    expect(loadConfig({ OPTIQO_WEBHOOK_SECRET: 'a-shared-secret-of-seed-004' }).optiqoWebhookSecret).toBe(
      'a-shared-secret-of-seed-004',
    );
    expect(() => loadConfig({ OPTIQO_WEBHOOK_SECRET: 'short' })).toThrow(/OPTIQO_WEBHOOK_SECRET/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).port).toBe(8080);
  });
});
