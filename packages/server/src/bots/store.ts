import type { Bot, BotStatus, DeletedBot, RestaurantBot } from '@syncdeck/core';
import type { Db, Queryable } from '../db/index.ts';
import { AppError } from '../lib/errors.ts';
import {
  type PageQuery,
  decodeCursor,
  type Page,
  sqlMicros,
  timeKeySchema,
  toPage,
} from '../lib/pagination.ts';
import { iso } from '../lib/time.ts';
import { whatsappAddress } from '../lib/phones.ts';
import { appendFeed, type FeedEntry, recordChange } from '../feed/index.ts';

export interface BotRow {
  tenant_id: string;
  id: string;
  channel: 'whatsapp' | 'telegram' | 'web';
  address: string;
  name: string;
  restaurant_name: string | null;
  sender_sid: string | null;
  waba_id: string | null;
  account_sid: string | null;
  has_auth_token: boolean;
  has_telegram_token: boolean;
  status: string;
  support_contact: string | null;
  registered_at: Date | null;
  created_at: Date;
  updated_at: Date;
  created_us: number;
}

// The sealed token never leaves the database through these columns; only whether there is one.
export const COLUMNS = `tenant_id, id, channel, address, name, restaurant_name, sender_sid, waba_id, account_sid,
  auth_token_encrypted IS NOT NULL AS has_auth_token, telegram_token_encrypted IS NOT NULL AS has_telegram_token, status, support_contact, registered_at, created_at,
  updated_at, ${sqlMicros('created_at')} AS created_us`;

const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';

/** Stored lower case (ingest's default is `active`), shown upper case as the seed does. */
function wireStatus(stored: string): BotStatus {
  return stored.toUpperCase() as BotStatus;
}

