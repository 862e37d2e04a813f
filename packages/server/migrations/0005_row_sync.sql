-- Row sync (seed 004): signed sources push their rows; each source keeps its rows in a schema
-- of its own (created by the server when the source is created, one table per target table),
-- and each tenant reads them through generated views in the `tenants` schema.

CREATE SCHEMA IF NOT EXISTS tenants;

CREATE TABLE sync_sources (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_]{1,39}$'),
  schema_name text NOT NULL UNIQUE CHECK (schema_name ~ '^[a-z][a-z0-9_]{1,39}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Sealed (AES-256-GCM) rather than hashed: the server must compute HMACs with them. One or two
-- per source, so a secret can be rotated without downtime.
CREATE TABLE sync_source_secrets (
  source_id uuid NOT NULL REFERENCES sync_sources (id) ON DELETE CASCADE,
  fingerprint text NOT NULL,
  sealed text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_id, fingerprint)
);

-- A target table belongs to one source, so `tenants."<tenant>_<table>"` names one thing.
CREATE TABLE sync_source_tables (
  source_id uuid NOT NULL REFERENCES sync_sources (id) ON DELETE CASCADE,
  source_table text NOT NULL CHECK (source_table ~ '^[a-z_][a-z0-9_]{0,62}$'),
  target_table text NOT NULL CHECK (target_table ~ '^[a-z][a-z0-9_]{0,25}$'),
  PRIMARY KEY (source_id, source_table)
);
CREATE INDEX sync_source_tables_target_idx ON sync_source_tables (target_table);

-- The source's own tenant ids, mapped to Syncdeck tenants.
CREATE TABLE sync_source_tenants (
  source_id uuid NOT NULL REFERENCES sync_sources (id) ON DELETE CASCADE,
  external_id text NOT NULL,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_id, external_id)
);
CREATE INDEX sync_source_tenants_tenant_idx ON sync_source_tenants (tenant_id);

-- Standard Webhooks `webhook-id`s already applied: a redelivery is acknowledged, not re-applied.
CREATE TABLE webhook_deliveries (
  source_id uuid NOT NULL REFERENCES sync_sources (id) ON DELETE CASCADE,
  webhook_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_id, webhook_id)
);
CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at);

-- Every attempt, including the ones refused before anything was parsed. History, not state:
-- the ids are kept as they were (no foreign keys to check on every line written).
CREATE TABLE webhook_logs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  source_name text NOT NULL,
  source_id uuid,
  tenant_id uuid,
  external_tenant_id text,
  event_type text,
  table_name text,
  sync_id text,
  rows integer NOT NULL DEFAULT 0,
  result text NOT NULL CHECK (result IN ('applied', 'ignored', 'duplicate', 'staged', 'rejected', 'failed')),
  status integer NOT NULL,
  duration_ms double precision NOT NULL,
  error text,
  webhook_id text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_logs_created_idx ON webhook_logs (created_at, id);
CREATE INDEX webhook_logs_tenant_idx ON webhook_logs (tenant_id, created_at, id);

-- Which columns were pushed for each tenant and table, and the type its view gives them.
CREATE TABLE tenant_column_access (
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  source_id uuid NOT NULL REFERENCES sync_sources (id) ON DELETE CASCADE,
  table_name text NOT NULL,
  column_name text NOT NULL,
  data_type text NOT NULL CHECK (data_type IN ('text', 'numeric', 'boolean', 'timestamptz', 'jsonb')),
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, table_name, column_name)
);

-- A full sync run in progress: its batches are staged until the last one commits.
CREATE TABLE full_sync_runs (
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  source_id uuid NOT NULL REFERENCES sync_sources (id) ON DELETE CASCADE,
  table_name text NOT NULL,
  sync_id text NOT NULL,
  received integer NOT NULL DEFAULT 0,
  total integer,
  started_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  PRIMARY KEY (tenant_id, table_name, sync_id)
);
CREATE INDEX full_sync_runs_open_idx ON full_sync_runs (updated_at) WHERE completed_at IS NULL;

CREATE TABLE tenant_data_push_log (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  source_id uuid REFERENCES sync_sources (id) ON DELETE SET NULL,
  table_name text NOT NULL,
  event_type text NOT NULL,
  rows integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenant_data_push_log_tenant_idx ON tenant_data_push_log (tenant_id, created_at);
CREATE INDEX tenant_data_push_log_created_idx ON tenant_data_push_log (created_at);

-- Charts are declarative specs over a tenant's synced tables; the cache is stale from the
-- moment a table it reads is pushed. `cache_version` moves on every such push, so a
-- recompute that read older data can never mark the cache fresh.
CREATE TABLE charts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name text NOT NULL,
  spec jsonb NOT NULL,
  cache_status text NOT NULL DEFAULT 'stale' CHECK (cache_status IN ('fresh', 'stale')),
  cache_version bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
CREATE INDEX charts_tenant_idx ON charts (tenant_id, created_at, id);

CREATE TABLE chart_table_dependencies (
  tenant_id uuid NOT NULL,
  chart_id uuid NOT NULL,
  table_name text NOT NULL,
  PRIMARY KEY (tenant_id, table_name, chart_id),
  FOREIGN KEY (tenant_id, chart_id) REFERENCES charts (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE chart_data_cache (
  chart_id uuid PRIMARY KEY REFERENCES charts (id) ON DELETE CASCADE,
  tenant_id uuid NOT NULL,
  result jsonb NOT NULL,
  cache_version bigint NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now()
);
