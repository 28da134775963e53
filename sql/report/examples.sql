-- report: examples
-- answers: what does each flag look like on real messages? Up to $per_flag messages per
-- flag (the first in send_batch order), each message listed once, under the first of its
-- picked flags in $flag_order (reconcile's flag order), with every flag it carries and the
-- evidence: ledger truth, what the message claimed, the reason, and details (each flag's
-- evidence as {flag, detail}, which the report shows: the reason is not split). Phone and
-- name come back as stored; the report masks them.
-- params: $run_id, $per_flag, $flag_order (the flags in the order the report lists them)
-- reads: findings
WITH hits AS (
    SELECT unnest(flags) AS flag, source_row
    FROM findings
    WHERE run_id = $run_id
),
picked AS (
    SELECT
        source_row,
        flag,
        row_number() OVER (PARTITION BY flag ORDER BY source_row) AS n
    FROM hits
),
grouped AS (
    SELECT
        source_row,
        arg_min(flag, coalesce(list_position($flag_order, flag), 1000000)) AS shown_under
    FROM picked
    WHERE n <= $per_flag
    GROUP BY source_row
)
SELECT
    g.shown_under AS flag,
    f.message_id,
    f.verdict,
    f.phone,
    f.borrower_name,
    f.loan_id,
    CAST(f.overdue_amount AS VARCHAR) AS overdue_amount,
    f.days_past_due,
    CAST(f.claimed_overdue_amount AS VARCHAR) AS claimed_overdue_amount,
    f.claimed_days_past_due,
    f.reason,
    f.flags,
    f.rule_id,
    f.template_id,
    f.details
FROM grouped AS g
JOIN findings AS f ON f.run_id = $run_id AND f.source_row = g.source_row
ORDER BY coalesce(list_position($flag_order, g.shown_under), 1000000), g.shown_under,
    f.source_row;
