-- reads: runs
-- migration 3: how a run's personal data is kept (docs/history.md). personal_data is
-- 'pseudonymised' (findings.phone and findings.borrower_name hold HMAC-SHA256 of the value
-- under the history's key, as lowercase hex) or 'clear'. pseudonym_key_id names the key
-- (runs with the same id share pseudonyms). Runs recorded before this migration kept clear
-- text unless the migration to the Parquet layout pseudonymised them.
ALTER TABLE runs ADD COLUMN personal_data VARCHAR DEFAULT 'clear';
ALTER TABLE runs ADD COLUMN pseudonym_key_id VARCHAR;
