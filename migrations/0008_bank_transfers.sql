-- Bank transfers (gateways/bank/bank_transfer_gateway.*): where payees are paid, what the
-- bank gateway was asked to pay, and the pain.001 files that carried it.

-- The bank account a payee (an artist as a provider client, or an affiliate) is paid to.
-- One current account per payee; the IBAN's mod-97 check and the BIC are checked by the
-- application (gateways/bank/iban.hpp, bic.hpp) before a transfer is filed, the CHECKs
-- here only keep out what can never be one.
CREATE TABLE payee_bank_accounts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payee_kind          text NOT NULL CHECK (payee_kind IN ('provider', 'affiliate')),
    payee_client_id     bigint REFERENCES clients (id) ON DELETE CASCADE,
    payee_affiliate_id  bigint REFERENCES affiliates (id) ON DELETE CASCADE,
    account_holder      text NOT NULL CHECK (account_holder <> '' AND length(account_holder) <= 140),
    iban                text NOT NULL CHECK (iban ~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$'),
    bic                 text CHECK (bic ~ '^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$'),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payee_bank_accounts_payee_matches_kind CHECK (
        (payee_kind = 'provider' AND payee_client_id IS NOT NULL AND payee_affiliate_id IS NULL) OR
        (payee_kind = 'affiliate' AND payee_affiliate_id IS NOT NULL AND payee_client_id IS NULL))
);
CREATE UNIQUE INDEX payee_bank_accounts_client_key ON payee_bank_accounts (payee_client_id)
    WHERE payee_client_id IS NOT NULL;
CREATE UNIQUE INDEX payee_bank_accounts_affiliate_key ON payee_bank_accounts (payee_affiliate_id)
    WHERE payee_affiliate_id IS NOT NULL;

-- One pain.001 file written for (execution date, currency). `sequence` numbers the files
-- of one date and currency: a later run only writes a file when new transfers arrived.
CREATE TABLE bank_transfer_files (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    execution_date   date NOT NULL,
    currency         currency_code NOT NULL,
    sequence         integer NOT NULL CHECK (sequence >= 1),
    file_name        text NOT NULL UNIQUE,
    path             text NOT NULL,
    message_id       text NOT NULL UNIQUE,
    transfer_count   integer NOT NULL CHECK (transfer_count > 0),
    control_sum      bigint NOT NULL CHECK (control_sum > 0),   -- minor units
    sha256           text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bank_transfer_files_key UNIQUE (execution_date, currency, sequence)
);

-- Every credit transfer the bank gateway accepted, one row per idempotency key: `pending`
-- until a statement books its EndToEndId (then `booked`); `file_id` is set when a pain.001
-- file carries it.
CREATE TABLE bank_transfers (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind                text NOT NULL CHECK (kind IN ('transfer', 'payout')),
    idempotency_key     text NOT NULL UNIQUE CHECK (idempotency_key <> ''),
    end_to_end_id       text NOT NULL UNIQUE,
    request_hash        text NOT NULL,   -- a key reused with other parameters is refused
    amount              bigint NOT NULL CHECK (amount > 0),
    currency            currency_code NOT NULL,
    creditor_name       text NOT NULL CHECK (creditor_name <> ''),
    creditor_iban       text NOT NULL,
    creditor_bic        text,
    remittance          text NOT NULL DEFAULT '',
    not_before          date,            -- the earliest execution date asked for
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'booked')),
    file_id             bigint REFERENCES bank_transfer_files (id) ON DELETE RESTRICT,
    entry_reference     text,            -- the statement entry that booked it
    created_at          timestamptz NOT NULL DEFAULT now(),
    booked_at           timestamptz
);
CREATE INDEX bank_transfers_unfiled_idx ON bank_transfers (currency, created_at)
    WHERE file_id IS NULL;

-- A charge routed to the bank gateway is recorded (and refused) under its name.
ALTER TABLE payments DROP CONSTRAINT payments_gateway_check;
ALTER TABLE payments ADD CONSTRAINT payments_gateway_check
    CHECK (gateway IN ('stripe', 'paypal', 'bank', 'bank_transfer', 'sandbox'));
