-- reads: nothing
-- The first query of reconcile's REPEATABLE READ READ ONLY transaction on PostgreSQL, which
-- takes the snapshot every table of the night is then read in: the instant of that
-- snapshot by the server's clock (statement_timestamp(): this statement's start), whether
-- the server is a replica, and how many seconds its replay is behind its primary (0 when
-- it has replayed all it received; NULL on a primary). STALE_FEED holds the night when the
-- lag exceeds max_replica_lag_seconds.
SELECT
    statement_timestamp() AS taken_at,
    pg_is_in_recovery() AS replica,
    CASE
        WHEN NOT pg_is_in_recovery() THEN NULL
        WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
        ELSE CAST(extract(epoch FROM statement_timestamp() - pg_last_xact_replay_timestamp())
                  AS double precision)
    END AS replication_lag_seconds
