-- The feed keeps each change's payload as the JSON text its writer produced. Nothing queries
-- inside a payload and the realtime feed sends it on byte for byte, so the database neither
-- parses nor validates it: as text, storing a change costs a fraction of what jsonb (or even
-- json's validation) did. Retention prunes by seq (sync/retention.ts), so created_at needs no
-- index of its own.
DROP INDEX events_created_idx;
ALTER TABLE events ALTER COLUMN payload TYPE text USING payload::text;

DROP FUNCTION feed_append(jsonb);

-- As 0008's, with the changes as parallel arrays and the payloads as one text, separated by
-- the record separator U+001E (which JSON text never holds unescaped), so nothing is parsed.
-- Taking the numbers locks feed_counter's row until COMMIT, so sequence numbers become visible
-- in order across processes; the NOTIFY wakes every process's realtime feed (FEED_CHANNEL in
-- sync/store.ts). Returns the last seq, or NULL for none.
CREATE FUNCTION feed_append(tenant_ids uuid[], types text[], entity_ids uuid[], payloads text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  changes integer := coalesce(cardinality(types), 0);
  last_seq bigint;
BEGIN
  IF changes = 0 THEN
    RETURN NULL;
  END IF;
  UPDATE feed_counter SET seq = seq + changes WHERE id = 1 RETURNING seq INTO last_seq;
  INSERT INTO events (tenant_id, seq, type, entity, entity_id, payload)
  SELECT e.tenant_id, last_seq - changes + e.n, e.type, split_part(e.type, '.', 1), e.entity_id, e.payload
  FROM unnest(tenant_ids, types, entity_ids, string_to_array(payloads, E'\x1e'))
    WITH ORDINALITY AS e(tenant_id, type, entity_id, payload, n);
  PERFORM pg_notify('syncdeck_feed', last_seq::text);
  RETURN last_seq;
END
$$;

CREATE OR REPLACE FUNCTION tenant_data_push_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM feed_append(array_agg(tenant_id ORDER BY n), array_agg('table.synced'::text ORDER BY n),
    array_agg(table_id ORDER BY n),
    string_agg(json_build_object('id', table_id, 'restaurantId', tenant_id, 'table', table_name,
        'type', last_type, 'rows', rows,
        'syncedAt', to_char(synced_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text,
      E'\x1e' ORDER BY n))
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
