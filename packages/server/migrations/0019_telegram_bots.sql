-- Channels Syncdeck owns (inbound/): providers call Syncdeck directly, and each request is
-- matched to its bot before anything about it is trusted.

-- A Telegram bot's token, sealed like the Twilio auth token, and the secret_token given to
-- setWebhook, sealed too: Telegram sends it back in X-Telegram-Bot-Api-Secret-Token on every
-- update, and it is all that proves an update came from Telegram. The bot's Telegram id stays
-- where ingest already finds it, in `address`.
ALTER TABLE bots
  ADD COLUMN telegram_token_encrypted text,
  ADD COLUMN telegram_secret_encrypted text,
  ADD COLUMN telegram_webhook_set_at timestamptz;

-- Twilio's webhook names the sender by number and nothing else Syncdeck knows: the lookup runs
-- across tenants, so it cannot use the (tenant_id, channel, address) key.
CREATE INDEX bots_channel_address_idx ON bots (channel, address);
-- Telegram's webhook names the bot by its Syncdeck id alone (the URL given to setWebhook).
CREATE INDEX bots_id_idx ON bots (id);