export function botObject(row: BotRow): Bot {
  const status = wireStatus(row.status);
  return {
    id: row.id,
    restaurantId: row.tenant_id,
    name: row.name,
    restaurantName: row.restaurant_name,
    channel: row.channel,
    address: row.address,
    whatsappNumber: row.channel === 'whatsapp' ? whatsappAddress(row.address) : null,
    senderSid: row.sender_sid,
    wabaId: row.waba_id,
    accountSid: row.account_sid,
    hasAuthToken: row.has_auth_token,
    hasTelegramToken: row.has_telegram_token,
    status,
    isActive: status === 'ACTIVE',
    supportContact: row.support_contact,
    registeredAt: iso(row.registered_at),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/** What anyone who may read the tenant sees of a bot: the seed's restaurant bot list item. */
export function restaurantBotObject(row: BotRow): RestaurantBot {
  const bot = botObject(row);
  return {
    id: bot.id,
    name: bot.name,
    restaurantName: bot.restaurantName,
    whatsappNumber: bot.whatsappNumber,
    status: bot.status,
    isActive: bot.isActive,
    createdAt: bot.createdAt,
    updatedAt: bot.updatedAt,
  };
}

/**
 * Bot changes go on the change feed like every other change, carrying only what a reader of
 * the tenant may see: provider ids stay with the admin API.
 */
async function recordBotChange(tx: Queryable, type: 'bot.updated' | 'bot.deleted', row: BotRow) {
  const feed: FeedEntry[] = [];
  recordChange(feed, type, { ...restaurantBotObject(row), restaurantId: row.tenant_id });
  await appendFeed(tx, feed);
}

function duplicateNumber(address: string): AppError {
  return AppError.conflict(`A bot with WhatsApp number ${address} is already registered in this tenant`, [
    { path: 'whatsappNumber', message: 'already registered' },
  ]);
}

export interface NewBot {
  name: string;
  restaurantName: string;
  /** E.164. */
  address: string;
  accountSid: string;
  sealedAuthToken: string;
  senderSid: string | null;
  wabaId: string | null;
  status: BotStatus;
  supportContact: string | null;
}

/**
 * Registers a WhatsApp sender. A sender ingest already met (never registered) is claimed and
 * filled in; one an admin registered before is a conflict.
 */
export async function registerBot(db: Db, tenantId: string, bot: NewBot): Promise<Bot> {
  return db.transaction(async (tx) => {
    const result = await tx.query<BotRow>(
      `INSERT INTO bots AS b (tenant_id, channel, address, name, restaurant_name, account_sid, auth_token_encrypted,
         sender_sid, waba_id, status, support_contact, registered_at)
       VALUES ($1, 'whatsapp', $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
       ON CONFLICT (tenant_id, channel, address) DO UPDATE SET
         name = EXCLUDED.name, restaurant_name = EXCLUDED.restaurant_name, account_sid = EXCLUDED.account_sid,
         auth_token_encrypted = EXCLUDED.auth_token_encrypted, sender_sid = EXCLUDED.sender_sid,
         waba_id = EXCLUDED.waba_id, status = EXCLUDED.status, support_contact = EXCLUDED.support_contact,
         registered_at = now(), updated_at = now()
       WHERE b.registered_at IS NULL
       RETURNING ${COLUMNS}`,
      [
        tenantId,
        bot.address,
        bot.name,
        bot.restaurantName,
        bot.accountSid,
        bot.sealedAuthToken,
        bot.senderSid,
        bot.wabaId,
        bot.status.toLowerCase(),
        bot.supportContact,
      ],
    );
    const row = result.rows[0];
    if (!row) throw duplicateNumber(bot.address);
    await recordBotChange(tx, 'bot.updated', row);
    return botObject(row);
  });
}

export async function findBot(q: Queryable, tenantId: string, id: string): Promise<Bot | null> {
  const result = await q.query<BotRow>(`SELECT ${COLUMNS} FROM bots WHERE tenant_id = $1 AND id = $2`, [
    tenantId,
    id,
  ]);
  return result.rows[0] ? botObject(result.rows[0]) : null;
}

/** The sealed auth token of a bot, for the code that talks to the provider. */
export async function findSealedAuthToken(
  q: Queryable,
  tenantId: string,
  id: string,
): Promise<string | null> {
  const result = await q.query<{ auth_token_encrypted: string | null }>(
    'SELECT auth_token_encrypted FROM bots WHERE tenant_id = $1 AND id = $2',
    [tenantId, id],
  );
  return result.rows[0]?.auth_token_encrypted ?? null;
}

/** The tenant's bots, newest first; auto-registered senders included. */
export async function listBots(
  q: Queryable,
  tenantId: string,
  page: PageQuery & { status?: BotStatus | undefined },
): Promise<Page<Bot>> {
  const [beforeUs, beforeId] = page.cursor
    ? // Whole microseconds only: any other number would reach the ::bigint cast and fail there.
      decodeCursor(page.cursor, timeKeySchema)
    : [Number.MAX_SAFE_INTEGER, 'ffffffff-ffff-ffff-ffff-ffffffffffff'];
  const result = await q.query<BotRow>(
    `SELECT ${COLUMNS} FROM bots
     WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
       AND (${sqlMicros('created_at')}, id) < ($3::bigint, $4::uuid)
     ORDER BY created_at DESC, id DESC LIMIT $5`,
    [tenantId, page.status?.toLowerCase() ?? null, beforeUs, beforeId, page.limit + 1],
  );
  return toPage(result.rows, page.limit, botObject, (row) => [row.created_us, row.id]);
}

/** A bot with the tenant it belongs to, as a platform admin's list across tenants shows it. */
export type BotWithTenant = Bot & { tenant: { id: string; slug: string; name: string } };

/**
 * Every tenant's bots, newest first, each with its tenant: the platform admin's view (seed
 * 001's all-restaurants page). The same key as `listBots`, so its cursors page the same way;
 * bot ids are UUIDs, unique across tenants, so (created_at, id) orders the whole table.
 */
export async function listAllBots(
  q: Queryable,
  page: PageQuery & { status?: BotStatus | undefined },
): Promise<Page<BotWithTenant>> {
  const [beforeUs, beforeId] = page.cursor
    ? decodeCursor(page.cursor, timeKeySchema)
    : [Number.MAX_SAFE_INTEGER, 'ffffffff-ffff-ffff-ffff-ffffffffffff'];
  // The page is chosen in bots alone, then joined to its tenants: at most `limit + 1` lookups.
  const result = await q.query<BotRow & { tenant_slug: string; tenant_name: string }>(
    `SELECT b.*, t.slug AS tenant_slug, t.name AS tenant_name
     FROM (SELECT ${COLUMNS} FROM bots
           WHERE ($1::text IS NULL OR status = $1)
             AND (${sqlMicros('created_at')}, id) < ($2::bigint, $3::uuid)
           ORDER BY created_at DESC, id DESC LIMIT $4) b
     JOIN tenants t ON t.id = b.tenant_id
     ORDER BY b.created_at DESC, b.id DESC`,
    [page.status?.toLowerCase() ?? null, beforeUs, beforeId, page.limit + 1],
  );
  return toPage(
    result.rows,
    page.limit,
    (row) => ({
      ...botObject(row),
      tenant: { id: row.tenant_id, slug: row.tenant_slug, name: row.tenant_name },
    }),
    (row) => [row.created_us, row.id],
  );
}

/** Most bots `GET /api/db/restaurants/:id/bots` answers; the seed's list has no pages. */
export const RESTAURANT_BOTS_LIMIT = 1000;

/** Every bot of a tenant, oldest first, in the seed's read shape. */
export async function listRestaurantBots(q: Queryable, tenantId: string): Promise<RestaurantBot[]> {
  const result = await q.query<BotRow>(
    `SELECT ${COLUMNS} FROM bots WHERE tenant_id = $1 ORDER BY created_at, id LIMIT $2`,
    [tenantId, RESTAURANT_BOTS_LIMIT],
  );
  return result.rows.map(restaurantBotObject);
}

export interface BotChanges {
  name?: string | undefined;
  restaurantName?: string | undefined;
  /** E.164. */
  address?: string | undefined;
  accountSid?: string | undefined;
  sealedAuthToken?: string | undefined;
  senderSid?: string | null | undefined;
  wabaId?: string | null | undefined;
  status?: BotStatus | undefined;
  supportContact?: string | null | undefined;
}

const changeColumns: Record<keyof BotChanges, string> = {
  name: 'name',
  restaurantName: 'restaurant_name',
  address: 'address',
  accountSid: 'account_sid',
  sealedAuthToken: 'auth_token_encrypted',
  senderSid: 'sender_sid',
  wabaId: 'waba_id',
  status: 'status',
  supportContact: 'support_contact',
};

/** Applies the given fields; null when the tenant has no such bot. */
export async function updateBot(
  db: Db,
  tenantId: string,
  id: string,
  changes: BotChanges,
): Promise<Bot | null> {
  const sets: string[] = [];
  const params: unknown[] = [tenantId, id];
  for (const [field, column] of Object.entries(changeColumns) as [keyof BotChanges, string][]) {
    const value = changes[field];
    if (value === undefined) continue;
    params.push(field === 'status' && value ? value.toLowerCase() : value);
    sets.push(`${column} = $${params.length}`);
  }
  try {
    return await db.transaction(async (tx) => {
      if (changes.address !== undefined) {
        const current = await tx.query<{ channel: string }>(
          'SELECT channel FROM bots WHERE tenant_id = $1 AND id = $2',
          [tenantId, id],
        );
        if (current.rows[0] && current.rows[0].channel !== 'whatsapp') {
          throw AppError.badRequest('The request is not valid', [
            {
              path: 'whatsappNumber',
              message: `this is a ${current.rows[0].channel} bot, not a WhatsApp sender`,
            },
          ]);
        }
      }
      const result = await tx.query<BotRow>(
        `UPDATE bots SET ${sets.join(', ')}, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
        params,
      );
      const row = result.rows[0];
      if (!row) return null;
      await recordBotChange(tx, 'bot.updated', row);
      return botObject(row);
    });
  } catch (error) {
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw duplicateNumber(changes.address ?? '');
    throw error;
  }
}

/**
 * Deletes a bot that has no conversations. One with history is deactivated instead, so its
 * conversations and messages keep their sender; so is one that gains a conversation while
 * being deleted (the foreign key refuses the delete). Null when the tenant has no such bot.
 */
export async function deleteBot(db: Db, tenantId: string, id: string): Promise<DeletedBot | null> {
  let deleted: BotRow | undefined;
  try {
    deleted = await db.transaction(async (tx) => {
      const result = await tx.query<BotRow>(
        `DELETE FROM bots b WHERE tenant_id = $1 AND id = $2
           AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.tenant_id = b.tenant_id AND c.bot_id = b.id)
         RETURNING ${COLUMNS}`,
        [tenantId, id],
      );
      const row = result.rows[0];
      if (row) await recordBotChange(tx, 'bot.deleted', row);
      return row;
    });
  } catch (error) {
    if ((error as { code?: string }).code !== FOREIGN_KEY_VIOLATION) throw error;
  }
  if (deleted) {
    return {
      success: true,
      deleted: true,
      deactivated: false,
      message: 'Bot deleted',
      bot: botObject(deleted),
    };
  }
  const deactivated = await db.transaction(async (tx) => {
    const result = await tx.query<BotRow>(
      `UPDATE bots SET status = 'inactive', updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [tenantId, id],
    );
    const row = result.rows[0];
    if (row) await recordBotChange(tx, 'bot.updated', row);
    return row;
  });
  if (!deactivated) return null;
  return {
    success: true,
    deleted: false,
    deactivated: true,
    message:
      'The bot has conversations, so it was deactivated (status INACTIVE) instead of deleted; its history is kept',
    bot: botObject(deactivated),
  };
}
