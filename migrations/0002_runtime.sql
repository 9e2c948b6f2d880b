-- 0002_runtime.sql: states the workflow run-time needs beyond the initial schema.
--   queued     a step whose needs are met and whose job has been enqueued; the reconciler
--              re-enqueues queued steps whose job Redis lost.
--   continued  a step that failed for good with `on_error: continue`: it counts as finished
--              for `needs`, and the run goes on.
ALTER TABLE step_runs DROP CONSTRAINT step_runs_status_check;
ALTER TABLE step_runs ADD CONSTRAINT step_runs_status_check
    CHECK (status IN ('pending', 'queued', 'running', 'waiting', 'retrying', 'succeeded',
                      'failed', 'continued', 'skipped', 'cancelled', 'compensated'));

-- The reconciler's scan: steps that should have a live job.
CREATE INDEX step_runs_live_idx ON step_runs (run_id)
    WHERE status IN ('queued', 'running', 'retrying', 'waiting');
