-- reads: collection_pauses, component_truth, loan_day_truth, loan_ledger, message_inputs,
--   run_params
-- message_context: one row per readable message with every fact a check needs, so each
-- check in sql/nightly/checks/ is a plain predicate over this table.
-- active_pause lists the collection pauses in force on the send date (docs/inputs.md): a
-- usable collection_pauses row of the loan, known at T (recorded_at ≤ T), with
-- paused_from ≤ d(s) ≤ paused_until (no paused_until: open-ended).
CREATE OR REPLACE TABLE message_context AS
WITH active_pauses AS (
    SELECT
        m.source_row,
        string_agg(
            format('{} {}{}{} (recorded {})', q.kind,
                   CASE WHEN q.paused_until IS NULL THEN 'from ' ELSE '' END, q.paused_from,
                   CASE WHEN q.paused_until IS NOT NULL
                        THEN format('..{}', q.paused_until) ELSE '' END,
                   q.recorded_at),
            '; ' ORDER BY q.paused_from, q.kind, q.paused_until, q.recorded_at) AS active_pause
    FROM message_inputs AS m
    JOIN collection_pauses AS q ON q.loan_id = m.loan_id
    CROSS JOIN run_params AS p
    WHERE q.problem IS NULL
      AND q.recorded_at <= p.as_of
      AND q.paused_from <= m.send_date
      AND (q.paused_until IS NULL OR m.send_date <= q.paused_until)
    GROUP BY m.source_row
)
SELECT
    -- The message's own columns (ids, times, claims, recipient, text) come first.
    m.*,
    m.template_kind IN ('collection', 'escalation') AS is_collection_wording,
    t.overdue_amount,
    t.days_past_due,
    coalesce(t.is_overdue, false) AS is_overdue,
    -- NOT_OVERDUE's predicate, which PRE_DUE_TARGETING narrows: written once, here.
    m.truth_known AND m.template_usable AND is_collection_wording
        AND NOT coalesce(t.is_overdue, false) AS collection_while_not_overdue,
    coalesce(t.pending_would_clear, false) AS pending_would_clear,
    t.paid,
    t.pending,
    t.due_by_send_date,
    t.first_unpaid_due_date,
    k.principal_overdue,
    k.interest_overdue,
    k.fee_overdue,
    k.penalty_overdue,
    g.last_payment_change_at,
    g.last_payment_id,
    g.payment_allocation,
    g.last_installment_change_at,
    g.last_installment_no,
    g.last_pause_change_at,
    g.last_pause,
    a.active_pause,
    CASE WHEN m.ledger_problem IS NULL
         THEN greatest(g.last_payment_change_at, g.last_installment_change_at,
                       g.last_pause_change_at) END
        AS last_ledger_change_at,
    epoch_us(p.as_of) - epoch_us(m.rule_evaluated_at) AS rule_age_us,
    round((epoch_us(p.as_of) - epoch_us(m.rule_evaluated_at)) / 3600e6, 2) AS rule_age_hours
FROM message_inputs AS m
CROSS JOIN run_params AS p
LEFT JOIN loan_day_truth AS t
    ON m.truth_known AND t.loan_id = m.loan_id AND t.send_date = m.send_date
    AND t.grace_days = m.grace_days AND t.min_overdue_amount = m.min_overdue_amount
LEFT JOIN component_truth AS k
    ON m.states_components AND k.loan_id = m.loan_id AND k.send_date = m.send_date
    AND k.grace_days = m.grace_days
LEFT JOIN loan_ledger AS g
    ON g.loan_id = m.loan_id
LEFT JOIN active_pauses AS a
    ON a.source_row = m.source_row;
