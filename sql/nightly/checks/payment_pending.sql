-- flag: PAYMENT_PENDING
-- definition: the loan is overdue at s, and adding the amounts of its `pending` payments
--   with posted_at ≤ T to P would leave less than `min_overdue_amount` overdue.
SELECT
    source_row,
    format('pending payments of {} would clear the {} overdue',
           CAST(pending AS VARCHAR), CAST(overdue_amount AS VARCHAR)) AS detail
FROM message_context
WHERE truth_known AND is_overdue AND pending_would_clear
