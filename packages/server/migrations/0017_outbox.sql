-- The durable outbox (outbox/): what has to leave Syncdeck — a reply through Twilio or Telegram,
-- an inbound message to a bot's webhookUrl — is a row here, inserted in the transaction that
-- makes it necessary, and sent by workers in any server process.

CREATE TABLE outbox_deliveries (
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  kind text NOT NULL CHECK (kind IN ('twilio', 'telegram', 'webhook')),
  bot_id uuid,
  -- The message it carries, when it carries one; no foreign key, so the outbox never orders
  -- how messages are written or removed.
  message_id uuid,
  -- What the handler needs besides credentials, which it looks up when it sends (never stored here).
  payload jsonb NOT NULL,
  -- queued: waiting for next_attempt_at. sending: claimed, next_attempt_at is the end of the
  -- lease, after which another worker may claim it again. sent, failed: final.
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- Transient failures stop being retried after this.
  give_up_at timestamptz NOT NULL,
  -- Set at each claim: only the holder of the latest claim records the outcome on the row.
  claim_token uuid,
  claimed_by text,
  provider_id text,
  last_code text,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id) ON DELETE CASCADE
);
-- The workers' claim: the due rows, oldest first, across tenants. Small, since finished rows leave it.
CREATE INDEX outbox_due_idx ON outbox_deliveries (next_attempt_at) WHERE status IN ('queued', 'sending');
-- A bot's delivery log, newest first.
CREATE INDEX outbox_bot_idx ON outbox_deliveries (tenant_id, bot_id, created_at DESC, id DESC);
CREATE INDEX outbox_message_idx ON outbox_deliveries (tenant_id, message_id) WHERE message_id IS NOT NULL;
-- Pruning finished deliveries.
CREATE INDEX outbox_completed_idx ON outbox_deliveries (completed_at) WHERE completed_at IS NOT NULL;

-- One row per claim: started when claimed, finished when the outcome is recorded. A row never
-- finished is a worker that crashed or lost its lease while sending.
CREATE TABLE outbox_attempts (
  tenant_id uuid NOT NULL,
  delivery_id uuid NOT NULL,
  attempt integer NOT NULL,
  claimed_by text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  outcome text CHECK (outcome IN ('sent', 'retry', 'failed')),
  provider_id text,
  code text,
  reason text,
  http_status integer,
  -- The start of what the provider answered, for the delivery log.
  response text,
  retry_after_ms integer,
  PRIMARY KEY (tenant_id, delivery_id, attempt),
  FOREIGN KEY (tenant_id, delivery_id) REFERENCES outbox_deliveries (tenant_id, id) ON DELETE CASCADE
);

-- Every insert wakes the workers of every process (LISTEN syncdeck_outbox) at COMMIT, whatever
-- code inserted it; the timer each worker also runs only bounds a lost notification.
CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('syncdeck_outbox', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER outbox_enqueued AFTER INSERT ON outbox_deliveries
  FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();
