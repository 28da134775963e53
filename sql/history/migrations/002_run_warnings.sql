-- reads: runs
-- migration 2: what the night's data could not tell (docs/inputs.md): ledger rows naming no
-- known loan, payments that cannot be placed, feeds that arrived empty, short or behind.
-- The morning report shows them first. Runs recorded before this migration have none.
ALTER TABLE runs ADD COLUMN warnings VARCHAR[] DEFAULT [];
