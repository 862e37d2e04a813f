/** The bots a batch's events name, found by id or address, or registered on first sight. */
import type { Queryable } from '../db/index.ts';
import type { PreparedEvent } from './prepare.ts';
import type { BatchOutcome } from './store.ts';
import { type Found, forgetEventIds, key, type WithBot } from './lookup.ts';

/**
 * The bots events name: by id they must exist (else the event is rejected and its id freed);
 * by address they are registered on first sight. At most three statements for all of them.
 */
export async function resolveBots(
  tx: Queryable,
  events: PreparedEvent[],
  withBot: number[],
  outcomes: (BatchOutcome | undefined)[],
  found: Found | null,
): Promise<Map<number, string>> {
  const botOf = new Map<number, string>();
  const byId = withBot.filter((i) => (events[i] as WithBot).bot.id);
  if (byId.length > 0) {
    const known =
      found?.botIds ??
      new Set(
        (
          await tx.query<{ tenant_id: string; id: string }>(
            `SELECT b.tenant_id, b.id FROM bots b JOIN unnest($1::uuid[], $2::uuid[]) AS w(tenant_id, id)
             ON b.tenant_id = w.tenant_id AND b.id = w.id`,
            [byId.map((i) => events[i]!.tenantId), byId.map((i) => (events[i] as WithBot).bot.id)],
          )
        ).rows.map((row) => key(row.tenant_id, row.id)),
      );
    const refused: number[] = [];
    for (const index of byId) {
      const event = events[index] as WithBot;
      if (known.has(key(event.tenantId, event.bot.id!))) botOf.set(index, event.bot.id!);
      else {
        outcomes[index] = {
          status: 'rejected',
          details: [{ path: 'data.bot.id', message: 'no such bot in this tenant' }],
        };
        if (event.eventId) refused.push(index);
      }
    }
    await forgetEventIds(
      tx,
      refused.map((i) => events[i]!),
    );
  }
  const byAddress = withBot.filter((i) => !(events[i] as WithBot).bot.id);
  if (byAddress.length === 0) return botOf;
  const wanted = new Map<string, { tenantId: string; channel: string; address: string }>();
  for (const index of byAddress) {
    const { tenantId, bot } = events[index] as WithBot;
    wanted.set(key(tenantId, bot.channel!, bot.address!), {
      tenantId,
      channel: bot.channel!,
      address: bot.address!,
    });
  }
  const list = [...wanted.values()];
  const botKey = (row: { tenant_id: string; channel: string; address: string }) =>
    key(row.tenant_id, row.channel, row.address);
  const idOf = new Map<string, string>();
  const find = async (bots: typeof list) => {
    const found = await tx.query<{ tenant_id: string; channel: string; address: string; id: string }>(
      `SELECT b.tenant_id, b.channel, b.address, b.id FROM bots b
       JOIN unnest($1::uuid[], $2::text[], $3::text[]) AS w(tenant_id, channel, address)
       ON b.tenant_id = w.tenant_id AND b.channel = w.channel AND b.address = w.address`,
      [bots.map((b) => b.tenantId), bots.map((b) => b.channel), bots.map((b) => b.address)],
    );
    for (const row of found.rows) idOf.set(botKey(row), row.id);
  };
  const missing = () => list.filter((b) => !idOf.has(key(b.tenantId, b.channel, b.address)));
  if (found) {
    for (const b of list) {
      const id = found.botsByAddress.get(key(b.tenantId, b.channel, b.address));
      if (id) idOf.set(key(b.tenantId, b.channel, b.address), id);
    }
  } else {
    await find(list);
  }
  if (missing().length > 0) {
    // A sender that pushes before an admin registered it is registered on the spot.
    const unknown = missing();
    const registered = await tx.query<{ tenant_id: string; channel: string; address: string; id: string }>(
      `INSERT INTO bots (tenant_id, channel, address, name)
       SELECT tenant_id, channel, address, channel || ' ' || address FROM unnest($1::uuid[], $2::text[], $3::text[])
         AS w(tenant_id, channel, address)
       ON CONFLICT (tenant_id, channel, address) DO NOTHING RETURNING tenant_id, channel, address, id`,
      [unknown.map((b) => b.tenantId), unknown.map((b) => b.channel), unknown.map((b) => b.address)],
    );
    for (const row of registered.rows) idOf.set(botKey(row), row.id);
    // Another transaction registered some of them meanwhile: a new statement sees its rows.
    if (missing().length > 0) await find(missing());
  }
  for (const index of byAddress) {
    const { tenantId, bot } = events[index] as WithBot;
    botOf.set(index, idOf.get(key(tenantId, bot.channel!, bot.address!))!);
  }
  return botOf;
}
