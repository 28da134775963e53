-- flag: PRE_DUE_TARGETING
-- order: 20
-- kind: ledger
-- verdict: block
-- source: contract
-- summary: that, from a risk-control rule or claiming ≤ 0 days
-- definition: `NOT_OVERDUE`, and the rule is `risk_control` or the message claims ≤ 0 days
--   past due
-- en name: Aimed before due
-- en explained: Not overdue, and from a risk-control rule or claiming 0 days or fewer:
--   collection wording aimed at someone not overdue.
-- zh name: 未到期即催收
-- zh explained: 未逾期，且来自风控规则或短信自称逾期 0 天以内：把催收措辞用在了未逾期的人身上。
-- reads: message_context
SELECT
    source_row,
    concat_ws(', ',
        CASE WHEN rule_category = 'risk_control'
             THEN format('rule {} is a risk_control rule', rule_id) END,
        CASE WHEN claimed_days_past_due <= 0
             THEN format('message claims {} days past due', claimed_days_past_due) END
    ) AS detail
FROM message_context
WHERE collection_while_not_overdue
  AND (rule_category = 'risk_control' OR claimed_days_past_due <= 0)
