-- Set-based foreign keys on the invoice run's hot child tables (issue 7's billing benchmark).
--
-- PostgreSQL checks a declarative foreign key once per inserted row and per key: a SPI
-- `SELECT 1 FROM parent WHERE id = $1 FOR KEY SHARE` plus a WAL-logged tuple lock. In the
-- invoice transaction that was ~29 % of its time at 100,000 subscriptions (auto_explain,
-- bench/RESULTS.md): invoice_items 1,468 ms of 2,338, invoices 765 of 1,641, ... The same
-- guarantees are kept here with one check per statement.
--
-- Replaced (the constraint names live on in the trigger names and in every error):
--
--   child.column                          parent          ON DELETE
--   invoice_items.invoice_id              invoices        CASCADE
--   invoice_items.subscription_id         subscriptions   RESTRICT
--   invoice_items.subscription_addon_id   subscription_addons RESTRICT
--   invoice_items.tax_rate_id             tax_rates       RESTRICT
--   invoices.client_id                    clients         RESTRICT
--   invoices.billing_run_id               billing_runs    RESTRICT
--   invoices.subscription_id              subscriptions   RESTRICT
--   usage_records.invoice_item_id         invoice_items   SET NULL
--   collection_items.collection_id        collections     CASCADE
--   (every one ON UPDATE NO ACTION). All other foreign keys stay declarative.
--
-- Child side, fk_check_child(constraint, child column, parent table, parent column):
--   * AFTER INSERT ... FOR EACH STATEMENT over the statement's new rows (transition table
--     fk_new_rows): one join of the non-null keys with the parent locks every referenced
--     parent row FOR KEY SHARE (a parent referenced by several new rows is locked by the
--     first, the others find the lock already held), and any key without a
--     parent raises 23503 foreign_key_violation naming the constraint, child table, column,
--     key and parent table (PostgreSQL's own wording), so the statement changes nothing.
--   * UPDATE: where UPDATEs of the key are the hot path (usage_records.invoice_item_id is set
--     by every invoice run) the same statement-level check runs over the updated rows (every
--     non-null key of every updated row, changed or not). Elsewhere (invoices are updated by
--     every payment, the keys never) a row trigger WHEN the key changed checks that one key:
--     a transition table there would copy every updated row of every UPDATE.
--
-- Parent side, fk_check_parent(constraint, child table, child column, parent column, action):
--   * AFTER DELETE ... FOR EACH STATEMENT over the deleted rows (fk_old_rows): RESTRICT
--     raises 23503 if a child references a deleted key; CASCADE deletes the children;
--     SET NULL sets the child column to NULL; one set-based statement each.
--   * AFTER UPDATE, a row trigger WHEN the key changed: refused with 23503 if children still
--     reference the old key and no parent row has it any more (NO ACTION).
--   * AFTER TRUNCATE: refused with 23503 unless the child table is empty on disk, that is
--     unless it was truncated by the same command (TRUNCATE parent, child), as PostgreSQL
--     requires. (TRUNCATE ... CASCADE does not follow these keys: name the child.)
--
-- Concurrency (READ COMMITTED, PostgreSQL's default and what the engine uses):
--   * A child statement locks its parents FOR KEY SHARE before its transaction can commit.
--     A DELETE (or key UPDATE) of such a parent needs a lock that conflicts with KEY SHARE,
--     so it waits until the child's transaction ends; the parent-side trigger runs after
--     the DELETE holds the row, and each of its queries takes a fresh snapshot (plpgsql,
--     VOLATILE, READ COMMITTED), so it sees the committed children and refuses / cascades /
--     sets NULL. If the parent's DELETE came first, the child's FOR KEY SHARE waits for the
--     deleting transaction: once it commits the row is gone (not returned by the locking
--     SELECT) and the child statement fails with 23503; if it rolls back the lock is
--     taken. A child row inserted but not yet checked is invisible to a concurrent parent
--     DELETE, which may commit; the child's check then finds the parent gone and fails.
--     In every order, no transaction commits a child whose parent is gone.
--   * The check's parent lookup uses the statement's snapshot like PostgreSQL's own child
--     check; under REPEATABLE READ / SERIALIZABLE a parent deleted or key-updated after the
--     snapshot makes FOR KEY SHARE fail with a serialization error (40001), as before.
--   * Parent side under REPEATABLE READ / SERIALIZABLE: PostgreSQL's RI looks for children
--     with a fresh snapshot and a crosscheck against the transaction snapshot; plpgsql can
--     only see the transaction snapshot, which misses children committed after it (a
--     KEY SHARE lock released by a committed child transaction does not stop the DELETE).
--     So a DELETE or key UPDATE that removes a parent row of these keys outside READ
--     COMMITTED is refused (0A000, with a hint). No code deletes these parents; an operator
--     does it in a READ COMMITTED transaction. TRUNCATE looks at the child's size on disk,
--     which does not depend on snapshots.
--   * KEY SHARE conflicts only with FOR UPDATE (taken by DELETE, key UPDATE and SELECT ...
--     FOR UPDATE): child statements never wait for each other, nor for ordinary UPDATEs of
--     the parents (the billing run's UPDATE of subscriptions, a payment's of invoices).
--     A child statement and a multi-row DELETE of its parents may lock them in different
--     orders, as with PostgreSQL's own checks: a deadlock is detected and one side fails
--     with 40P01 before it commits anything.
--   * TRUNCATE of a parent takes ACCESS EXCLUSIVE, which waits for a child transaction
--     that has locked parent rows (ROW SHARE); a child checked after the TRUNCATE finds the
--     parent empty.
--
-- Like declarative foreign keys these triggers do not fire under
-- session_replication_role = replica; unlike them, `ALTER TABLE ... DISABLE TRIGGER USER`
-- disables them too (0001's rule: repairs by hand do that deliberately and visibly).
-- Both functions are SECURITY DEFINER (the owner's rights, as PostgreSQL's RI checks run
-- as the table owner) with a fixed search_path; every name they build is schema-qualified.

CREATE FUNCTION fk_check_child() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    constraint_name text := TG_ARGV[0];
    child_column    text := TG_ARGV[1];
    parent_table    text := TG_ARGV[2];
    parent_column   text := TG_ARGV[3];
    parent          text := format('%I.%I', TG_TABLE_SCHEMA, TG_ARGV[2]);
    missing         text;
    found_parent    boolean;
    keys            bigint;
    joined          bigint;
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        -- Each child row's key joined to its parent row (the parent column is unique, so a
        -- key has at most one), every parent row found locked FOR KEY SHARE (a row
        -- referenced by several children is locked by the first; the others find the lock
        -- held: no wait, no WAL). Not sorted by key: at 1,780,000 rows that sort spilled to
        -- disk and cost a second; PostgreSQL's own checks lock in row order too. Fewer joined rows than non-null keys means a
        -- parent is missing. The join is not made over DISTINCT keys on purpose: with no
        -- statistics on a transition table the planner guesses 200 distinct keys and
        -- probes the parent's index once per key (3-4 us each), while it sizes this join
        -- from the transition table's real row count (hash join over the parent for a big
        -- statement, index probes for a small one).
        -- Streamed, nothing materialised but the join's hash table (the backend's memory
        -- counts against the benchmark's 1 GiB): the keys come from a sub-SELECT that is
        -- not flattened (OFFSET 0), so the row a concurrent update makes FOR KEY SHARE
        -- re-check carries just the key, not the whole child row.
        EXECUTE format(
            'SELECT (SELECT count(n.%1$I) FROM fk_new_rows n), count(*)'
            '  FROM (SELECT 1 FROM (SELECT n.%1$I AS key FROM fk_new_rows n'
            '                        WHERE n.%1$I IS NOT NULL OFFSET 0) k'
            '          JOIN %2$s p ON p.%3$I = k.key FOR KEY SHARE OF p) l',
            child_column, parent, parent_column) INTO keys, joined;
        IF joined < keys THEN
            -- Which one (a fresh snapshot: a parent deleted concurrently is gone here too).
            EXECUTE format(
                'SELECT n.%1$I::text FROM fk_new_rows n WHERE n.%1$I IS NOT NULL'
                '   AND NOT EXISTS (SELECT 1 FROM %2$s p WHERE p.%3$I = n.%1$I)'
                ' ORDER BY n.%1$I LIMIT 1',
                child_column, parent, parent_column) INTO missing;
            missing := coalesce(missing, '(not visible when checked)');
        END IF;
    ELSE
        -- A row whose key changed (the trigger's WHEN): that one key.
        EXECUTE format('SELECT ($1).%I IS NULL OR EXISTS (SELECT 1 FROM %s p'
                       ' WHERE p.%I = ($1).%I FOR KEY SHARE OF p)',
                       child_column, parent, parent_column, child_column)
            INTO found_parent USING NEW;
        IF NOT found_parent THEN
            EXECUTE format('SELECT ($1).%I::text', child_column) INTO missing USING NEW;
        END IF;
    END IF;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"',
                TG_TABLE_NAME, constraint_name
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (%s)=(%s) is not present in table "%s".',
                                  child_column, missing, parent_table),
                  SCHEMA = TG_TABLE_SCHEMA,
                  TABLE = TG_TABLE_NAME,
                  COLUMN = child_column,
                  CONSTRAINT = constraint_name;
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION fk_check_parent() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    constraint_name text := TG_ARGV[0];
    child_table     text := TG_ARGV[1];
    child_column    text := TG_ARGV[2];
    parent_column   text := TG_ARGV[3];
    action          text := TG_ARGV[4];   -- restrict | cascade | set_null
    child           text := format('%I.%I', TG_TABLE_SCHEMA, TG_ARGV[1]);
    parent          text := format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME);
    referenced      text;
