-- The ledger's integrity checks, once per statement and once per ledger transaction instead
-- of per entry (issue 7's billing benchmark: a batch of 500 payments posts ~1,300 entries,
-- and 0001's row triggers ran two plpgsql calls and three index probes for each of them).
--
-- The guarantees are those of 0001, unchanged:
--   * entries can only be added in the PostgreSQL transaction that created their ledger
--     transaction (a committed ledger transaction is closed for good);
--   * a ledger transaction without entries cannot commit;
--   * a ledger transaction whose entries do not sum to zero in every currency cannot commit;
--   * the ledger is append-only (0001's forbid_modification triggers stay).
--
-- How:
--   * ledger_entries_transaction_open is now an AFTER INSERT ... FOR EACH STATEMENT trigger
--     over the statement's new rows (a transition table): one query per INSERT statement
--     finds any entry whose ledger transaction was not created by this database transaction.
--   * The balance is checked once per ledger transaction, by the deferred constraint trigger
--     on ledger_transactions that already checked "has entries": at COMMIT, after every
--     entry the transaction will ever have was added (they can only be added in this
--     database transaction, see above). Entry ids no longer need to grow within a ledger
--     transaction, so that rule of 0001 is gone.
--   * If the deferred checks run early (SET CONSTRAINTS ... IMMEDIATE), an entry added
--     after them would not be seen by a check that already ran. The check therefore leaves a
--     transaction-local mark (the setting artistsaid.ledger_checked), and once it is set
--     every later INSERT of entries checks the balance of the ledger transactions it touched
--     at the end of the statement, which is what 0001's per-entry deferred trigger did in
--     IMMEDIATE mode. A ROLLBACK TO SAVEPOINT undoes the mark together with the checks it
--     records (PostgreSQL re-queues deferred events fired in an aborted subtransaction).
--   * UPDATE and DELETE of entries (refused by the append-only trigger; the balance check
--     covers them should that trigger ever be disabled for a repair) keep 0001's deferred
--     per-row balance check.

DROP TRIGGER ledger_entries_transaction_open ON ledger_entries;
DROP FUNCTION ledger_assert_transaction_open();
DROP TRIGGER ledger_entries_balanced ON ledger_entries;
DROP TRIGGER ledger_transactions_has_entries ON ledger_transactions;
DROP FUNCTION ledger_assert_has_entries();

-- The first currency in which ledger transaction `txn` does not sum to zero, raised as
-- 0001's ledger_entries_balanced violation.
CREATE FUNCTION ledger_raise_if_unbalanced(txn bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    unbalanced record;
BEGIN
    SELECT e.currency, sum(e.amount) AS total INTO unbalanced
      FROM ledger_entries e
     WHERE e.transaction_id = txn
     GROUP BY e.currency
    HAVING sum(e.amount) <> 0
     ORDER BY e.currency
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced in %: sum %',
                txn, unbalanced.currency, unbalanced.total
            USING ERRCODE = 'check_violation',
                  TABLE = 'ledger_entries',
                  CONSTRAINT = 'ledger_entries_balanced',
                  HINT = 'The entries of a ledger transaction must sum to zero in each currency.';
    END IF;
END;
$$;

-- UPDATE/DELETE only (see above): the rows' transactions must still balance at commit.
CREATE OR REPLACE FUNCTION ledger_assert_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM ledger_raise_if_unbalanced(NEW.transaction_id);
    END IF;
    PERFORM ledger_raise_if_unbalanced(OLD.transaction_id);
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER ledger_entries_balanced
    AFTER UPDATE OR DELETE ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_assert_balanced();

-- Once per ledger transaction, at COMMIT: it has entries, and they balance per currency.
-- One aggregate over the transaction's entries (ledger_entries_transaction_idx): the
-- unbalanced currency first if there is one; no row at all means no entries.
CREATE FUNCTION ledger_assert_transaction_complete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    worst record;
BEGIN
    PERFORM set_config('artistsaid.ledger_checked', 'on', true);
    SELECT e.currency, sum(e.amount) AS total INTO worst
      FROM ledger_entries e
     WHERE e.transaction_id = NEW.id
     GROUP BY e.currency
     ORDER BY sum(e.amount) = 0, e.currency
     LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ledger transaction % has no entries', NEW.id
            USING ERRCODE = 'check_violation',
                  TABLE = 'ledger_transactions',
                  CONSTRAINT = 'ledger_transactions_has_entries';
    END IF;
    IF worst.total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced in %: sum %',
                NEW.id, worst.currency, worst.total
            USING ERRCODE = 'check_violation',
                  TABLE = 'ledger_entries',
                  CONSTRAINT = 'ledger_entries_balanced',
                  HINT = 'The entries of a ledger transaction must sum to zero in each currency.';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER ledger_transactions_complete
    AFTER INSERT ON ledger_transactions
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_assert_transaction_complete();

-- Once per INSERT statement on ledger_entries: every new entry's ledger transaction was
-- created by this database transaction; after an early balance check (see the header),
-- the touched transactions must balance at the end of the statement.
CREATE FUNCTION ledger_assert_entries_open() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    closed bigint;
    txn    bigint;
BEGIN
    -- One primary-key probe per ledger transaction touched (a scalar subquery, so the
    -- planner cannot pick a hash join over the whole of ledger_transactions: it has no
    -- statistics for the transition table).
    SELECT n.transaction_id INTO closed
      FROM (SELECT DISTINCT transaction_id FROM ledger_new_entries) n
     WHERE (SELECT t.created_xact FROM ledger_transactions t WHERE t.id = n.transaction_id)
           IS DISTINCT FROM pg_current_xact_id()
     ORDER BY n.transaction_id
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % is closed: entries can only be added in the '
                        'database transaction that created it', closed
            USING ERRCODE = 'integrity_constraint_violation',
                  HINT = 'Post a new ledger transaction instead.';
    END IF;
    IF current_setting('artistsaid.ledger_checked', true) = 'on' THEN
        FOR txn IN SELECT DISTINCT n.transaction_id FROM ledger_new_entries n
                    ORDER BY n.transaction_id LOOP
            PERFORM ledger_raise_if_unbalanced(txn);
        END LOOP;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER ledger_entries_transaction_open
    AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS ledger_new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_assert_entries_open();

-- ---------------------------------------------------------------------------------------
-- updated_at on the billing cycle's hot tables: the plpgsql trigger of 0001 runs only when
-- the UPDATE did not set updated_at itself. The billing run's UPDATEs (1,000,000
-- subscriptions advanced, 500,000 invoices settled) set `updated_at = now()` in the
-- statement and skip a plpgsql call per row; every other UPDATE gets now() from the trigger
-- as before. (No code sets updated_at to anything but now().)
-- ---------------------------------------------------------------------------------------
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['subscriptions', 'invoices', 'payments'] LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_updated_at', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW '
                       'WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at) '
                       'EXECUTE FUNCTION set_updated_at()',
                       t || '_updated_at', t);
    END LOOP;
END;
$$;
