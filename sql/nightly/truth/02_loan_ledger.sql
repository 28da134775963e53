-- reads: collection_pauses, installments, payments, run_params
-- loan_ledger: one row per loan_id with usable ledger rows, computed once per loan.
-- P (CONTRACT §2) = sum of `amount` of the loan's payments with status `settled` and
-- posted_at ≤ T; pending payments known at T feed PAYMENT_PENDING; the last change of a
-- payment, installment or collection pause known at T feeds STALE_DATA.
-- The payments that name the installment they were made for are cited in evidence only:
-- the truth keeps the contract's oldest-first reading (docs/interpretations.md).
CREATE OR REPLACE TABLE loan_ledger AS
WITH payment_totals AS (
    SELECT
        loan_id,
        -- DECIMAL(38, 2): no drop's sum overflows it (a loan's total reaching 10^16 is
        -- LEDGER_INVALID, see reconcile/nightly/staging.py, but its rows are still summed here).
        coalesce(sum(CAST(amount AS DECIMAL(38, 2))) FILTER (status = 'settled'), 0)
            AS settled_paid,
        coalesce(sum(CAST(amount AS DECIMAL(38, 2))) FILTER (status = 'pending'), 0)
            AS pending_paid,
        max(posted_at) AS last_payment_change_at,
        arg_max(payment_id, (posted_at, payment_id)) AS last_payment_id
    FROM payments, run_params
    WHERE payments.problem IS NULL AND posted_at <= run_params.as_of
    GROUP BY loan_id
),
-- A grouping of its own, over the few payments that name an installment: as a filtered
-- list() beside the totals it cost every payment a struct, named or not.
named_installments AS (
    SELECT
        loan_id,
        -- Sorted once gathered: an ORDER BY inside the aggregate costs every group a sort.
        list_transform(list_sort(list({'posted_at': posted_at, 'payment_id': payment_id,
                                       'installment_no': installment_no})),
                       lambda p: format('{} for installment {}', p.payment_id,
                                        p.installment_no)) AS named_installments
    FROM payments, run_params
    WHERE payments.problem IS NULL AND posted_at <= run_params.as_of
      AND status = 'settled' AND installment_no IS NOT NULL
    GROUP BY loan_id
),
installment_changes AS (
    SELECT
        loan_id,
        max(updated_at) AS last_installment_change_at,
        -- The latest (updated_at, installment_no) as one number, which is cheaper to compare
        -- than a struct: |installment_no| < 10^9, so installment_no + 10^9 fits below 2·10^9.
        arg_max(installment_no, CAST(epoch_us(updated_at) AS HUGEINT) * 2000000000
                                + (installment_no + 1000000000)) AS last_installment_no
    FROM installments, run_params
    WHERE installments.problem IS NULL AND updated_at <= run_params.as_of
    GROUP BY loan_id
),
pause_changes AS (
    SELECT
        loan_id,
        max(recorded_at) AS last_pause_change_at,
        arg_max(format('{} from {}', kind, paused_from), (recorded_at, kind, paused_from))
            AS last_pause
    FROM collection_pauses, run_params
    WHERE collection_pauses.problem IS NULL AND recorded_at <= run_params.as_of
    GROUP BY loan_id
)
SELECT
    loan_id,
    coalesce(settled_paid, 0) AS settled_paid,
    coalesce(pending_paid, 0) AS pending_paid,
    last_payment_change_at,
    last_payment_id,
    CASE WHEN len(named_installments) > 0 THEN concat(
        'payments name their installment: ',
        array_to_string(named_installments[1:3], ', '),
        CASE WHEN len(named_installments) > 3
             THEN format(' and {} more', len(named_installments) - 3) ELSE '' END)
    END AS payment_allocation,
    last_installment_change_at,
    last_installment_no,
    last_pause_change_at,
    last_pause
FROM payment_totals
LEFT JOIN named_installments USING (loan_id)
FULL OUTER JOIN installment_changes USING (loan_id)
FULL OUTER JOIN pause_changes USING (loan_id);
