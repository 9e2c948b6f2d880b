-- Step plugins (issue 6): text messages sent through a provider (Twilio), one row per
-- step execution (idempotency key), written in the transaction that records the send in
-- step_effects. The provider's status callbacks (/hooks/twilio) update `status` by
-- provider_sid; a send whose outcome was unknown has no row here (see step_effects).
CREATE TABLE sms_messages (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key        text NOT NULL UNIQUE,
    provider               text NOT NULL DEFAULT 'twilio',
    provider_sid           text NOT NULL UNIQUE,
    account_sid            text NOT NULL,
    to_number              text NOT NULL CHECK (to_number ~ '^\+[1-9][0-9]{1,14}$'),
    from_number            text CHECK (from_number ~ '^\+[1-9][0-9]{1,14}$'),
    messaging_service_sid  text,
    status                 text NOT NULL,   -- the provider's: queued, sent, delivered, undelivered, failed, ...
    error_code             integer,         -- the provider's ErrorCode from a status callback
    run_id                 uuid REFERENCES workflow_runs (id) ON DELETE SET NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    status_updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((from_number IS NULL) <> (messaging_service_sid IS NULL))
);
CREATE INDEX sms_messages_run_idx ON sms_messages (run_id) WHERE run_id IS NOT NULL;
