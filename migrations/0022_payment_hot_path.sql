-- Charging's hot path: fewer writes per payment (issue 7's billing benchmark).
--
-- Every charge inserts a payment before calling the gateway (write-ahead) and updates it
-- with the outcome; the outcome's UPDATE cannot be a heap-only tuple (status is in the
-- predicate of payments_unresolved_idx, gateway_reference in a unique index), so each
-- payment enters every index of the table twice, and each paid invoice's UPDATE enters
-- every index of invoices once more (status is in invoices_unpaid_due_idx's predicate).
-- Per batch of 500 charges (pg_stat_statements, bench billing at 200,000 subscriptions)
-- the write-ahead INSERT, the outcome UPDATE and the invoices UPDATE were 27 of the 40
-- statement-seconds of charging. This migration trims what those statements write:
--
--   * payments.invoice_id → invoices (RESTRICT) and payments.payment_method_id →
--     payment_methods (SET NULL) become set-based foreign keys, as 0021 did for the invoice
--     run's tables: one check per INSERT statement instead of a SPI query and a tuple lock
--     per row and key. The semantics, error wording and concurrency argument are 0021's
--     (see its header); a payment's UPDATE never changes either key, so the row-level
--     update check never fires on the hot path.
--   * payments_one_attempt_per_collection_day (UNIQUE (invoice_id, collection_day) WHERE
--     collection_day IS NOT NULL) becomes the same index without the predicate: NULLs are
--     distinct in a unique index, so rows without a collection day still never conflict,
--     and the index now also serves every lookup by invoice_id, which makes
--     payments_invoice_idx redundant: one index fewer for each payment's two versions.
--   * invoices_status_due_idx (status, due_date) is dropped: every query by status and due
--     date asks for unpaid invoices, which invoices_unpaid_due_idx (due_date WHERE status =
--     'unpaid') serves; other statuses are only read in whole-table reports (ledger verify,
--     summaries) that do not use it. One index fewer for each invoice's insert and update.

-- 0021's helper (dropped there), for these two keys.
CREATE FUNCTION fk_replace_with_triggers(name text, child text, child_column text,
                                         parent text, parent_column text, action text,
                                         statement_updates boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    child_args  text := format('%L, %L, %L, %L', name, child_column, parent, parent_column);
    parent_args text := format('%L, %L, %L, %L, %L', name, child, child_column, parent_column, action);
BEGIN
    -- fk_check_child counts one joined parent row per key: the key must be unique.
    IF NOT EXISTS (SELECT 1 FROM pg_index i
                    WHERE i.indrelid = parent::regclass AND i.indisunique AND i.indnatts = 1
                      AND i.indpred IS NULL AND i.indexprs IS NULL
                      AND i.indkey[0] = (SELECT a.attnum FROM pg_attribute a
                                          WHERE a.attrelid = parent::regclass
                                            AND a.attname = parent_column)) THEN
        RAISE EXCEPTION '%.% is not a unique key', parent, parent_column;
    END IF;
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', child, name);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS fk_new_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION fk_check_child(%s)',
                   name || '_ins', child, child_args);
    IF statement_updates THEN
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS fk_new_rows'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION fk_check_child(%s)',
                       name || '_upd', child, child_args);
    ELSE
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OF %I ON %I FOR EACH ROW'
                       ' WHEN (OLD.%I IS DISTINCT FROM NEW.%I)'
                       ' EXECUTE FUNCTION fk_check_child(%s)',
                       name || '_upd', child_column, child, child_column, child_column, child_args);
    END IF;
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS fk_old_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION fk_check_parent(%s)',
                   name || '_del', parent, parent_args);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OF %I ON %I FOR EACH ROW'
                   ' WHEN (OLD.%I IS DISTINCT FROM NEW.%I)'
                   ' EXECUTE FUNCTION fk_check_parent(%s)',
                   name || '_keyupd', parent_column, parent, parent_column, parent_column, parent_args);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION fk_check_parent(%s)',
                   name || '_trunc', parent, parent_args);
END;
$$;

SELECT fk_replace_with_triggers('payments_invoice_id_fkey', 'payments', 'invoice_id',
                                'invoices', 'id', 'restrict', false);
SELECT fk_replace_with_triggers('payments_payment_method_id_fkey', 'payments',
                                'payment_method_id', 'payment_methods', 'id', 'set_null', false);

DROP FUNCTION fk_replace_with_triggers(text, text, text, text, text, text, boolean);

-- A deleted payment method's payments are set to NULL by fk_check_parent, which runs with
-- search_path = pg_catalog; the UPDATE fires payments' own statement trigger, whose function
-- names ledger_transactions unqualified. It keeps the search path of the schema it was
-- created in, as a function called from anywhere should.
ALTER FUNCTION payments_assert_postings_exist() SET search_path FROM CURRENT;

CREATE UNIQUE INDEX payments_invoice_collection_day_key ON payments (invoice_id, collection_day);
DROP INDEX payments_one_attempt_per_collection_day;
DROP INDEX payments_invoice_idx;

DROP INDEX invoices_status_due_idx;
