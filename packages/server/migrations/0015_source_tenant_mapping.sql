-- A source's tenant ids can now be mapped to existing tenants by an admin, not only created by a
-- first push. `origin` says which made the mapping; `updated_at` when it last pointed somewhere.
ALTER TABLE sync_source_tenants
  ADD COLUMN origin text NOT NULL DEFAULT 'push' CHECK (origin IN ('push', 'admin')),
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
UPDATE sync_source_tenants SET updated_at = created_at;

-- One tenant takes one tenant id of a source: a tenant's rows of a table are keyed by row id
-- alone, so two tenant ids in one tenant would overwrite each other's rows, and a full sync of
-- one would remove the other's. Every tenant a push created is its own, so no install has two.
CREATE UNIQUE INDEX sync_source_tenants_one_per_tenant ON sync_source_tenants (source_id, tenant_id);
