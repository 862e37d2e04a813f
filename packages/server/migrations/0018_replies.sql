-- Replies (replies/): a message Syncdeck sends carries its delivery status, merged from the
-- outbox's outcome and the provider's status callbacks in the order of channels/delivery-status.ts.
-- Messages Syncdeck did not send (inbound, or pushed by a bot) have no status: NULL.
ALTER TABLE messages
  ADD COLUMN delivery_status text CHECK (delivery_status IN
    ('queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'undelivered')),
  ADD COLUMN delivery_error_code text,
  ADD COLUMN delivery_error text,
  -- The provider's id for the message we sent (Twilio's MessageSid): status callbacks find it by this.
  ADD COLUMN provider_message_id text,
  -- The sender's own id for a reply, so a retried request stores and sends it once.
  ADD COLUMN client_id text,
  -- The person who wrote a reply (no foreign key: removing a user keeps the transcript).
  ADD COLUMN author_user_id uuid;

-- Led by the id, not the tenant: a status callback names only the MessageSid, and this one index
-- both finds it and keeps it unique per tenant.
CREATE UNIQUE INDEX messages_provider_message_idx ON messages (provider_message_id, tenant_id)
  WHERE provider_message_id IS NOT NULL;
CREATE UNIQUE INDEX messages_client_id_idx ON messages (tenant_id, conversation_id, client_id)
  WHERE client_id IS NOT NULL;
