import type { Bot, BotStatus } from '@syncdeck/core';
import { BOT_COLUMNS, type BotRow, botObject, restaurantBotObject } from '../bots/index.ts';
import type { Db, Queryable } from '../db/index.ts';
import { appendFeed, type FeedEntry, recordChange } from '../feed/index.ts';
import { iso } from '../lib/time.ts';

/** A WhatsApp sender an inbound Twilio request may be for, with what checks its signature. */
export interface TwilioSenderRow {
  tenant_id: string;
  id: string;
  account_sid: string | null;
  auth_token_encrypted: string;
}

/**
 * The registered senders with this number, across tenants, earliest registered first. Only a
 * registered sender with an auth token can check a signature; one ingest merely met cannot.
 */
export async function twilioSendersByNumber(q: Queryable, e164: string): Promise<TwilioSenderRow[]> {
  const result = await q.query<TwilioSenderRow>(
    `SELECT tenant_id, id, account_sid, auth_token_encrypted FROM bots
     WHERE channel = 'whatsapp' AND address = $1 AND registered_at IS NOT NULL
       AND auth_token_encrypted IS NOT NULL
     ORDER BY registered_at, id`,
    [e164],
  );
  return result.rows;
}

export interface TelegramWebhookRow {
  tenant_id: string;
  id: string;
  /** The bot's Telegram id. */
  address: string;
  telegram_secret_encrypted: string;
}

/** The Telegram bot a webhook URL names, when it has a webhook secret; bot ids are UUIDs. */
export async function telegramBotForWebhook(q: Queryable, botId: string): Promise<TelegramWebhookRow | null> {
  const result = await q.query<TelegramWebhookRow>(
    `SELECT tenant_id, id, address, telegram_secret_encrypted FROM bots
     WHERE id = $1 AND channel = 'telegram' AND telegram_secret_encrypted IS NOT NULL`,
    [botId],
  );
  // Two tenants holding one UUID cannot happen by chance; refuse rather than pick one.
  return result.rows.length === 1 ? result.rows[0]! : null;
}

/** A bot as the admin sees it, with when its Telegram webhook was set. */
export type TelegramBot = Bot & { telegramWebhookSetAt: string | null };

type TelegramBotRow = BotRow & { telegram_webhook_set_at: Date | null };

const COLUMNS = `${BOT_COLUMNS}, telegram_webhook_set_at`;

function telegramBotObject(row: TelegramBotRow): TelegramBot {
  return { ...botObject(row), telegramWebhookSetAt: iso(row.telegram_webhook_set_at) };
}

async function recordBotChange(tx: Queryable, row: BotRow): Promise<void> {
  const feed: FeedEntry[] = [];
  recordChange(feed, 'bot.updated', { ...restaurantBotObject(row), restaurantId: row.tenant_id });
  await appendFeed(tx, feed);
}

/** The tenant's bot with this Telegram id, if any: its id, and whether an admin registered it. */
export async function findTelegramBotByAddress(
  q: Queryable,
  tenantId: string,
  address: string,
): Promise<{ id: string; registered: boolean } | null> {
  const result = await q.query<{ id: string; registered: boolean }>(
    `SELECT id, registered_at IS NOT NULL AS registered FROM bots
     WHERE tenant_id = $1 AND channel = 'telegram' AND address = $2`,
    [tenantId, address],
  );
  return result.rows[0] ?? null;
}

/** The channel and address of a tenant's bot, or null. */
export async function findBotChannel(
  q: Queryable,
  tenantId: string,
  id: string,
): Promise<{ channel: string; address: string } | null> {
  const result = await q.query<{ channel: string; address: string }>(
    'SELECT channel, address FROM bots WHERE tenant_id = $1 AND id = $2',
    [tenantId, id],
  );
  return result.rows[0] ?? null;
}

export interface NewTelegramBot {
  /** Chosen before setWebhook, since the webhook URL carries it. */
  id: string;
  /** The bot's Telegram id. */
  address: string;
  name: string;
  restaurantName: string | null;
  status: BotStatus;
  supportContact: string | null;
  sealedToken: string;
  sealedSecret: string;
}

/**
 * Stores a Telegram bot whose webhook is set. A bot ingest met first (never registered) is
 * claimed and keeps its id; null when an admin registered one with this Telegram id meanwhile.
 */
export async function saveTelegramBot(
  db: Db,
  tenantId: string,
  bot: NewTelegramBot,
): Promise<TelegramBot | null> {
  return db.transaction(async (tx) => {
    const result = await tx.query<TelegramBotRow>(
      `INSERT INTO bots AS b (tenant_id, id, channel, address, name, restaurant_name, status, support_contact,
         telegram_token_encrypted, telegram_secret_encrypted, telegram_webhook_set_at, registered_at)
       VALUES ($1, $2, 'telegram', $3, $4, $5, $6, $7, $8, $9, now(), now())
       ON CONFLICT (tenant_id, channel, address) DO UPDATE SET
         name = EXCLUDED.name, restaurant_name = EXCLUDED.restaurant_name, status = EXCLUDED.status,
         support_contact = EXCLUDED.support_contact, telegram_token_encrypted = EXCLUDED.telegram_token_encrypted,
         telegram_secret_encrypted = EXCLUDED.telegram_secret_encrypted, telegram_webhook_set_at = now(),
         registered_at = now(), updated_at = now()
       WHERE b.registered_at IS NULL
       RETURNING ${COLUMNS}`,
      [
        tenantId,
        bot.id,
        bot.address,
        bot.name,
        bot.restaurantName,
        bot.status.toLowerCase(),
        bot.supportContact,
        bot.sealedToken,
        bot.sealedSecret,
      ],
    );
    const row = result.rows[0];
    if (!row) return null;
    await recordBotChange(tx, row);
    return telegramBotObject(row);
  });
}

/** Replaces a Telegram bot's token and webhook secret; null when the tenant has no such bot. */
export async function replaceTelegramToken(
  db: Db,
  tenantId: string,
  id: string,
  sealedToken: string,
  sealedSecret: string,
): Promise<TelegramBot | null> {
  return db.transaction(async (tx) => {
    const result = await tx.query<TelegramBotRow>(
      `UPDATE bots SET telegram_token_encrypted = $3, telegram_secret_encrypted = $4,
         telegram_webhook_set_at = now(), registered_at = coalesce(registered_at, now()), updated_at = now()
       WHERE tenant_id = $1 AND id = $2 AND channel = 'telegram'
       RETURNING ${COLUMNS}`,
      [tenantId, id, sealedToken, sealedSecret],
    );
    const row = result.rows[0];
    if (!row) return null;
    await recordBotChange(tx, row);
    return telegramBotObject(row);
  });
}
