-- reads: input_issues, known_loans, loans, rules, run_params, send_batch, templates,
--   unusable_loans, is_blank(), labelled_amount_pattern(), row_reference()
-- message_inputs: every readable message (rejected rows excluded) with what the ledger,
-- templates and rules say about it, keyed by source_row, beside the message's own columns
-- (its ids, times, claims, recipient and text). Those are carried here, where send_batch
-- is read anyway, so that message_context adds the truth to each row as it streams past:
-- joining send_batch back by source_row made DuckDB hold every message's text in one hash
-- table (at 10M messages 7 GB spilled to disk and 20 s, against 11 s with this copy).
-- d(s), the local calendar date of scheduled_at in the configured timezone, is send_date;
-- g is the loan's grace_days, else the configured one; likewise the loan's own
-- min_overdue_amount, else the configured one (docs/inputs.md). states_components marks a
-- collection or escalation text that states a labelled amount component (本金, 罚息, ...):
-- only its loan's components are worked out (component_truth).
CREATE OR REPLACE TABLE message_inputs AS
-- known_loans (staging): every loan_id that `loans` names, usable or not.
WITH usable_loans AS (
    SELECT loan_id, borrower_id, status, grace_days, min_overdue_amount
    FROM loans WHERE problem IS NULL
),
template_problems AS (
    SELECT t.template_id,
           string_agg(format('{}: {}', row_reference('templates', t.source_row, i.row_key),
                             t.problem), '; ' ORDER BY t.source_row) AS reason
    FROM templates AS t
    LEFT JOIN input_issues AS i
        ON i.table_name = 'templates' AND i.source_row = t.source_row
    WHERE t.problem IS NOT NULL AND NOT is_blank(t.template_id)
    GROUP BY t.template_id
),
usable_templates AS (
    SELECT template_id, kind, min_dpd, max_dpd FROM templates WHERE problem IS NULL
),
usable_rules AS (
    SELECT rule_id, category FROM rules WHERE problem IS NULL
)
SELECT
    m.* EXCLUDE (source_row, loan_id, batch_id, problem),
    m.source_row,
    m.loan_id,
    CAST(timezone(p.timezone, m.scheduled_at) AS DATE) AS send_date,
    k.loan_id IS NOT NULL AS loan_known,
    l.borrower_id AS loan_borrower_id,
    l.status AS loan_status,
    CAST(coalesce(l.grace_days, p.grace_days) AS INTEGER) AS grace_days,
    coalesce(l.min_overdue_amount, p.min_overdue_amount) AS min_overdue_amount,
    l.min_overdue_amount IS NOT NULL AS loan_sets_min_overdue,
    u.reason AS ledger_problem,
    l.loan_id IS NOT NULL AND u.reason IS NULL AS truth_known,
    t.template_id IS NOT NULL AS template_usable,
    -- Only UNKNOWN_TEMPLATE reads it: made for a usable template too, it cost every
    -- message a formatted string, held through message_context.
    CASE WHEN t.template_id IS NULL
         THEN coalesce(tp.reason, format('template_id {} is not in templates', m.template_id))
    END AS template_problem,
    t.kind AS template_kind,
    t.min_dpd,
    t.max_dpd,
    coalesce(t.kind IN ('collection', 'escalation')
             AND regexp_matches(m.message_text, labelled_amount_pattern()), false)
        AS states_components,
    r.category AS rule_category
FROM send_batch AS m
CROSS JOIN run_params AS p
LEFT JOIN known_loans AS k ON k.loan_id = m.loan_id
LEFT JOIN usable_loans AS l ON l.loan_id = m.loan_id
LEFT JOIN unusable_loans AS u ON u.loan_id = m.loan_id
LEFT JOIN usable_templates AS t ON t.template_id = m.template_id
LEFT JOIN template_problems AS tp ON tp.template_id = m.template_id
LEFT JOIN usable_rules AS r ON r.rule_id = m.rule_id
WHERE m.problem IS NULL;
