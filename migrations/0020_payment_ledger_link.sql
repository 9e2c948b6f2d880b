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
--   * The link points at a real ledger transaction: checked once per INSERT or UPDATE
--     statement over its new rows (a transition table: one probe per distinct ledger
--     transaction, not a foreign-key trigger per row: a batch links ~450 payments to 3
--     postings, and the per-row key-share checks were ~9 % of its outcome transaction).
--     This is the foreign key's guarantee because ledger_transactions is append-only
--     (0001's forbid_modification triggers refuse UPDATE, DELETE and TRUNCATE): a
--     transaction that exists when the link is written exists for good. The error is the
--     foreign key's (SQLSTATE 23503).
--
-- `ledger verify` checks the rest: every succeeded payment is linked to exactly one posting
-- of kind 'payment.succeeded'; each posting's entries equal the sums of its linked payments
-- and of their overpayment credits per currency; no posting is left without payments.
--
-- Existing rows are linked from their 'payment:<id>' reference (the posting rule before
-- this migration). The updated_at trigger is off for the backfill: the rows' business data
-- does not change.
ALTER TABLE payments ADD COLUMN ledger_transaction_id bigint;
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

CREATE FUNCTION payments_assert_postings_exist() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    missing bigint;
BEGIN
    -- A scalar-subquery probe per distinct link (the planner has no statistics for the
    -- transition table; this way it cannot pick a scan of all ledger transactions).
    SELECT n.ledger_transaction_id INTO missing
      FROM (SELECT DISTINCT ledger_transaction_id FROM payments_new
             WHERE ledger_transaction_id IS NOT NULL) n
     WHERE (SELECT t.id FROM ledger_transactions t WHERE t.id = n.ledger_transaction_id) IS NULL
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'payments: ledger transaction % does not exist', missing
            USING ERRCODE = 'foreign_key_violation',
                  TABLE = 'payments',
                  CONSTRAINT = 'payments_ledger_transaction_exists';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER payments_ledger_transaction_exists_on_insert
    AFTER INSERT ON payments REFERENCING NEW TABLE AS payments_new
    FOR EACH STATEMENT EXECUTE FUNCTION payments_assert_postings_exist();
CREATE TRIGGER payments_ledger_transaction_exists_on_update
    AFTER UPDATE ON payments REFERENCING NEW TABLE AS payments_new
    FOR EACH STATEMENT EXECUTE FUNCTION payments_assert_postings_exist();
