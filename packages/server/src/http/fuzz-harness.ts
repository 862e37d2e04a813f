/*
 * What the fuzz test (fuzz.test.ts) checks of every answer, and how it sends: requests in a
 * pool of concurrent app.inject calls, every answer under 500 with the one error shape, and
 * the row counts that show whether a refused request wrote anything.
 */
import { appendFileSync } from 'node:fs';
import { errorBodySchema } from '@syncdeck/core';
import { expect } from 'vitest';
import type { Db } from '../db/index.ts';
import type { TestApp } from '../testing/harness.ts';

const CONCURRENCY = 8;

type Response = Awaited<ReturnType<TestApp['app']['inject']>>;
export interface Sent {
  method: string;
  url: string;
  payload: string | Buffer;
  response: Response;
}

/** Runs `send` over `items`, `CONCURRENCY` at a time. */
export async function inPool<T>(items: T[], send: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await send(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

export function describeSent({ method, url, payload, response }: Sent): string {
  const text = Buffer.isBuffer(payload) ? `<bytes ${payload.toString('hex').slice(0, 200)}>` : payload;
  return `${method} ${url} ${text.slice(0, 400)} -> ${response.statusCode} ${response.body.slice(0, 500)}`;
}

/**
 * Set FUZZ_FINDINGS to a file to have every 5xx appended to it, whole, for whoever fixes the
 * route (the assertion message cuts long bodies).
 */
function record5xx(sent: Sent): void {
  const file = process.env.FUZZ_FINDINGS;
  if (!file || sent.response.statusCode < 500) return;
  const body = Buffer.isBuffer(sent.payload) ? sent.payload.toString('hex') : sent.payload;
  appendFileSync(
    file,
    `${new Date().toISOString()} ${sent.method} ${sent.url}\nbody: ${body.slice(0, 4000)}\nresponse: ${sent.response.statusCode} ${sent.response.body}\n\n`,
  );
}

/** The error shape every refusal shares; a 400 for a body's content names its fields. */
function expectErrorShape(sent: Sent): void {
  const what = describeSent(sent);
  const parsed = errorBodySchema.safeParse(sent.response.json());
  expect(parsed.success, what).toBe(true);
  expect(parsed.data!.error.requestId, what).toBeTruthy();
  // A body that is not JSON, or that smuggles `__proto__`, is `invalid_json`: no field to name.
  if (sent.response.statusCode === 400 && parsed.data!.error.code !== 'invalid_json')
    expect((parsed.data!.error.details ?? []).length, what).toBeGreaterThan(0);
}

/**
 * Fails on any 5xx, after recording it; answers the statuses seen. `shape: false` skips the
 * error-shape check, for malformed URLs: Fastify's router refuses a path whose percent-encoding
 * is not UTF-8 (FST_ERR_BAD_URL) with a 400 body of its own, before the app's error handler.
 */
export function expectNo5xx(sent: Sent[], { shape = true } = {}): Map<number, number> {
  const statuses = new Map<number, number>();
  for (const one of sent) record5xx(one);
  for (const one of sent) {
    statuses.set(one.response.statusCode, (statuses.get(one.response.statusCode) ?? 0) + 1);
    expect(one.response.statusCode, describeSent(one)).toBeLessThan(500);
    if (shape && one.response.statusCode >= 400) expectErrorShape(one);
  }
  return statuses;
}

/** Rows in every table of every schema, and how many tables and views there are. */
export async function rowCounts(db: Db, except: string[]): Promise<Record<string, number>> {
  const relations = await db.query<{ schema: string; name: string; kind: string }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname NOT LIKE 'pg\\_%'`,
  );
  const counts: Record<string, number> = { relations: relations.rows.length };
  for (const { schema, name, kind } of relations.rows) {
    if (kind === 'v' || except.includes(name)) continue;
    const quoted = `"${schema.replaceAll('"', '""')}"."${name.replaceAll('"', '""')}"`;
    const result = await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM ${quoted}`);
    counts[`${schema}.${name}`] = Number(result.rows[0]!.n);
  }
  return counts;
}
