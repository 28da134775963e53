-- flag: NOT_OVERDUE
-- definition: template kind is `collection` or `escalation`, and the loan is not overdue
--   at s (paid, not yet due, in grace, or closed).
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
WHERE truth_known AND template_usable AND is_collection_wording AND NOT is_overdue