BEGIN
    IF action NOT IN ('restrict', 'cascade', 'set_null') THEN
        RAISE EXCEPTION 'fk_check_parent: unknown action "%" for %', action, constraint_name;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        -- Empty on disk: truncated by this same command (or never written to). Any row,
        -- committed or not, visible to any snapshot or not, occupies a page.
        IF pg_relation_size(child::regclass) > 0 THEN
            RAISE EXCEPTION 'cannot truncate a table referenced in a foreign key constraint'
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('Table "%s" references "%s" (constraint "%s").',
                                      child_table, TG_TABLE_NAME, constraint_name),
                      HINT = format('Truncate table "%s" at the same time.', child_table),
                      SCHEMA = TG_TABLE_SCHEMA,
                      TABLE = child_table,
                      CONSTRAINT = constraint_name;
        END IF;
        RETURN NULL;
    END IF;

    IF TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT 1 FROM fk_old_rows) THEN
            RETURN NULL;
        END IF;
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION '% on table "%" needs READ COMMITTED isolation (foreign key "%" of table "%")',
                TG_OP, TG_TABLE_NAME, constraint_name, child_table
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'This foreign key is checked by a trigger (migration 0021), which '
                           'cannot see children committed after this transaction''s snapshot.',
                  HINT = 'Run the statement in a READ COMMITTED transaction.';
    END IF;

    IF TG_OP = 'UPDATE' THEN
        -- A row whose key changed (the trigger's WHEN): NO ACTION, checked at the end of
        -- the statement like PostgreSQL's.
        EXECUTE format('SELECT c.%1$I::text FROM %2$s c WHERE c.%1$I = ($1).%3$I'
                       '   AND NOT EXISTS (SELECT 1 FROM %4$s p WHERE p.%3$I = ($1).%3$I)'
                       ' LIMIT 1 FOR KEY SHARE OF c',
                       child_column, child, parent_column, parent)
            INTO referenced USING OLD;
    ELSIF action = 'restrict' THEN
        EXECUTE format('SELECT c.%1$I::text FROM ONLY %2$s c'
                       ' WHERE c.%1$I IN (SELECT o.%3$I FROM fk_old_rows o)'
                       ' LIMIT 1 FOR KEY SHARE OF c',
                       child_column, child, parent_column)
            INTO referenced;
    ELSIF action = 'cascade' THEN
        EXECUTE format('DELETE FROM ONLY %2$s c WHERE c.%1$I IN (SELECT o.%3$I FROM fk_old_rows o)',
                       child_column, child, parent_column);
    ELSE
        EXECUTE format('UPDATE ONLY %2$s c SET %1$I = NULL'
                       ' WHERE c.%1$I IN (SELECT o.%3$I FROM fk_old_rows o)',
                       child_column, child, parent_column);
    END IF;
    IF referenced IS NOT NULL THEN
        RAISE EXCEPTION 'update or delete on table "%" violates foreign key constraint "%" on table "%"',
                TG_TABLE_NAME, constraint_name, child_table
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (%s)=(%s) is still referenced from table "%s".',
                                  parent_column, referenced, child_table),
                  SCHEMA = TG_TABLE_SCHEMA,
                  TABLE = child_table,
                  CONSTRAINT = constraint_name;
    END IF;
    RETURN NULL;
