-- 0018_subscriptions_hot_updates.sql: let the billing run advance next_due_date with HOT
-- updates (issue 7's benchmark).
--
-- Every billing run moves each billed subscription's next_due_date. With next_due_date in
-- an index (subscriptions_due_idx) and pages filled to 100 %, each of those UPDATEs wrote a
-- new tuple on another page plus an entry in every index of the table: 22 µs per row at
-- 100,000 subscriptions, 70 µs at 1,000,000 once the indexes outgrew shared buffers.
-- Without the index on the column, and with half of each page left free, PostgreSQL can
-- keep the new version on the same page and skip the indexes (a heap-only tuple):
-- take_periods 1.55–1.98 s → 0.87 s at 100,000 (bench/RESULTS.md, session 5).
--
-- What it costs: the billing run finds due subscriptions by a sequential scan (tens of
-- milliseconds per 100,000 subscriptions, once per run), and the table takes about twice
-- the pages. fillfactor applies to pages written from now on; an existing installation
-- gets it for its old pages with `VACUUM FULL subscriptions` (optional, takes a lock).
DROP INDEX subscriptions_due_idx;
ALTER TABLE subscriptions SET (fillfactor = 50);
