import type { Conversation, Message } from '@syncdeck/core';
import { describe, expect, it } from 'vitest';
import { spawnedServerPerTest } from '../testing/harness.ts';
import { adminKeyOf, runCli, type ServerProcess } from '../testing/process.ts';
import { DEMO_KEY_NAME } from './simulator.ts';

const spawned = spawnedServerPerTest();

async function get<T>(path: string, token: string, tenant?: string): Promise<T> {
  const response = await fetch(spawned.server.url + path, {
    headers: { authorization: `Bearer ${token}`, ...(tenant ? { 'x-tenant-id': tenant } : {}) },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

async function startDemo(): Promise<ServerProcess> {
  const started = await spawned.start(['--demo'], 30_000);
  const deadline = Date.now() + 20_000;
  while (!/^Demo: .*sufrah, ocean.*@syncdeck\/sdk/m.test(started.output())) {
    if (Date.now() > deadline) throw new Error(`the demo did not start:\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return started;
}

/** Waits until the read API shows a conversation with messages; the time it took. */
async function conversationsWithMessages(token: string, withinMs: number): Promise<Conversation[]> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const conversations = await get<Conversation[]>('/api/db/conversations', token);
    const withMessages = conversations.filter((c) => c.messageCount > 0);
    if (withMessages.length > 0) return withMessages;
    if (Date.now() > deadline) throw new Error(`no conversation with messages within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('syncdeck start --demo', () => {
  it('fills both restaurants with live conversations through the SDK within seconds, and restarts idempotently', async () => {
    await startDemo();
    const demoStarted = Date.now();
    const adminKey = adminKeyOf(spawned.server);

    // A read key per restaurant, made the way a newcomer would: with the CLI.
    const readKeys: Record<string, string> = {};
    for (const slug of ['sufrah', 'ocean']) {
      const created = await runCli(
        ['key', 'create', '--tenant', slug, '--scopes', 'read', '--json'],
        spawned.database.env,
      );
      expect(created.code).toBe(0);
      readKeys[slug] = (JSON.parse(created.stdout) as { token: string }).token;
    }
    for (const slug of ['sufrah', 'ocean']) {
      const conversations = await conversationsWithMessages(
        readKeys[slug]!,
        10_000 - (Date.now() - demoStarted),
      );
      const messages = await get<Message[]>(
        `/api/db/conversations/${conversations[0]!.id}/messages`,
        readKeys[slug]!,
      );
      expect(messages.length).toBeGreaterThan(0);
      expect(messages[0]!.content.length).toBeGreaterThan(0);
    }

    // A restart finds its restaurants by slug and replaces its own key.
    expect(await spawned.stop('SIGTERM')).toBe(0);
    await startDemo();
    const tenants = await get<{ data: { slug: string }[] }>('/api/admin/tenants', adminKey);
    expect(tenants.data.map((t) => t.slug).sort()).toEqual(['ocean', 'sufrah']);
    const keys = await get<{ data: { name: string; revokedAt: string | null }[] }>(
      '/api/admin/keys',
      adminKey,
      'sufrah',
    );
    const demoKeys = keys.data.filter((key) => key.name === DEMO_KEY_NAME);
    expect(demoKeys).toHaveLength(2);
    expect(demoKeys.filter((key) => key.revokedAt === null)).toHaveLength(1);
    // The read key made before the restart still reads, and the demo goes on.
    const before = await get<{ totalConversations: number }>('/api/db/conversations/stats', readKeys.ocean!);
    expect(before.totalConversations).toBeGreaterThan(0);
  }, 120_000);
});
