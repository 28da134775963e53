-- reads: findings
-- migration 5: each finding's evidence as data (docs/history.md): details, one
-- {flag, detail} per flag in the order of flags, from which reason is written (an empty
-- list for a message without flags). Runs recorded before this migration have no details
-- in their files (NULL there); the catalog's findings view reads theirs from reason
-- (sql/history/catalog.sql), so every reader of the catalog sees details.
ALTER TABLE findings ADD COLUMN details STRUCT(flag VARCHAR, detail VARCHAR)[];
