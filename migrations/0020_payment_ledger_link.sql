-- 0020_payment_ledger_link.sql: a durable link from each posted payment to the ledger
-- transaction that posted it (issue 7's billing benchmark).
--
-- Until now every succeeded payment had its own 'payment.succeeded' ledger transaction,
-- referenced 'payment:<id>', and "is this payment posted already?" was a lookup of that
-- reference. The batch charge path now posts ONE ledger transaction per batch and currency
-- (entries: gateway_clearing +Σ amount, receivable −Σ (amount − overpaid), client_credit
-- −Σ overpaid), so the reference can no longer name the payment. The link says it instead:
--
--   * payments.ledger_transaction_id: the posting of this payment, set in the database
--     transaction that posts it (single path: its own transaction 'payment:<id>'; batch
--     path: the batch's transaction for the payment's currency). NULL = not posted. A
--     payment has one column, so it is posted at most once by construction; the recorders
--     check the column under the invoice's row lock before posting.
--   * payments_posted_only_when_succeeded: only a succeeded payment can carry a posting.
--   * The foreign key keeps the link pointing at a real ledger transaction (which is
--     append-only: it can never disappear).
--
-- `ledger verify` checks the rest: every succeeded payment is linked to exactly one posting
-- of kind 'payment.succeeded'; each posting's entries equal the sums of its linked payments
-- and of their overpayment credits per currency; no posting is left without payments.
--
-- Existing rows are linked from their 'payment:<id>' reference (the posting rule before
-- this migration). The updated_at trigger is off for the backfill: the rows' business data
-- does not change.
ALTER TABLE payments
    ADD COLUMN ledger_transaction_id bigint REFERENCES ledger_transactions (id) ON DELETE RESTRICT;
ALTER TABLE payments ADD CONSTRAINT payments_posted_only_when_succeeded
    CHECK (ledger_transaction_id IS NULL OR status = 'succeeded');

ALTER TABLE payments DISABLE TRIGGER payments_updated_at;
UPDATE payments p
   SET ledger_transaction_id = t.id
  FROM (SELECT DISTINCT ON (reference) substr(reference, 9)::bigint AS payment_id, id
          FROM ledger_transactions
         WHERE kind = 'payment.succeeded' AND reference ~ '^payment:[0-9]+$'
         ORDER BY reference, id) t
 WHERE t.payment_id = p.id AND p.status = 'succeeded';
ALTER TABLE payments ENABLE TRIGGER payments_updated_at;
