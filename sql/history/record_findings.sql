-- reads: findings, message_context, send_batch, history_personal(), $history_run_id
-- The history rows of one run (its id in the variable history_run_id), by the column names
-- of history.findings: each message's verdict with the evidence behind it (details, and
-- the reason spelled from them), from the run's in-memory tables (findings, send_batch,
-- message_context). history_personal() keeps a phone or name as the history's
-- personal-data setting says (a keyed hash by default). The rows are written by name
-- (reconcile/history/store.py _conformed, as INSERT ... BY NAME): the order of the columns
-- here need not follow the table's, and a column the table gains later is NULL until this
-- query names it.
SELECT
    getvariable('history_run_id') AS run_id,
    f.source_row,
    f.message_id,
    f.verdict,
    f.flags,
    f.reason,
    b.borrower_id,
    history_personal(b.borrower_name) AS borrower_name,
    history_personal(b.phone) AS phone,
    b.loan_id,
    b.batch_id,
    b.template_id,
    c.template_kind,
    b.rule_id,
    c.rule_category,
    b.rule_evaluated_at,
    b.scheduled_at,
    b.claimed_overdue_amount,
    b.claimed_days_past_due,
    f.overdue_amount,
    f.days_past_due,
    f.last_ledger_change_at,
    f.rule_age_hours,
    f.details
FROM findings AS f
JOIN send_batch AS b USING (source_row)
LEFT JOIN message_context AS c USING (source_row)
