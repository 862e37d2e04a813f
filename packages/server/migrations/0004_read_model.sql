-- The dashboard's read model: indexes for its lists and searches, and per-tenant
-- conversation counters kept by triggers, so the ingest code writes them without knowing.

-- Trigram indexes make `ILIKE '%text%'` an index search. pg_trgm is a trusted extension
-- (PostgreSQL 13+), and PGlite loads it at open (db/pglite.ts).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Conversations newest activity first. A conversation whose every message was a redelivery
-- has no last_message_at: it sorts by when it was opened.
CREATE INDEX conversations_recent_idx
  ON conversations (tenant_id, (COALESCE(last_message_at, created_at)) DESC, id DESC);
CREATE INDEX conversations_status_recent_idx
  ON conversations (tenant_id, status, (COALESCE(last_message_at, created_at)) DESC, id DESC);

-- Messages pages use messages_conversation_idx (tenant_id, conversation_id, created_at, id) both ways.
CREATE INDEX messages_content_trgm_idx ON messages USING gin (content gin_trgm_ops);

-- Customers by when they were first stored, which never changes: a customer update (last
-- seen, on every message) touches no indexed column and stays a cheap HOT update.
CREATE INDEX customers_created_idx ON customers (tenant_id, created_at DESC, id DESC);
CREATE INDEX customers_search_trgm_idx ON customers USING gin (
  (COALESCE(display_name, '') || ' ' || COALESCE(phone, '') || ' ' || COALESCE(whatsapp_phone, '')) gin_trgm_ops
);

CREATE INDEX orders_created_idx ON orders (tenant_id, created_at DESC, id DESC);
CREATE INDEX orders_status_created_idx ON orders (tenant_id, status, created_at DESC, id DESC);

CREATE INDEX escalations_opened_idx ON escalations (tenant_id, opened_at DESC, id DESC);
CREATE INDEX escalations_status_opened_idx ON escalations (tenant_id, status, opened_at DESC, id DESC);
CREATE INDEX escalations_customer_idx ON escalations (tenant_id, customer_id, opened_at DESC);

-- Per-tenant counters for GET /api/db/conversations/stats, which must not count rows.
-- Each tenant has up to 8 slots (by backend), summed when read: writers on different
-- connections add to different rows instead of queueing on one.
CREATE TABLE conversation_stats (
  tenant_id uuid NOT NULL,
  slot smallint NOT NULL,
  total_conversations bigint NOT NULL DEFAULT 0,
  active_conversations bigint NOT NULL DEFAULT 0,
  total_unread bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, slot)
);

-- Statement-level, with transition tables: one counter write per statement and tenant,
-- however many rows the statement touched. Tenants are taken in order so two
-- transactions touching the same tenants never wait on each other in a cycle.
CREATE FUNCTION conversation_stats_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM conversation_stats;
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO conversation_stats AS s (tenant_id, slot, total_conversations, active_conversations, total_unread)
    SELECT tenant_id, pg_backend_pid() % 8, count(*), count(*) FILTER (WHERE status = 'active'), sum(unread_count)
    FROM new_rows GROUP BY tenant_id ORDER BY tenant_id
    ON CONFLICT (tenant_id, slot) DO UPDATE SET
      total_conversations = s.total_conversations + excluded.total_conversations,
      active_conversations = s.active_conversations + excluded.active_conversations,
      total_unread = s.total_unread + excluded.total_unread;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO conversation_stats AS s (tenant_id, slot, total_conversations, active_conversations, total_unread)
    SELECT tenant_id, pg_backend_pid() % 8, sum(n), sum(active), sum(unread)
    FROM (
      SELECT tenant_id, 1 AS n, (status = 'active')::int AS active, unread_count AS unread FROM new_rows
      UNION ALL
      SELECT tenant_id, -1, -((status = 'active')::int), -unread_count FROM old_rows
    ) delta
    GROUP BY tenant_id
    -- An update that changes no counter (the bot switched on or off) writes nothing.
    HAVING sum(n) <> 0 OR sum(active) <> 0 OR sum(unread) <> 0
    ORDER BY tenant_id
    ON CONFLICT (tenant_id, slot) DO UPDATE SET
      total_conversations = s.total_conversations + excluded.total_conversations,
      active_conversations = s.active_conversations + excluded.active_conversations,
      total_unread = s.total_unread + excluded.total_unread;
  ELSE
    INSERT INTO conversation_stats AS s (tenant_id, slot, total_conversations, active_conversations, total_unread)
    SELECT tenant_id, pg_backend_pid() % 8, -count(*), -count(*) FILTER (WHERE status = 'active'), -sum(unread_count)
    FROM old_rows GROUP BY tenant_id ORDER BY tenant_id
    ON CONFLICT (tenant_id, slot) DO UPDATE SET
      total_conversations = s.total_conversations + excluded.total_conversations,
      active_conversations = s.active_conversations + excluded.active_conversations,
      total_unread = s.total_unread + excluded.total_unread;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER conversation_stats_insert AFTER INSERT ON conversations
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION conversation_stats_apply();
CREATE TRIGGER conversation_stats_update AFTER UPDATE ON conversations
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION conversation_stats_apply();
CREATE TRIGGER conversation_stats_delete AFTER DELETE ON conversations
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION conversation_stats_apply();
CREATE TRIGGER conversation_stats_truncate AFTER TRUNCATE ON conversations
  FOR EACH STATEMENT EXECUTE FUNCTION conversation_stats_apply();

-- Counters for the conversations already stored. CREATE INDEX and CREATE TRIGGER above already
-- hold locks that keep writers out until this commits; the explicit lock says so.
LOCK TABLE conversations IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO conversation_stats (tenant_id, slot, total_conversations, active_conversations, total_unread)
SELECT tenant_id, 0, count(*), count(*) FILTER (WHERE status = 'active'), sum(unread_count)
FROM conversations GROUP BY tenant_id;
