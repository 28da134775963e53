-- report: examples
-- answers: what does each flag look like on real messages? Up to $per_flag messages per
-- flag (the first in send_batch order), with the evidence: ledger truth, what the message
-- claimed, and the reason. Phone and name come back as stored; the report masks them.
-- params: $run_id, $per_flag
WITH hits AS (
    SELECT
        unnest(flags) AS flag,
        source_row, message_id, verdict, phone, borrower_name, loan_id,
        overdue_amount, days_past_due, claimed_overdue_amount, claimed_days_past_due, reason
    FROM findings
    WHERE run_id = $run_id
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY flag ORDER BY source_row) AS n
    FROM hits
)
SELECT
    flag,
    message_id,
    verdict,
    phone,
    borrower_name,
    loan_id,
    CAST(overdue_amount AS VARCHAR) AS overdue_amount,
    days_past_due,
    CAST(claimed_overdue_amount AS VARCHAR) AS claimed_overdue_amount,
    claimed_days_past_due,
    reason
FROM ranked
WHERE n <= $per_flag
ORDER BY flag, source_row;
