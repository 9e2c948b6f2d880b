-- Payment gateways (gateways/).

-- Every operation the built-in sandbox gateway performed, one row per (kind, idempotency
-- key): a repeated key is answered from its row and never performs the operation again, and
-- tests count rows to prove it. `response_lost` marks operations whose first answer was a
-- simulated timeout (the caller saw `unknown`; lookup reveals the real outcome).
CREATE TABLE sandbox_operations (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_id      text NOT NULL UNIQUE,
    kind             text NOT NULL
                     CHECK (kind IN ('customer', 'payment_method', 'charge', 'refund',
                                     'transfer', 'payout')),
    idempotency_key  text NOT NULL CHECK (idempotency_key <> ''),
    request_hash     text NOT NULL,   -- a key reused with other parameters is refused
    status           text NOT NULL
                     CHECK (status IN ('succeeded', 'pending', 'requires_action', 'declined',
                                       'failed')),
    amount           bigint CHECK (amount > 0),
    currency         currency_code,
    customer         text,            -- customer reference
    payment_method   text,            -- the card number or token that decided the outcome
    target           text,            -- refund: the charge's provider_id; money out: destination
    decline_code     text,
    error            text,
    retryable        boolean NOT NULL DEFAULT false,
    response_lost    boolean NOT NULL DEFAULT false,
    details          jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sandbox_operations_key UNIQUE (kind, idempotency_key),
    CONSTRAINT sandbox_operations_money CHECK ((amount IS NULL) = (currency IS NULL))
);
CREATE INDEX sandbox_operations_target_idx ON sandbox_operations (target) WHERE kind = 'refund';
