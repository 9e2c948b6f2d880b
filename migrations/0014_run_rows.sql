-- 0014_run_rows.sql: fewer rows and bytes per workflow run (issue 4's throughput).
--
-- 1. Definition snapshots are stored once per distinct content, not once per run.
--    workflow_definitions becomes content-addressed: one row per (checksum, source_path),
--    i.e. per exact YAML text (and the file it came from). A run references its row by
--    `definition_id` instead of carrying a copy in `definition`; rows written before this
--    migration keep their copy (exactly one of the two is set). The snapshot rows are
--    immutable (no UPDATE) and cannot be deleted while a run references them, so a run
--    still reads exactly the definition it started with — also after the YAML changed
--    (with or without a new `version:`): the changed text is another row.
ALTER TABLE workflow_definitions DROP CONSTRAINT workflow_definitions_name_version_key;
CREATE UNIQUE INDEX workflow_definitions_content_key
    ON workflow_definitions (checksum, coalesce(source_path, ''));
CREATE INDEX workflow_definitions_name_version_idx ON workflow_definitions (name, version);
CREATE TRIGGER workflow_definitions_no_update
    BEFORE UPDATE ON workflow_definitions
    FOR EACH ROW EXECUTE FUNCTION forbid_modification();

-- No index on definition_id: it is only read through the run, and a snapshot is never
-- deleted (a DELETE of a referenced one fails on the foreign key).
ALTER TABLE workflow_runs ALTER COLUMN definition DROP NOT NULL;
ALTER TABLE workflow_runs ADD COLUMN definition_id bigint REFERENCES workflow_definitions (id);
ALTER TABLE workflow_runs ADD CONSTRAINT workflow_runs_definition_once
    CHECK ((definition IS NULL) <> (definition_id IS NULL));

-- 2. The events of a run written by the start-time write buffer (a run started with its
--    inline steps, store::RunWriteBuffer) are one row of kind 'batch' whose payload is
--    {"events": [{"id", "kind", "step_run_id", "payload"}, ...]} in the order they
--    happened, instead of one row each (a linear run of 5 inline steps: 1 row, not 12).
--    They all happened in one transaction, so they share its timestamp either way.
--    Read events through run_event_log: every event, batched or not, one row each, with
--    the columns of run_events; order by (created_at, id) as before (ids are UUIDv7 drawn
--    in order).
CREATE VIEW run_event_log AS
SELECT e.id, e.run_id, e.step_run_id, e.kind, e.payload, e.created_at
FROM run_events e
WHERE e.kind <> 'batch'
UNION ALL
SELECT (x.event->>'id')::uuid, b.run_id, (x.event->>'step_run_id')::uuid, x.event->>'kind',
       coalesce(x.event->'payload', '{}'::jsonb), b.created_at
FROM run_events b
CROSS JOIN LATERAL jsonb_array_elements(b.payload->'events') AS x(event)
WHERE b.kind = 'batch';
