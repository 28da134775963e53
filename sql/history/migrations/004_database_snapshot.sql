-- reads: runs
-- migration 4: the database snapshot a run's tables were read in (docs/databases.md): the
-- instant by the database server's clock, and the whole snapshot (source, kind, replica,
-- replication lag). NULL for runs whose tables all came from files, and for runs recorded
-- before this migration.
ALTER TABLE runs ADD COLUMN snapshot_at TIMESTAMPTZ;
ALTER TABLE runs ADD COLUMN snapshot JSON;
