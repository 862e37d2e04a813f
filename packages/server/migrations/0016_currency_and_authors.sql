-- A tenant's amounts (order totals, revenue) are in one currency, an ISO 4217 code; tenants made
-- before this had none said, and get the default. A constant default adds the column without
-- rewriting the table.
ALTER TABLE tenants ADD COLUMN currency text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$');

-- Who wrote a message: the customer, the bot, or a person (an agent, by name) answering through
-- the bot. Rows stored before this have no author: they read as the customer (IN) or the bot
-- (OUT), so nothing is rewritten here; new rows always say.
ALTER TABLE messages
  ADD COLUMN author_type text CHECK (author_type IN ('customer', 'bot', 'agent')),
  ADD COLUMN author_name text;
