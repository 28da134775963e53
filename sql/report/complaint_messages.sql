-- report: complaint_messages
-- answers: which planned messages could each complaint be about, and did they go out? For
-- every complaint (temporary table `complaints`), the messages of the run that counts for
-- each night (runs_by_night.is_latest) to the same person, planned (scheduled_at, else the
-- run's as-of) within $window_days days before the complaint was received, up to that
-- instant. The same person is the complaint's borrower_id when it names one, else its
-- phone as each run keeps it: in clear, or as its keyed hash in a pseudonymised run.
-- `dispatched` says whether the message went out: listed in the SMS gateway's log
-- (temporary table `dispatched`) when $dispatch_log, else taken from the verdict (the
-- dispatcher follows it: send went out, hold, block and rejected did not). A message_id
-- planned on several nights went out from the plan of the latest run before its sent_at. Timestamps and
-- amounts come back as text (timestamps in the session's time zone). Sorted by complaint,
-- then night, scheduled_at, message_id.
-- tables: complaints (complaint_row INTEGER, borrower_id VARCHAR, phone VARCHAR,
--   phone_pseudonym VARCHAR, received_at TIMESTAMPTZ),
--   dispatched (message_id VARCHAR, sent_at TIMESTAMPTZ)
-- params: $window_days (INTEGER), $dispatch_log (BOOLEAN: false = no log was given)
-- reads: complaints, dispatched, findings, runs, runs_by_night
WITH planned AS (
    SELECT
        r.night,
        r.run_id,
        r.as_of,
        r.is_latest,
        coalesce(u.personal_data, 'clear') AS personal_data,
        coalesce(f.scheduled_at, r.as_of) AS planned_at,
        f.*
    EXCLUDE (run_id, night)
    FROM findings AS f
    JOIN runs_by_night AS r USING (run_id)
    JOIN runs AS u USING (run_id)
    WHERE r.is_latest
),
addressed AS (
    SELECT c.complaint_row, c.received_at, p.*
    FROM complaints AS c
    JOIN planned AS p ON p.borrower_id = c.borrower_id
    UNION ALL
    SELECT c.complaint_row, c.received_at, p.*
    FROM complaints AS c
    JOIN planned AS p ON p.phone = c.phone
    WHERE c.borrower_id IS NULL AND p.personal_data <> 'pseudonymised'
    UNION ALL
    SELECT c.complaint_row, c.received_at, p.*
    FROM complaints AS c
    JOIN planned AS p ON p.phone = c.phone_pseudonym
    WHERE c.borrower_id IS NULL AND p.personal_data = 'pseudonymised'
),
-- Each line of the log went out from one night's plan of its message_id: the latest run
-- judged by sent_at (without a sent_at, the latest run; sent before every run that planned
-- it, the earliest), so an id planned again on a later night is not sent twice over.
attributed AS (
    SELECT
        message_id,
        d.sent_at,
        coalesce(
            arg_max(p.run_id, p.as_of) FILTER (WHERE d.sent_at IS NULL OR p.as_of <= d.sent_at),
            arg_min(p.run_id, p.as_of)) AS run_id
    FROM dispatched AS d
    JOIN planned AS p USING (message_id)
    GROUP BY message_id, d.sent_at
),
sent AS (
    SELECT message_id, run_id, min(sent_at) AS sent_at
    FROM attributed
    GROUP BY message_id, run_id
)
SELECT
    a.complaint_row,
    CAST(a.night AS VARCHAR) AS night,
    a.run_id,
    CAST(a.as_of AS VARCHAR) AS as_of,
    a.is_latest,
    a.personal_data,
    a.message_id,
    a.borrower_id,
    a.phone,
    a.borrower_name,
    a.loan_id,
    CAST(a.scheduled_at AS VARCHAR) AS scheduled_at,
    a.rule_id,
    a.rule_category,
    a.template_id,
    a.template_kind,
    CAST(a.overdue_amount AS VARCHAR) AS overdue_amount,
    a.days_past_due,
    CAST(a.claimed_overdue_amount AS VARCHAR) AS claimed_overdue_amount,
    a.claimed_days_past_due,
    a.verdict,
    a.flags,
    a.reason,
    a.details,
    CASE WHEN $dispatch_log THEN s.message_id IS NOT NULL ELSE a.verdict = 'send' END
        AS dispatched,
    CAST(s.sent_at AS VARCHAR) AS sent_at
FROM addressed AS a
LEFT JOIN sent AS s
    ON $dispatch_log AND s.message_id = a.message_id AND s.run_id = a.run_id
WHERE a.planned_at BETWEEN a.received_at - to_days(CAST($window_days AS INTEGER))
    AND a.received_at
ORDER BY a.complaint_row, a.night, a.scheduled_at NULLS LAST, a.message_id NULLS LAST,
    a.source_row;
