-- report: run_header
-- answers: when was a run judged (as-of, shown in the session's time zone), when did it
-- finish (to the second), on which drop, with which reconcile, and how many send_batch
-- rows did it have, what could its data not tell (warnings), and does the history keep
-- its phones and names pseudonymised? Which report language, profile and switched-off
-- checks did its settings name (NULL for runs recorded before a setting existed)?
-- params: $run_id
-- reads: runs
SELECT
    run_id,
    CAST(as_of AS VARCHAR) AS as_of,
    CAST(date_trunc('second', finished_at) AS VARCHAR) AS finished_at,
    duration_seconds,
    data_dir,
    reconcile_version,
    messages,
    warnings,
    personal_data,
    settings ->> 'report_language' AS report_language,
    settings ->> 'profile' AS profile,
    CAST(settings -> 'disabled_checks' AS VARCHAR[]) AS disabled_checks
FROM runs
WHERE run_id = $run_id;
