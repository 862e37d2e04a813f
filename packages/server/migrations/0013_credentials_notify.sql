-- Every change to API keys or tenants notifies CREDENTIALS_CHANNEL (auth/key-lookup.ts) at
-- COMMIT. On PGlite the server keeps the keys it found in memory and drops them on this
-- notification, so a revocation takes effect as soon as it commits, whichever code or
-- statement made it.
CREATE FUNCTION notify_credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('syncdeck_credentials', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_keys
  FOR EACH STATEMENT EXECUTE FUNCTION notify_credentials_changed();
CREATE TRIGGER tenants_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenants
  FOR EACH STATEMENT EXECUTE FUNCTION notify_credentials_changed();
