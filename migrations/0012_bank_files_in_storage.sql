-- 0012: bank files through the storage backend, and payee bank accounts kept as history.
--   * a pain.001 file is an object of the storage backend (local or S3) under
--     bank/pain001/<date>/<currency>/<file name>, recorded in bank_transfer_files
--     (storage_key, sha256) and as a `documents` row of kind `bank_file`;
--     `path` is only set on files written to a directory before this migration;
--   * a payee bank account is disabled, never deleted: the payouts and transfers already made
--     keep their history; one ACTIVE account per payee.

ALTER TABLE bank_transfer_files ALTER COLUMN path DROP NOT NULL;
ALTER TABLE bank_transfer_files ADD COLUMN storage_backend text;
ALTER TABLE bank_transfer_files ADD COLUMN storage_key text UNIQUE;
ALTER TABLE bank_transfer_files ADD COLUMN size_bytes bigint CHECK (size_bytes > 0);
ALTER TABLE bank_transfer_files ADD COLUMN document_id bigint
    REFERENCES documents (id) ON DELETE RESTRICT;
ALTER TABLE bank_transfer_files ADD CONSTRAINT bank_transfer_files_located
    CHECK (path IS NOT NULL OR (storage_key IS NOT NULL AND storage_backend IS NOT NULL));

ALTER TABLE documents DROP CONSTRAINT documents_owner_kind_check;
ALTER TABLE documents ADD CONSTRAINT documents_owner_kind_check
    CHECK (owner_kind IN ('client', 'invoice', 'credit_note', 'ticket', 'ticket_message',
                          'gallery', 'payout_batch', 'system', 'bank_transfer_file'));

ALTER TABLE payee_bank_accounts ADD COLUMN disabled_at timestamptz;
DROP INDEX payee_bank_accounts_client_key;
DROP INDEX payee_bank_accounts_affiliate_key;
CREATE UNIQUE INDEX payee_bank_accounts_client_key ON payee_bank_accounts (payee_client_id)
    WHERE payee_client_id IS NOT NULL AND disabled_at IS NULL;
CREATE UNIQUE INDEX payee_bank_accounts_affiliate_key ON payee_bank_accounts (payee_affiliate_id)
    WHERE payee_affiliate_id IS NOT NULL AND disabled_at IS NULL;
