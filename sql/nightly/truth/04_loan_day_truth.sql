-- reads: installments, loan_ledger, message_inputs, $loan_bucket, $loan_buckets
-- loan_day_truth: the ledger truth of CONTRACT §2, once per (loan, send date).
--   Installments are ordered by (due_date, installment_no); C_k is the cumulative
--   amount_due through installment k. Installment k is past due at s when
--   d(s) > due_date_k + g days.
--   overdue_amount = max(0, C_last − P), where `last` is the last installment past due
--   at s (0 when none is).
--   The loan is overdue at s when overdue_amount ≥ min_overdue_amount and its status is
--   not `closed`.
--   days_past_due = d(s) − due_date_k*, where k* is the first installment with
--   C_k − P ≥ min_overdue_amount, when the loan is overdue at s; otherwise 0.
-- min_overdue_amount is the loan's own when loans gives one (docs/inputs.md).
-- Because amount_due ≥ 0, C_k never decreases: C_last is the largest C_k past due, and
-- k* is the earliest-due installment with C_k − P ≥ min_overdue_amount.
-- Only installments past due on some send date of their loan are summed: they are a prefix
-- of the order, so C_k is unchanged, and k* lies among them whenever the loan is overdue
-- (first_unpaid_due_date is NULL, and unused, when k* would be a later installment).
-- A drop too large for memory_limit is worked out in loan buckets, one statement each
-- (reconcile/nightly/decide.py sets the variables loan_buckets and loan_bucket; unset,
-- the one bucket is every loan): the hash tables of joining and grouping every (loan,
-- send date) at once do not spill, and at 30M messages alone outgrew a 3 GB limit.
CREATE OR REPLACE TABLE loan_day_truth AS
WITH loan_days AS (
    SELECT DISTINCT loan_id, send_date, grace_days, loan_status, min_overdue_amount
    FROM message_inputs
    WHERE truth_known
      -- As UBIGINT, hash()'s own type: mixed with the variables' INTEGER, the remainder
      -- was worked out in a wider type, at 1M messages 0.15 s of this statement.
      AND hash(loan_id) % CAST(coalesce(getvariable('loan_buckets'), 1) AS UBIGINT)
          = CAST(coalesce(getvariable('loan_bucket'), 0) AS UBIGINT)
),
latest_cutoffs AS (
    SELECT loan_id, max(send_date - grace_days) AS latest_cutoff
    FROM loan_days
    GROUP BY loan_id
),
schedule AS (
    SELECT
        loan_id,
        due_date,
        sum(CAST(amount_due AS DECIMAL(38, 2))) OVER (  -- cannot overflow
            PARTITION BY loan_id ORDER BY due_date, installment_no
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS cumulative_due
    FROM installments
    SEMI JOIN latest_cutoffs AS c
        ON c.loan_id = installments.loan_id AND installments.due_date < c.latest_cutoff
    WHERE problem IS NULL
),
day_ledger AS (
    SELECT
        d.*,
        coalesce(g.settled_paid, 0) AS paid,
        coalesce(g.pending_paid, 0) AS pending
    FROM loan_days AS d
    LEFT JOIN loan_ledger AS g USING (loan_id)
),
per_day AS (
    SELECT
        d.loan_id,
        d.send_date,
        d.grace_days,
        d.loan_status,
        d.paid,
        d.pending,
        d.min_overdue_amount,
        coalesce(max(s.cumulative_due) FILTER (d.send_date > s.due_date + d.grace_days), 0)
            AS due_by_send_date,
        min(s.due_date) FILTER (s.cumulative_due - d.paid >= d.min_overdue_amount)
            AS first_unpaid_due_date
    FROM day_ledger AS d
    LEFT JOIN schedule AS s USING (loan_id)
    GROUP BY ALL
),
amounts AS (
    SELECT
        *,
        greatest(due_by_send_date - paid, 0) AS overdue_amount,
        greatest(due_by_send_date - paid - pending, 0) AS overdue_if_pending_settles
    FROM per_day
)
SELECT
    loan_id,
    send_date,
    grace_days,
    min_overdue_amount,
    paid,
    pending,
    due_by_send_date,
    first_unpaid_due_date,
    CAST(overdue_amount AS DECIMAL(18, 2)) AS overdue_amount,
    overdue_amount >= min_overdue_amount AND loan_status <> 'closed' AS is_overdue,
    CASE WHEN overdue_amount >= min_overdue_amount AND loan_status <> 'closed'
         THEN CAST(send_date - first_unpaid_due_date AS BIGINT) ELSE 0 END AS days_past_due,
    overdue_if_pending_settles < min_overdue_amount AS pending_would_clear
FROM amounts;
