-- 0007_billing: what the billing steps (plugins/billing) need beyond 0001_core.
--
--   * SQL twins of the C++ billing rules, so the steps can bill a million subscriptions in
--     a few set-based statements: billing_round_div (rounding modes), billing_add_months and
--     billing_period_end (month-end clamping). tests/integration/billing checks that they
--     agree with plugins/billing/*.cpp.
--   * billing_runs: one row per execution of a billing step, keyed by the step's
--     idempotency key. Inserting it is what decides that a step execution happens once; a
--     re-run finds the row and returns the outputs stored in it.
--   * invoices.billing_run_id, gap-free document numbers, dunning notices, one late fee per
--     invoice, marketplace orders (the input of commissions.distribute).

-- ---------------------------------------------------------------------------------------
-- Rules as SQL functions (inlined by the planner: one SELECT expression each)
-- ---------------------------------------------------------------------------------------

-- n / d rounded to an integer: half_up (half away from zero), half_even, half_down, up
-- (away from zero), down (toward zero). numeric is exact; there is no floating point.
-- An unknown mode gives NULL, which every money column refuses (NOT NULL).
CREATE FUNCTION billing_round_div(n numeric, d numeric, mode text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (sign(n) * sign(d) * (div(abs(n), abs(d)) + CASE
        WHEN mod(abs(n), abs(d)) = 0 THEN 0
        WHEN mode = 'half_up' THEN (2 * mod(abs(n), abs(d)) >= abs(d))::int
        WHEN mode = 'half_down' THEN (2 * mod(abs(n), abs(d)) > abs(d))::int
        WHEN mode = 'half_even' THEN (2 * mod(abs(n), abs(d)) > abs(d)
                                      OR (2 * mod(abs(n), abs(d)) = abs(d)
                                          AND mod(div(abs(n), abs(d)), 2) = 1))::int
        WHEN mode = 'up' THEN 1
        WHEN mode = 'down' THEN 0
        END))::bigint
$$;

-- The same on bigint, several times faster than numeric for the per-line tax of a million
-- lines. Exact too: an intermediate that leaves the bigint range raises an error (SQLSTATE
-- 22003) instead of wrapping, so a result is never wrong, at worst refused.
CREATE FUNCTION billing_round_idiv(n bigint, d bigint, mode text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN (n < 0) <> (d < 0) AND n <> 0 THEN -1 ELSE 1 END
           * (abs(n) / abs(d) + CASE
               WHEN abs(n) % abs(d) = 0 THEN 0
               WHEN mode = 'half_up' THEN (2 * (abs(n) % abs(d)) >= abs(d))::integer
               WHEN mode = 'half_down' THEN (2 * (abs(n) % abs(d)) > abs(d))::integer
               WHEN mode = 'half_even' THEN (2 * (abs(n) % abs(d)) > abs(d)
                                             OR (2 * (abs(n) % abs(d)) = abs(d)
                                                 AND (abs(n) / abs(d)) % 2 = 1))::integer
               WHEN mode = 'up' THEN 1
               WHEN mode = 'down' THEN 0
               END)
$$;

-- The date `months` months after d's month, on billing_day or the month's last day if the
-- month is shorter (Jan 31 + 1 month, billing day 31 = Feb 28; Feb 28 + 1 = Mar 31).
-- Integer month arithmetic on dates only (no timestamptz, so it is truly immutable and
-- the planner inlines it); the last day is the day before the next month's first.
CREATE FUNCTION billing_add_months(d date, months integer, billing_day integer) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT make_date((extract(year from d)::integer * 12 + extract(month from d)::integer - 1 + months) / 12, (extract(year from d)::integer * 12 + extract(month from d)::integer - 1 + months) % 12 + 1,
                     least(billing_day,
                           extract(day from make_date((extract(year from d)::integer * 12 + extract(month from d)::integer + months) / 12, (extract(year from d)::integer * 12 + extract(month from d)::integer + months) % 12 + 1, 1) - 1)::integer))
$$;

CREATE FUNCTION billing_cycle_months(cycle text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE cycle WHEN 'monthly' THEN 1 WHEN 'quarterly' THEN 3 WHEN 'semiannual' THEN 6
                      WHEN 'annual' THEN 12 ELSE 0 END
$$;

-- The exclusive end of the period that starts on `start`; a one-off bills one day.
CREATE FUNCTION billing_period_end(start date, cycle text, billing_day integer) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN cycle = 'one_off' THEN start + 1
                ELSE billing_add_months(start, billing_cycle_months(cycle), billing_day) END
$$;

-- ---------------------------------------------------------------------------------------
-- Billing step executions
-- ---------------------------------------------------------------------------------------

CREATE TABLE billing_runs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             text NOT NULL
                     CHECK (kind IN ('generate_invoices', 'apply_late_fees', 'dunning',
                                     'commissions', 'record_payment', 'credit_note')),
    -- The step's idempotency key (run:step[:item]); a second execution conflicts here.
    idempotency_key  text NOT NULL UNIQUE,
    as_of            date NOT NULL,
    parameters       jsonb NOT NULL DEFAULT '{}',
    outputs          jsonb,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- The billing run that created an invoice. Deliberately not indexed: nothing hot looks
-- invoices up by run (one index less on the million-row insert), `ledger verify` scans.
ALTER TABLE invoices ADD COLUMN billing_run_id bigint
    REFERENCES billing_runs (id) ON DELETE RESTRICT;

-- Gap-free numbers: a number is taken by UPDATE ... RETURNING in the transaction that
-- issues the document, so a rolled-back transaction gives its numbers back.
CREATE TABLE document_counters (
    name        text PRIMARY KEY CHECK (name IN ('invoice', 'credit_note')),
    prefix      text NOT NULL,
    next_value  bigint NOT NULL CHECK (next_value > 0)
);
INSERT INTO document_counters (name, prefix, next_value) VALUES
    ('invoice', 'INV-', 1),
    ('credit_note', 'CN-', 1);

-- One late fee per invoice, whatever retries or concurrent runs do.
CREATE UNIQUE INDEX invoice_items_one_late_fee ON invoice_items (invoice_id)
    WHERE kind = 'late_fee';

-- ---------------------------------------------------------------------------------------
-- Dunning
-- ---------------------------------------------------------------------------------------

-- A reminder or overdue notice that became due for an invoice. `notice` names the policy
-- entry ('before_due_3', 'overdue_1', ...); UNIQUE makes each one happen once per invoice,
-- and the email step that sends it records the send under its own idempotency key.
CREATE TABLE dunning_notices (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id      bigint NOT NULL REFERENCES invoices (id) ON DELETE RESTRICT,
    notice          text NOT NULL CHECK (notice ~ '^[a-z][a-z0-9_]*$'),
    days_from_due   integer NOT NULL,
    billing_run_id  bigint NOT NULL REFERENCES billing_runs (id) ON DELETE RESTRICT,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT dunning_notices_invoice_notice_key UNIQUE (invoice_id, notice)
);
CREATE INDEX dunning_notices_run_idx ON dunning_notices (billing_run_id);

-- Suspensions the dunning step made, so that paying unsuspends exactly those (and never a
-- subscription an operator suspended for another reason).
ALTER TABLE subscriptions ADD COLUMN suspended_by_dunning boolean NOT NULL DEFAULT false;
CREATE INDEX subscriptions_dunning_idx ON subscriptions (client_id)
    WHERE suspended_by_dunning;

-- ---------------------------------------------------------------------------------------
-- Marketplace orders (sales and bookings between clients), split by commissions.distribute
-- ---------------------------------------------------------------------------------------

CREATE TABLE marketplace_orders (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind                text NOT NULL CHECK (kind IN ('sale', 'booking')),
    reference           text NOT NULL CHECK (reference <> ''),
    provider_client_id  bigint NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    buyer_client_id     bigint REFERENCES clients (id) ON DELETE RESTRICT,
    description         text NOT NULL DEFAULT '',
    currency            currency_code NOT NULL,
    gross_amount        bigint NOT NULL CHECK (gross_amount > 0),
    -- The platform's rate for this order; NULL: the step's default.
    platform_ppm        integer CHECK (platform_ppm BETWEEN 0 AND 1000000),
    status              text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'paid', 'refunded', 'cancelled')),
    paid_at             timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT marketplace_orders_kind_reference_key UNIQUE (kind, reference),
    CONSTRAINT marketplace_orders_paid_at CHECK (status <> 'paid' OR paid_at IS NOT NULL)
);
CREATE INDEX marketplace_orders_paid_idx ON marketplace_orders (paid_at) WHERE status = 'paid';
