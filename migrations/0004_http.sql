-- The HTTP server's webhooks (engine/http/webhook_receiver.cpp).
--
-- A delivery is stored (deduplicated by (provider, provider_event_id)) before the 2xx and
-- then processed: matching workflows started, waiting runs resumed. `claimed_at` and
-- `attempts` let a sweeper in any server process finish events whose processing was
-- interrupted (a crash, PostgreSQL or Redis down) without two servers working on one
-- event at the same time; `correlation_key` is what wait.event steps are resumed by.
ALTER TABLE webhook_events
    ADD COLUMN correlation_key text,
    ADD COLUMN attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    ADD COLUMN claimed_at      timestamptz;
