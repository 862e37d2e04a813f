-- The overview's per-day counts: conversations opened and messages sent in a date range are
-- read as index ranges, not by scanning the tenant's rows (orders use orders_created_idx).
CREATE INDEX conversations_created_idx ON conversations (tenant_id, created_at);
CREATE INDEX messages_created_idx ON messages (tenant_id, created_at);
