-- 0003_runtime_flow.sql: what the run-time needs for fan-outs, compensation, waits for
-- events, sub-workflows and per-key concurrency (docs/workflows.md describes each).

-- Runs. New states between running and the end:
--   failing     a step failed: compensations run (reverse completion order), then the
--               workflow's on_failure steps; the run ends `failed`.
--   cancelling  cancelled while steps were running or with compensations to run; the run
--               ends `cancelled`.
-- `pending` (already allowed) is a run waiting for a concurrency slot of its key.
ALTER TABLE workflow_runs DROP CONSTRAINT workflow_runs_status_check;
ALTER TABLE workflow_runs ADD CONSTRAINT workflow_runs_status_check
    CHECK (status IN ('pending', 'running', 'waiting', 'failing', 'cancelling', 'succeeded',
                      'failed', 'cancelled'));
-- The step whose failure made the run fail (read by on_failure steps as run.failed_step).
ALTER TABLE workflow_runs ADD COLUMN failed_step text;

DROP INDEX workflow_runs_active_idx;
CREATE INDEX workflow_runs_active_idx ON workflow_runs (created_at)
    WHERE status IN ('pending', 'running', 'waiting', 'failing', 'cancelling');
-- Concurrency: active runs of a key are counted, pending ones start oldest first.
DROP INDEX workflow_runs_concurrency_idx;
CREATE INDEX workflow_runs_concurrency_idx ON workflow_runs (concurrency_key, created_at, id)
    WHERE concurrency_key IS NOT NULL
      AND status IN ('pending', 'running', 'waiting', 'failing', 'cancelling');

-- Steps. `item` is the element of a for_each collection an item row (item_index >= 0)
-- runs with; rows of compensations are named 'compensate:<step id>'.
ALTER TABLE step_runs ADD COLUMN item jsonb;
-- The rows of a run that are not fan-out items: what the run-time loads to plan a run,
-- whatever the size of its fan-outs.
CREATE INDEX step_runs_parent_idx ON step_runs (run_id, id) WHERE item_index = -1;
-- The reconciler's scan of rows that should have a live job, now keyed like the rows, so a
-- probe for one item goes straight to it: the hot statements of a fan-out look items up by
-- (run, step, item), and an index on run_id alone (0002) made them walk every entry of the
-- run, dead ones included, when the planner picked it.
DROP INDEX step_runs_live_idx;
CREATE INDEX step_runs_live_idx ON step_runs (run_id, step_id, item_index)
    WHERE status IN ('queued', 'running', 'retrying', 'waiting');

-- One row per for_each step that started: where its items come from and how far it got.
-- The items run in `lanes` (min(max_parallel, total)) lanes: lane l runs items l, l+lanes,
-- l+2*lanes, … one at a time, and the statement that records an item's result creates the
-- row of the next item of its lane. So at most `lanes` items are unfinished at any time,
-- each finished item creates at most one row, no statement of an item waits for another
-- item's, and a fan-out of any size needs bounded memory. A lane ends when it runs out of
-- items or the fan-out stops; the fan-out is finished when every lane ended.
CREATE TABLE step_fanouts (
    run_id           uuid NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
    step_id          text NOT NULL,
    -- {"kind": "inline", "items": [...]} | {"kind": "range", "start": S, "step": D}
    -- | {"kind": "collection", "id": uuid} | {"kind": "step_outputs", "step": id}
    source           jsonb NOT NULL,
    total            bigint NOT NULL CHECK (total >= 0),
    max_parallel     integer NOT NULL CHECK (max_parallel > 0),
    lanes            integer NOT NULL CHECK (lanes >= 0),
    lanes_done       integer NOT NULL DEFAULT 0,
    stopping         boolean NOT NULL DEFAULT false,   -- lanes take no further items
    -- Counted when the fan-out finishes.
    succeeded_count  bigint NOT NULL DEFAULT 0,
    failed_count     bigint NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, step_id)
);

-- Stored collections: a step that produces a large collection writes its elements here
-- (for instance with one INSERT ... SELECT from its own query) and returns the handle
-- {"$collection": {"id": ...}}; a for_each reads one element at a time, by index.
CREATE TABLE collections (
    id          uuid PRIMARY KEY,                     -- UUIDv7, from the application
    run_id      uuid REFERENCES workflow_runs (id) ON DELETE CASCADE,  -- its owner
    item_count  bigint NOT NULL CHECK (item_count >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE collection_items (
    collection_id  uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    idx            bigint NOT NULL CHECK (idx >= 0),
    item           jsonb NOT NULL,
    PRIMARY KEY (collection_id, idx)
);

-- Steps waiting for something outside the run: an event with a key (wait.event), or a
-- child run (workflow.run waits for the event 'workflow.finished' keyed by the child's id).
-- A wait is resolved once, by the event or by its timeout, whichever comes first.
CREATE TABLE run_waits (
    id           uuid PRIMARY KEY,                    -- UUIDv7, from the application
    run_id       uuid NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
    step_id      text NOT NULL,
    item_index   integer NOT NULL DEFAULT -1,
    event        text NOT NULL,
    key          text NOT NULL,
    timeout_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz,
    outcome      text CHECK (outcome IN ('event', 'timeout', 'cancelled')),
    payload      jsonb,
    CONSTRAINT run_waits_step_key UNIQUE (run_id, step_id, item_index),
    CONSTRAINT run_waits_resolution CHECK ((resolved_at IS NULL) = (outcome IS NULL))
);
CREATE INDEX run_waits_open_idx ON run_waits (event, key) WHERE resolved_at IS NULL;

-- Events emitted to waiting runs (`artistsaid events emit`, webhooks, finished child runs),
-- kept so a step that starts waiting just after its event arrived still sees it (events
-- since the waiting run was created count).
CREATE TABLE workflow_events (
    id          uuid PRIMARY KEY,                     -- UUIDv7, from the application
    name        text NOT NULL CHECK (name ~ '^[!-~]{1,200}$'),  -- printable, no spaces
    key         text NOT NULL,
    payload     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workflow_events_lookup_idx ON workflow_events (name, key, created_at);
