-- The bot registry and the bots' session store.

-- Set when an admin registers a bot; NULL for a sender ingest met before anyone registered it,
-- which a registration then claims rather than refusing as a duplicate.
ALTER TABLE bots ADD COLUMN registered_at timestamptz;
ALTER TABLE bots ADD CONSTRAINT bots_status_check
  CHECK (status IN ('pending', 'verifying', 'active', 'failed', 'inactive'));
CREATE INDEX bots_created_idx ON bots (tenant_id, created_at, id);
-- Whether a bot has history (delete deactivates it then), and the foreign-key check of a delete.
CREATE INDEX conversations_bot_idx ON conversations (tenant_id, bot_id);

-- Versions come from one sequence rather than counting from 1 per session: a session deleted
-- and created again never reuses a version, so a stale If-Match can never match by accident.
CREATE SEQUENCE bot_session_versions;

CREATE TABLE bot_sessions (
  tenant_id uuid NOT NULL,
  bot_id uuid NOT NULL,
  customer_key text NOT NULL,
  state jsonb NOT NULL,
  version bigint NOT NULL,
  -- NULL: kept until deleted. Past: reads as absent, removed by the hourly prune.
  expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, bot_id, customer_key),
  FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX bot_sessions_expires_idx ON bot_sessions (expires_at) WHERE expires_at IS NOT NULL;
