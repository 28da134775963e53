-- report: runs
-- answers: which run is reported on, and which run stands for the night before it?
-- RUN_ID defaults to the latest completed run by as_of, then finished_at. A run's night is
-- the local date of its as_of in its own configured timezone (the runs files' `night`, as
-- in the runs_by_night view); its timezone is NULL for a run that recorded none. The
-- previous night is the latest earlier night with a completed run, and the run that
-- stands for it is its latest by as_of, then finished_at. So a re-run of the same
-- night (--force) is never its own "previous night", and a gap in the nights is not filled.
-- params: $run_id (NULL = the latest run)
-- reads: runs
WITH completed AS (
    SELECT
        run_id,
        as_of,
        finished_at,
        settings ->> 'timezone' AS timezone,
        night
    FROM runs
    WHERE status = 'completed'
),
chosen AS (
    SELECT run_id, timezone, night
    FROM completed
    WHERE $run_id IS NULL OR run_id = $run_id
    ORDER BY as_of DESC, finished_at DESC, run_id DESC
    LIMIT 1
)
SELECT
    c.run_id,
    c.timezone,
    (SELECT p.run_id
     FROM completed AS p
     WHERE p.night < c.night
     ORDER BY p.night DESC, p.as_of DESC, p.finished_at DESC, p.run_id DESC
     LIMIT 1) AS previous_run_id
FROM chosen AS c;
