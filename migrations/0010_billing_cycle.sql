-- 0010: what the daily billing cycle (workflows/billing-cycle.yaml) needs beyond 0007:
--   * invoice and receipt documents (HTML rendered from templates/documents/, stored
--     through the storage backend), one per invoice and kind;
--   * the collection schedule: each charge attempt of payments.collect_due is for one
--     collection day (due date + 0, +3, +7, ...), at most one attempt per invoice and day.

-- Rendered HTML documents of invoices: the invoice when issued unpaid, the receipt once paid.
ALTER TABLE documents DROP CONSTRAINT documents_kind_check;
ALTER TABLE documents ADD CONSTRAINT documents_kind_check
    CHECK (kind IN ('invoice_pdf', 'credit_note_pdf', 'attachment', 'contract', 'photo',
                    'bank_file', 'export', 'other', 'invoice_html', 'receipt_html'));

-- One document of each kind per invoice: a retried or redelivered render step finds the
-- first one instead of storing a second.
CREATE UNIQUE INDEX documents_one_per_invoice_and_kind ON documents (owner_id, kind)
    WHERE owner_kind = 'invoice' AND kind IN ('invoice_html', 'receipt_html');

-- The day of the dunning schedule a charge attempt was made for (NULL: a charge outside the
-- schedule, e.g. by hand). One attempt per invoice and collection day, whatever re-runs.
ALTER TABLE payments ADD COLUMN collection_day date;
CREATE UNIQUE INDEX payments_one_attempt_per_collection_day ON payments (invoice_id, collection_day)
    WHERE collection_day IS NOT NULL;

-- Money as text for set-based producers of notices and emails: the SQL twin of
-- Money::to_string() ("12.50 USD", "1250 JPY", "-0.005 BHD"), exponents as in
-- engine/core/currency.cpp (tests/integration/billing checks every currency against it).
CREATE FUNCTION billing_currency_exponent(code text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN code IN ('BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF',
                      'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF') THEN 0
        WHEN code IN ('BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND') THEN 3
        WHEN code IN ('CLF', 'UYW') THEN 4
        ELSE 2 END
$$;

CREATE FUNCTION billing_format_money(minor bigint, code text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN e = 0 THEN minor::text
                ELSE CASE WHEN minor < 0 THEN '-' ELSE '' END
                     || div(abs(minor::numeric), 10::numeric ^ e)::text || '.'
                     || lpad(mod(abs(minor::numeric), 10::numeric ^ e)::bigint::text, e, '0')
           END || ' ' || code
      FROM (SELECT billing_currency_exponent(code) AS e) x
$$;
