-- flag: PRE_DUE_TARGETING
-- definition: `NOT_OVERDUE` holds, and the rule's category is `risk_control` or
--   claimed_days_past_due ≤ 0.
SELECT
    source_row,
    concat_ws(', ',
        CASE WHEN rule_category = 'risk_control'
             THEN format('rule {} is a risk_control rule', rule_id) END,
        CASE WHEN claimed_days_past_due <= 0
             THEN format('message claims {} days past due', claimed_days_past_due) END
    ) AS detail
FROM message_context
WHERE truth_known AND template_usable AND is_collection_wording AND NOT is_overdue
  AND (rule_category = 'risk_control' OR claimed_days_past_due <= 0)
