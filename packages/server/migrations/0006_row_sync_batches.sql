-- A staged full sync keeps each batch as it arrived, one row per offset, instead of a staging
-- table per run with a row per record: a batch is one write (its records compressed together,
-- no per-record index entries), and the last batch expands them into the live table once.
CREATE TABLE full_sync_batches (
  tenant_id uuid NOT NULL,
  table_name text NOT NULL,
  sync_id text NOT NULL,
  batch_offset integer NOT NULL,
  rows integer NOT NULL,
  -- `[{id, u, d}]`: the batch's records with their key and updated_at, a repeated key kept once.
  records jsonb NOT NULL,
  PRIMARY KEY (tenant_id, table_name, sync_id, batch_offset)
);

-- Which row positions of the run have arrived: a run is complete when they cover `total`. Kept
-- on the run's row, which every batch updates under its row lock, so two batches committing at
-- once both count.
ALTER TABLE full_sync_runs ADD COLUMN covered int4multirange NOT NULL DEFAULT '{}';

-- Runs in progress staged their rows in a table of their own, which this version no longer
-- reads: they are dropped and the runs closed, so their old rows stay (as for any run that stops
-- half-way) and a sender's next full sync starts afresh.
DO $$
DECLARE run record;
BEGIN
  FOR run IN
    SELECT s.schema_name, r.table_name, r.tenant_id, r.sync_id
    FROM full_sync_runs r JOIN sync_sources s ON s.id = r.source_id
    WHERE r.completed_at IS NULL
  LOOP
    EXECUTE format('DROP TABLE IF EXISTS %I.%I', run.schema_name,
      run.table_name || '__run_' || left(md5(run.tenant_id::text || ':' || run.sync_id), 24));
  END LOOP;
  UPDATE full_sync_runs SET completed_at = now() WHERE completed_at IS NULL;
END $$;
