-- flag: UNPLACED_PAYMENT
-- order: 140
-- kind: feed
-- verdict: hold
-- source: reconcile's own
-- summary: a payment names no known loan and could be this one's
-- definition: a settled or pending payment names no loan of `loans`, and the message could
--   be its loan's (same loan_id up to case, punctuation and leading zeros, or the same
--   amount); every message past `max_unplaced_payments`
-- en name: Unplaced payment
-- en explained: A payment names no known loan, and this message could be that loan's.
-- zh name: 还款无法归属
-- zh explained: 有一笔还款找不到对应借据，而这条短信可能正是那笔借据的。
-- reads: message_context, run_params, unplaced_payments, is_blank(), loan_match_key(),
--   quote_value()
--
-- Precisely: (docs/inputs.md) a settled or pending payment known at T cannot be placed: its
-- loan_id is empty or not in `loans` (unplaced_payments). It is money some borrower paid,
-- so the messages it could belong to are held: those whose loan_id means the same as the
-- payment's (loan_match_key: case, punctuation and leading zeros aside), or whose
-- claimed_overdue_amount or ledger overdue_amount equals its amount. Every readable message
-- is held instead when unplaced_payment_policy is `hold_all`, or when there are more than
-- max_unplaced_payments of them (a payment feed that broken cannot be narrowed down; under
-- policy `fail` the run stops with exit 4 before this check).
WITH night AS (
    SELECT count(*) AS payments,
           sum(CAST(amount AS DECIMAL(38, 2))) AS total,
           count(*) > 0 AND (any_value(p.unplaced_payment_policy) = 'hold_all'
                             OR count(*) > any_value(p.max_unplaced_payments)) AS holds_all,
           any_value(p.unplaced_payment_policy) AS policy,
           any_value(p.max_unplaced_payments) AS max_payments
    FROM unplaced_payments CROSS JOIN run_params AS p
),
candidates AS (
    SELECT c.source_row, u.source_row AS payment_row, 'loan_id' AS matched_on
    FROM message_context AS c
    JOIN unplaced_payments AS u ON u.match_key = loan_match_key(c.loan_id)
    WHERE u.match_key <> ''
    UNION ALL
    SELECT c.source_row, u.source_row, 'claimed amount'
    FROM message_context AS c
    JOIN unplaced_payments AS u ON u.amount = c.claimed_overdue_amount
    UNION ALL
    SELECT c.source_row, u.source_row, 'ledger overdue amount'
    FROM message_context AS c
    JOIN unplaced_payments AS u ON u.amount = c.overdue_amount
),
matches AS (
    SELECT source_row, payment_row,
           string_agg(DISTINCT matched_on, ' and ' ORDER BY matched_on) AS matched_on
    FROM candidates
    GROUP BY source_row, payment_row
)
SELECT
    c.source_row,
    format('{} payments totalling {} cannot be placed (loan_id empty or not in loans; see '
           'input_issues.csv): {}', n.payments, CAST(n.total AS VARCHAR),
           CASE WHEN n.policy = 'hold_all' THEN 'unplaced_payment_policy is hold_all'
                ELSE format('more than max_unplaced_payments ({})', n.max_payments) END)
        AS detail
FROM message_context AS c
CROSS JOIN night AS n
WHERE n.holds_all
UNION ALL
SELECT
    m.source_row,
    array_to_string(list(format('{} payment {} of {} {} has the same {}',
                                u.status, u.payment_id, CAST(u.amount AS VARCHAR),
                                CASE WHEN is_blank(u.loan_id) THEN 'with no loan_id'
                                     ELSE format('for loan_id {}, not in loans,',
                                                 quote_value(u.loan_id, 40)) END,
                                m.matched_on)
                         ORDER BY u.source_row)[1:3], '; ')
        || CASE WHEN count(*) > 3 THEN format('; and {} more', count(*) - 3) ELSE '' END
        AS detail
FROM matches AS m
JOIN unplaced_payments AS u ON u.source_row = m.payment_row
CROSS JOIN night AS n
WHERE NOT n.holds_all
GROUP BY m.source_row
