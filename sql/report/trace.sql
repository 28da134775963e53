-- report: trace
-- answers: every planned message to one person across the recorded nights: when it was
-- planned, by which rule and template, what the ledger said at the time beside what the
-- message claimed, its verdict and the evidence of every flag (details, one
-- {flag, detail} per flag; reason spells them out as text, or holds a rejected row's
-- cause). The person is a borrower_id or, when none is given, a phone as each run keeps
-- it: in clear (runs.personal_data 'clear') or as
-- its keyed hash ('pseudonymised'; `reconcile history pseudonym` prints it), so a history
-- holding both kinds of run is matched whole. Only the run that counts for each night
-- (runs_by_night.is_latest) unless $all_runs; nights from $since on. Timestamps and
-- amounts come back as text (timestamps in the session's time zone). Sorted by night,
-- scheduled_at, message_id (then as-of, for the re-runs of a night).
-- params: $borrower_id (NULL = match by phone), $phone (as sent, NULL = none),
--   $phone_pseudonym (its keyed hash, NULL = none), $since (YYYY-MM-DD or NULL),
--   $all_runs (BOOLEAN)
-- reads: findings, runs, runs_by_night
SELECT
    CAST(r.night AS VARCHAR) AS night,
    r.run_id,
    CAST(r.as_of AS VARCHAR) AS as_of,
    r.is_latest,
    coalesce(u.personal_data, 'clear') AS personal_data,
    f.message_id,
    f.borrower_id,
    f.phone,
    f.borrower_name,
    f.loan_id,
    CAST(f.scheduled_at AS VARCHAR) AS scheduled_at,
    f.rule_id,
    f.rule_category,
    f.template_id,
    f.template_kind,
    CAST(f.overdue_amount AS VARCHAR) AS overdue_amount,
    f.days_past_due,
    CAST(f.claimed_overdue_amount AS VARCHAR) AS claimed_overdue_amount,
    f.claimed_days_past_due,
    f.verdict,
    f.flags,
    f.reason,
    f.details
FROM findings AS f
JOIN runs_by_night AS r USING (run_id)
JOIN runs AS u USING (run_id)
WHERE (r.is_latest OR $all_runs)
    AND ($since IS NULL OR r.night >= CAST($since AS DATE))
    AND CASE
        WHEN $borrower_id IS NOT NULL THEN f.borrower_id = $borrower_id
        WHEN u.personal_data = 'pseudonymised' THEN f.phone = $phone_pseudonym
        ELSE f.phone = $phone
    END
-- A night's runs in the order they ran, the one that counts last (as runs_by_night ranks
-- them): run ids of one second are not in that order.
ORDER BY r.night, f.scheduled_at NULLS LAST, f.message_id NULLS LAST, r.as_of, r.finished_at,
    r.run_id, f.source_row;
