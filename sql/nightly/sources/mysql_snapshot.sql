-- reads: nothing
-- The first query of reconcile's consistent-snapshot transaction on MySQL or MariaDB
-- (START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY, session time_zone '+00:00'):
-- the instant of that snapshot by the server's clock, in UTC. A replica's lag comes from
-- SHOW REPLICA STATUS (Seconds_Behind_Source), which is not a SELECT.
SELECT UTC_TIMESTAMP(6) AS taken_at
