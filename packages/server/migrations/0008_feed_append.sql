-- One way to append to the change feed, for the ingest's writer (appendFeed) and for the
-- row-sync push trigger alike. `entries` is a JSON array of
-- {n, tenant_id, type, entity, entity_id, payload}, n = 1, 2, … in feed order. Taking the
-- numbers locks feed_counter's row until COMMIT, so sequence numbers become visible in order,
-- across processes; the NOTIFY (delivered at COMMIT) wakes every process's realtime feed on
-- the channel FEED_CHANNEL in sync/store.ts names. Returns the last seq, or NULL for none.
CREATE FUNCTION feed_append(entries jsonb) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  changes integer := coalesce(jsonb_array_length(entries), 0);
  last_seq bigint;
BEGIN
  IF changes = 0 THEN
    RETURN NULL;
  END IF;
  UPDATE feed_counter SET seq = seq + changes WHERE id = 1 RETURNING seq INTO last_seq;
  INSERT INTO events (tenant_id, seq, type, entity, entity_id, payload)
  SELECT e.tenant_id, last_seq - changes + e.n, e.type, e.entity, e.entity_id, e.payload
  FROM jsonb_to_recordset(entries) AS e(n bigint, tenant_id uuid, type text, entity text, entity_id uuid, payload jsonb);
  PERFORM pg_notify('syncdeck_feed', last_seq::text);
  RETURN last_seq;
END
$$;

-- The push trigger of 0007, appending through feed_append.
CREATE OR REPLACE FUNCTION tenant_data_push_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM feed_append(jsonb_agg(jsonb_build_object(
      'n', n, 'tenant_id', tenant_id, 'type', 'table.synced', 'entity', 'table', 'entity_id', table_id,
      'payload', jsonb_build_object('id', table_id, 'restaurantId', tenant_id, 'table', table_name,
        'type', last_type, 'rows', rows,
        'syncedAt', to_char(synced_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
    ) ORDER BY n))
  FROM (
    -- A table's id in the feed: stable, so a client can key the table by it.
    SELECT row_number() OVER (ORDER BY tenant_id, table_name) AS n, tenant_id, table_name,
      md5(tenant_id::text || '/' || table_name)::uuid AS table_id,
      (array_agg(event_type ORDER BY id DESC))[1] AS last_type, sum(rows)::integer AS rows,
      max(created_at) AS synced_at
    FROM pushed GROUP BY tenant_id, table_name
  ) AS per_table;
  RETURN NULL;
END
$$;
