-- flag: PAYMENT_PENDING
-- order: 50
-- kind: ledger
-- verdict: hold
-- source: contract
-- summary: pending payments would clear the overdue amount
-- definition: overdue, but pending payments known at `T` would clear it
-- en name: Payment pending
-- en explained: Overdue, but payments still pending would clear it.
-- zh name: 还款在途
-- zh explained: 已逾期，但在途还款到账后即可结清。
-- reads: message_context
--
-- Precisely: the loan is overdue at s, and adding the amounts of its `pending` payments
-- with posted_at ≤ T to P would leave less than `min_overdue_amount` overdue.
SELECT
    source_row,
    format('pending payments of {} would clear the {} overdue',
           CAST(pending AS VARCHAR), CAST(overdue_amount AS VARCHAR)) AS detail
FROM message_context
WHERE truth_known AND is_overdue AND pending_would_clear
