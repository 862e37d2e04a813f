-- The write model bots push into, and the change feed every reader follows.

CREATE TABLE bots (
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  channel text NOT NULL CHECK (channel IN ('whatsapp', 'telegram', 'web')),
  -- E.164 phone for WhatsApp, the bot id for Telegram, the widget id for web.
  address text NOT NULL,
  name text NOT NULL,
  restaurant_name text,
  sender_sid text,
  waba_id text,
  account_sid text,
  auth_token_encrypted text,
  status text NOT NULL DEFAULT 'active',
  support_contact text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, channel, address)
);

CREATE TABLE customers (
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  display_name text,
  phone text,
  whatsapp_phone text,
  telegram_chat_id text,
  telegram_topic_id text,
  telegram_group_id text,
  syrve_customer_id text,
  web_session_id text,
  primary_channel text,
  preferred_language text,
  trust_level text,
  first_seen_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);

-- How a customer is found: phone (E.164), telegram chat, Syrve id, web session.
CREATE TABLE customer_identities (
  tenant_id uuid NOT NULL,
  kind text NOT NULL,
  value text NOT NULL,
  customer_id uuid NOT NULL,
  PRIMARY KEY (tenant_id, kind, value),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE conversations (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  bot_id uuid NOT NULL,
  customer_id uuid NOT NULL,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
  is_bot_active boolean NOT NULL DEFAULT true,
  unread_count integer NOT NULL DEFAULT 0,
  message_count integer NOT NULL DEFAULT 0,
  last_message_at timestamptz,
  last_message_preview text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);
-- At most one active conversation per customer and bot, whatever the concurrency.
CREATE UNIQUE INDEX conversations_one_active_idx ON conversations (tenant_id, bot_id, customer_id) WHERE status = 'active';
CREATE INDEX conversations_customer_idx ON conversations (tenant_id, customer_id);

CREATE TABLE messages (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  conversation_id uuid NOT NULL,
  direction text NOT NULL CHECK (direction IN ('IN', 'OUT')),
  message_type text NOT NULL,
  content text NOT NULL,
  media_url text,
  wa_sid text,
  metadata jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id)
);
CREATE UNIQUE INDEX messages_wa_sid_idx ON messages (tenant_id, wa_sid) WHERE wa_sid IS NOT NULL;
CREATE INDEX messages_conversation_idx ON messages (tenant_id, conversation_id, created_at, id);

CREATE TABLE orders (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  syrve_order_id text NOT NULL,
  customer_id uuid NOT NULL,
  external_number text,
  items jsonb NOT NULL DEFAULT '[]',
  total numeric,
  delivery_address text,
  payment_method text,
  restaurant text,
  channel text,
  status text NOT NULL DEFAULT 'created',
  status_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, syrve_order_id),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);
CREATE INDEX orders_customer_idx ON orders (tenant_id, customer_id, created_at);

-- Every status ever reported, with its time. Kept even before the order arrives, so a status
-- that overtakes its order.created still applies.
CREATE TABLE order_status_history (
  tenant_id uuid NOT NULL,
  syrve_order_id text NOT NULL,
  status text NOT NULL,
  occurred_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_status_history_idx ON order_status_history (tenant_id, syrve_order_id, occurred_at);

CREATE TABLE escalations (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  customer_id uuid NOT NULL,
  conversation_id uuid,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  reason text,
  resolution_summary text,
  resolved_by text,
  metadata jsonb NOT NULL DEFAULT '{}',
  opened_at timestamptz NOT NULL,
  resolved_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);
CREATE UNIQUE INDEX escalations_one_open_idx ON escalations (tenant_id, customer_id) WHERE status = 'open';

-- Event ids already applied; pruned after the retention window.
CREATE TABLE idempotency_keys (
  tenant_id uuid NOT NULL,
  event_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- The change feed. seq comes from feed_counter, whose row lock is held from the moment a
-- transaction takes its numbers until it commits: a later seq can never commit before an
-- earlier one, so a reader that has seen N and asks for > N misses nothing.
CREATE TABLE feed_counter (
  id integer PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL
);
INSERT INTO feed_counter (id, seq) VALUES (1, 0);

CREATE TABLE events (
  tenant_id uuid NOT NULL,
  seq bigint NOT NULL,
  type text NOT NULL,
  entity text NOT NULL,
  entity_id uuid NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX events_seq_idx ON events (seq);
CREATE INDEX events_created_idx ON events (created_at);
