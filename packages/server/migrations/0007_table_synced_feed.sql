-- Every committed row-sync push also goes to the change feed, as one `table.synced` change per
-- tenant and table, so dashboards follow their synced tables and charts live. A statement
-- trigger on the push log: each of the module's ways to push (single changes in groups,
-- full syncs, the seed's clearing sync) already logs its push in the same transaction.
-- Numbers come from feed_counter exactly as the ingest's appendFeed takes them: its row lock
-- is held until COMMIT, so sequence numbers become visible in order.
CREATE FUNCTION tenant_data_push_feed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changes integer;
  last_seq bigint;
BEGIN
  SELECT count(*) INTO changes FROM (SELECT DISTINCT tenant_id, table_name FROM pushed) AS t;
  IF changes = 0 THEN
    RETURN NULL;
  END IF;
  UPDATE feed_counter SET seq = seq + changes WHERE id = 1 RETURNING seq INTO last_seq;
  INSERT INTO events (tenant_id, seq, type, entity, entity_id, payload)
  SELECT tenant_id, last_seq - changes + row_number() OVER (ORDER BY tenant_id, table_name),
    'table.synced', 'table', table_id,
    jsonb_build_object('id', table_id, 'restaurantId', tenant_id, 'table', table_name, 'type', last_type,
                       'rows', rows, 'syncedAt', to_char(synced_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
  FROM (
    -- A table's id in the feed: stable, so a client can key the table by it.
    SELECT tenant_id, table_name, md5(tenant_id::text || '/' || table_name)::uuid AS table_id,
      (array_agg(event_type ORDER BY id DESC))[1] AS last_type, sum(rows)::integer AS rows,
      max(created_at) AS synced_at
    FROM pushed GROUP BY tenant_id, table_name
  ) AS per_table;
  -- The channel every process's realtime feed listens on (FEED_CHANNEL in sync/store.ts).
  PERFORM pg_notify('syncdeck_feed', last_seq::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER tenant_data_push_feed AFTER INSERT ON tenant_data_push_log
  REFERENCING NEW TABLE AS pushed FOR EACH STATEMENT EXECUTE FUNCTION tenant_data_push_feed();
