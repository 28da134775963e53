-- report: message_person
-- answers: to whom was message $message_id planned? Its borrower_id, and its phone as the
-- run that planned it keeps it (in clear or as its keyed hash: personal_data says which),
-- from the latest run that holds the message; no row when no recorded run does. Tracing
-- that person (trace.sql) finds every message to them.
-- params: $message_id
-- reads: findings, runs, runs_by_night
SELECT
    f.borrower_id,
    f.phone,
    coalesce(u.personal_data, 'clear') AS personal_data
FROM findings AS f
JOIN runs_by_night AS r USING (run_id)
JOIN runs AS u USING (run_id)
WHERE f.message_id = $message_id
ORDER BY r.as_of DESC, r.finished_at DESC, r.run_id DESC, f.source_row
LIMIT 1;