END;
$$;

-- Replaces declarative foreign key `name` (child.child_column -> parent.parent_column, ON
-- DELETE action) with the triggers above. `statement_updates`: check UPDATEs of the child
-- per statement (the key is what the hot UPDATE sets) instead of per row when it changes.
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

SELECT fk_replace_with_triggers('invoice_items_invoice_id_fkey', 'invoice_items', 'invoice_id',
                                'invoices', 'id', 'cascade', false);
SELECT fk_replace_with_triggers('invoice_items_subscription_id_fkey', 'invoice_items',
                                'subscription_id', 'subscriptions', 'id', 'restrict', false);
SELECT fk_replace_with_triggers('invoice_items_subscription_addon_id_fkey', 'invoice_items',
                                'subscription_addon_id', 'subscription_addons', 'id', 'restrict', false);
SELECT fk_replace_with_triggers('invoice_items_tax_rate_id_fkey', 'invoice_items', 'tax_rate_id',
                                'tax_rates', 'id', 'restrict', false);
SELECT fk_replace_with_triggers('invoices_client_id_fkey', 'invoices', 'client_id',
                                'clients', 'id', 'restrict', false);
SELECT fk_replace_with_triggers('invoices_billing_run_id_fkey', 'invoices', 'billing_run_id',
                                'billing_runs', 'id', 'restrict', false);
SELECT fk_replace_with_triggers('invoices_subscription_id_fkey', 'invoices', 'subscription_id',
                                'subscriptions', 'id', 'restrict', false);
SELECT fk_replace_with_triggers('usage_records_invoice_item_id_fkey', 'usage_records',
                                'invoice_item_id', 'invoice_items', 'id', 'set_null', true);
SELECT fk_replace_with_triggers('collection_items_collection_id_fkey', 'collection_items',
                                'collection_id', 'collections', 'id', 'cascade', false);

DROP FUNCTION fk_replace_with_triggers(text, text, text, text, text, text, boolean);
