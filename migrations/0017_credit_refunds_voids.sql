-- 0017_credit_refunds_voids: refunding a client's credit balance, voiding credit notes.
--
--   * refunds.kind: 'invoice' (payments.refund: part of what a payment paid on its invoice,
--     with a credit note) or 'client_credit' (payments.refund_credit: part of a payment's
--     overpayment that became client credit, paid back through the payment's gateway; no
--     credit note, the invoice is untouched). A credit refund request may refund several
--     payments (newest first); its rows share request_key, the request's idempotency key
--     (each row's own idempotency_key, sent to the gateway, is request_key || ':p' || id of
--     the payment).
--   * credit_notes.voided_at / void_reason: a credit note issued in error and voided (status
--     'void', allowed since 0001) keeps its row and number; the void is posted as a reversing
--     ledger transaction 'credit_note.voided'.

ALTER TABLE refunds
    ADD COLUMN kind text NOT NULL DEFAULT 'invoice' CHECK (kind IN ('invoice', 'client_credit')),
    ADD COLUMN request_key text,
    ADD CONSTRAINT refunds_credit_request_key CHECK ((kind = 'client_credit') = (request_key IS NOT NULL));
CREATE INDEX refunds_request_key_idx ON refunds (request_key) WHERE request_key IS NOT NULL;

ALTER TABLE credit_notes
    ADD COLUMN voided_at timestamptz,
    ADD COLUMN void_reason text,
    ADD CONSTRAINT credit_notes_voided_at CHECK ((status = 'void') = (voided_at IS NOT NULL));

-- Voiding a credit note issued against an invoice's open balance gives the balance back with
-- a reversing 'credit_applied' item (amount > 0) next to the note's own (amount < 0): the
-- invoice's items stay append-only and still add up to its credit_applied.
ALTER TABLE invoice_items DROP CONSTRAINT invoice_items_amount_sign;
ALTER TABLE invoice_items ADD CONSTRAINT invoice_items_amount_sign CHECK (CASE
    WHEN kind = 'credit_applied' THEN true           -- < 0 applied; > 0 a voided note reversed
    WHEN kind IN ('proration', 'manual') THEN true   -- may credit (downgrade, discount)
    ELSE amount >= 0 END);
