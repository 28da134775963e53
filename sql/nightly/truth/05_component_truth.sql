-- reads: installments, message_inputs, payments, run_params
-- component_truth: what each amount component of a loan is overdue by at s, once per
-- (loan, send date), only for the loans of messages whose text states one
-- (message_inputs.states_components); docs/inputs.md, "Amount components".
--   overdue_c = max(0, the c_due of the installments past due at s (those C_last counts)
--                      − the c_paid of the settled payments posted at or before T),
--   for c in principal, interest, fee, penalty; an empty cell is 0, so a ledger without
--   a component owes 0.00 of it.
-- A step of its own rather than columns of loan_day_truth: most nights no text states a
-- component, and then this reads nothing, where extra columns would widen every row of
-- that step's window over all installments.
CREATE OR REPLACE TABLE component_truth AS
WITH loan_days AS (
    SELECT DISTINCT loan_id, send_date, grace_days
    FROM message_inputs
    WHERE truth_known AND states_components
),
paid AS (
    SELECT
        loan_id,
        sum(CAST(coalesce(principal_paid, 0) AS DECIMAL(38, 2))) AS principal,
        sum(CAST(coalesce(interest_paid, 0) AS DECIMAL(38, 2))) AS interest,
        sum(CAST(coalesce(fee_paid, 0) AS DECIMAL(38, 2))) AS fee,
        sum(CAST(coalesce(penalty_paid, 0) AS DECIMAL(38, 2))) AS penalty
    FROM payments, run_params
    WHERE payments.problem IS NULL AND status = 'settled' AND posted_at <= run_params.as_of
      AND loan_id IN (SELECT loan_id FROM loan_days)
    GROUP BY loan_id
),
due AS (
    SELECT
        d.loan_id,
        d.send_date,
        d.grace_days,
        coalesce(sum(CAST(coalesce(i.principal_due, 0) AS DECIMAL(38, 2))), 0) AS principal,
        coalesce(sum(CAST(coalesce(i.interest_due, 0) AS DECIMAL(38, 2))), 0) AS interest,
        coalesce(sum(CAST(coalesce(i.fee_due, 0) AS DECIMAL(38, 2))), 0) AS fee,
        coalesce(sum(CAST(coalesce(i.penalty_due, 0) AS DECIMAL(38, 2))), 0) AS penalty
    FROM loan_days AS d
    LEFT JOIN installments AS i
        ON i.loan_id = d.loan_id AND i.problem IS NULL
        AND d.send_date > i.due_date + d.grace_days
    GROUP BY ALL
)
SELECT
    d.loan_id,
    d.send_date,
    d.grace_days,
    CAST(greatest(d.principal - coalesce(p.principal, 0), 0) AS DECIMAL(18, 2))
        AS principal_overdue,
    CAST(greatest(d.interest - coalesce(p.interest, 0), 0) AS DECIMAL(18, 2))
        AS interest_overdue,
    CAST(greatest(d.fee - coalesce(p.fee, 0), 0) AS DECIMAL(18, 2)) AS fee_overdue,
    CAST(greatest(d.penalty - coalesce(p.penalty, 0), 0) AS DECIMAL(18, 2)) AS penalty_overdue
FROM due AS d
LEFT JOIN paid AS p USING (loan_id);
