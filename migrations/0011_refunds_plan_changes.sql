-- 0011_refunds_plan_changes: what refunds, credit notes and plan changes need beyond 0001/0007.
--
--   * credit_notes.kind says what a credit note settles: a refund (money back through the
--     gateway), the client's credit balance, or the open balance of its invoice. Its
--     idempotency_key makes issuing one (step or CLI) happen once.
--   * billing_runs may record plan changes ('change_plan').
--   * subscription_adjustments: the proration lines of a plan change, pending until the next
--     billing.generate_invoices run puts them on an invoice (invoice_id is set then, once).

ALTER TABLE credit_notes
    ADD COLUMN kind text NOT NULL DEFAULT 'refund'
        CHECK (kind IN ('refund', 'client_credit', 'invoice')),
    ADD COLUMN idempotency_key text UNIQUE;

-- The refunds (succeeded or still in flight) and credit notes of an invoice, read under the
-- payment's and the invoice's row locks by every refund and credit note.
CREATE INDEX credit_notes_invoice_idx ON credit_notes (invoice_id);

ALTER TABLE billing_runs DROP CONSTRAINT billing_runs_kind_check;
ALTER TABLE billing_runs ADD CONSTRAINT billing_runs_kind_check
    CHECK (kind IN ('generate_invoices', 'apply_late_fees', 'dunning', 'commissions',
                    'record_payment', 'credit_note', 'change_plan'));

-- One proration line of a plan change (Kill Bill's IMMEDIATE policy, plugins/billing/proration):
-- the old plan's unused days credited (amount < 0) and the new plan's same days charged
-- (amount > 0). Billed by the first invoice run whose cutoff reaches effective_date; a line
-- whose invoice would go negative waits for a later run (see adjustment_billing.hpp).
CREATE TABLE subscription_adjustments (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id  bigint NOT NULL REFERENCES subscriptions (id) ON DELETE RESTRICT,
    client_id        bigint NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    currency         currency_code NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('proration_credit', 'proration_charge')),
    amount           bigint NOT NULL CHECK (amount <> 0),
    taxable          boolean NOT NULL,
    description      text NOT NULL,
    effective_date   date NOT NULL,
    period_start     date NOT NULL,
    period_end       date NOT NULL,
    -- The change_plan execution that recorded it (its idempotency key and outputs).
    billing_run_id   bigint NOT NULL REFERENCES billing_runs (id) ON DELETE RESTRICT,
    invoice_id       bigint REFERENCES invoices (id) ON DELETE RESTRICT,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT subscription_adjustments_sign CHECK (
        (kind = 'proration_credit' AND amount < 0) OR (kind = 'proration_charge' AND amount > 0)),
    CONSTRAINT subscription_adjustments_period CHECK (period_end > period_start),
    CONSTRAINT subscription_adjustments_once UNIQUE (billing_run_id, kind)
);
CREATE INDEX subscription_adjustments_pending_idx ON subscription_adjustments (effective_date)
    WHERE invoice_id IS NULL;
CREATE INDEX subscription_adjustments_subscription_idx
    ON subscription_adjustments (subscription_id);
