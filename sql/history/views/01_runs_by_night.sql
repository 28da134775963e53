-- view: runs_by_night
-- answers: Which run stands for each night? One row per completed run, with the local
--   night it reconciled and whether a later run of the same night replaced it.
-- reads: runs
--
-- A night is the calendar date of the run's as-of instant in the run's own configured
-- timezone (settings.timezone), so a run at 2026-11-23 01:30 +08:00 is night 2026-11-23
-- whatever the session's TimeZone: the `night` the runs files are partitioned by, which
-- the history computes once when it records the run. When a night was reconciled more
-- than once (--force), the run with the latest as-of (then the latest finish) is the one
-- that counts; every other view reads only those runs (is_latest).
--
-- columns:
--   night        DATE     local date of as_of in the run's timezone
--   run_id       VARCHAR
--   as_of        TIMESTAMPTZ  the instant T the ledger was judged at
--   finished_at  TIMESTAMPTZ  when the run finished
--   timezone     VARCHAR  the run's timezone setting
--   is_latest    BOOLEAN  true for the one run that counts for its night
--   messages, sent, held, blocked, rejected   BIGINT  the run's counts by verdict
CREATE OR REPLACE VIEW runs_by_night AS
WITH located AS (
    SELECT
        night,
        run_id,
        as_of,
        finished_at,
        settings ->> 'timezone' AS timezone,
        messages,
        sent,
        held,
        blocked,
        rejected
    FROM runs
    WHERE status = 'completed'
)
SELECT
    night,
    run_id,
    as_of,
    finished_at,
    timezone,
    row_number() OVER (
        PARTITION BY night ORDER BY as_of DESC, finished_at DESC, run_id DESC
    ) = 1 AS is_latest,
    messages,
    sent,
    held,
    blocked,
    rejected
FROM located
ORDER BY night, as_of, finished_at, run_id;
