-- 0016_run_event_compression.sql: compress run event payloads with lz4 (issue 4's throughput).
--
-- A run started with its inline steps writes its events as one 'batch' row (0014): for a
-- linear run of five steps about 2 KB of jsonb, just over the size at which PostgreSQL
-- compresses a row's large values before storing it. With the default pglz that
-- compression was ~7 % of PostgreSQL's CPU per run start; lz4 compresses (and reads back)
-- several times faster, at a slightly lower ratio. Only new rows are affected; rows already
-- written keep their pglz compression and read as before.
--
-- A server built without lz4 (SET COMPRESSION then fails with feature_not_supported) keeps
-- pglz: nothing else depends on the method.
DO $$
BEGIN
    ALTER TABLE run_events ALTER COLUMN payload SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'run_events.payload keeps pglz compression: this server has no lz4';
END
$$;
