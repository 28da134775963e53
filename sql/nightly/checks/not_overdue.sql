-- flag: NOT_OVERDUE
-- order: 10
-- kind: ledger
-- verdict: block
-- source: contract
-- summary: a collection message for a loan not overdue at `s`
-- definition: a collection/escalation template, and the loan is not overdue at `s` (paid,
--   not yet due, in grace, closed)
-- en name: Not overdue
-- en explained: A collection text for a loan that is not overdue when it goes out (paid,
--   not yet due, in grace or closed).
-- zh name: 未逾期
-- zh explained: 催收短信发给了当时并未逾期的借款人（已还清、未到期、在宽限期内或已结清）。
-- reads: message_context
--
-- Not evaluated without a usable loan, ledger and template (docs/interpretations.md).
-- min_overdue_amount is the loan's own when loans gives one (docs/inputs.md).
SELECT
    source_row,
    CASE
        WHEN loan_status = 'closed' THEN format('loan {} is closed', loan_id)
        WHEN due_by_send_date = 0 THEN format(
            'nothing past due on {} (grace {} days)', send_date, grace_days)
        WHEN paid >= due_by_send_date THEN format(
            'paid {} of {} due by {}{}',
            CAST(paid AS VARCHAR), CAST(due_by_send_date AS VARCHAR), send_date,
            coalesce(format(' (counted oldest first; {})', payment_allocation), ''))
        ELSE format('overdue {} is below {}min_overdue_amount {}',
                    CAST(overdue_amount AS VARCHAR),
                    CASE WHEN loan_sets_min_overdue THEN 'the loan''s own ' ELSE '' END,
                    CAST(min_overdue_amount AS VARCHAR))
    END AS detail
FROM message_context
WHERE collection_while_not_overdue
