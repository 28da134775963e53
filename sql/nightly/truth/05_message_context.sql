-- message_context: one row per readable message with every fact a check needs, so each
-- check in sql/nightly/checks/ is a plain predicate over this table.
CREATE OR REPLACE TABLE message_context AS
SELECT
    m.*,
    m.template_kind IN ('collection', 'escalation') AS is_collection_wording,
    t.overdue_amount,
    t.days_past_due,
    coalesce(t.is_overdue, false) AS is_overdue,
    coalesce(t.pending_would_clear, false) AS pending_would_clear,
    t.paid,
    t.pending,
    t.due_by_send_date,
    t.first_unpaid_due_date,
    g.last_payment_change_at,
    g.last_payment_id,
    g.last_installment_change_at,
    g.last_installment_no,
    CASE WHEN m.ledger_problem IS NULL
         THEN greatest(g.last_payment_change_at, g.last_installment_change_at) END
        AS last_ledger_change_at,
    epoch_us(p.as_of) - epoch_us(m.rule_evaluated_at) AS rule_age_us,
    round((epoch_us(p.as_of) - epoch_us(m.rule_evaluated_at)) / 3600e6, 2) AS rule_age_hours
FROM message_inputs AS m
CROSS JOIN run_params AS p
LEFT JOIN loan_day_truth AS t
    ON m.truth_known AND t.loan_id = m.loan_id AND t.send_date = m.send_date
    AND t.grace_days = m.grace_days
LEFT JOIN loan_ledger AS g
    ON g.loan_id = m.loan_id;
