-- flag: STALE_DATA
-- order: 30
-- kind: ledger
-- verdict: hold
-- source: contract
-- summary: the ledger changed after the rule ran, or its data is too old
-- definition: a payment or installment changed after the rule ran (and by `T`), or the
--   rule's data is older than `max_rule_age_hours`; also a collection pause recorded after
--   the rule ran (and by `T`)
-- en name: Stale data
-- en explained: The ledger changed after the rule ran (a payment, bill or pause), or the
--   rule's data is too old.
-- zh name: 数据已过时
-- zh explained: 规则运行后账务又有变化（还款、账单或停催），或规则所用数据过旧。
-- reads: message_context, run_params
--
-- Precisely: the loan has a payment (any status) with rule_evaluated_at < posted_at ≤ T, or
-- an installment with rule_evaluated_at < updated_at ≤ T, or T − rule_evaluated_at >
-- `max_rule_age_hours` (default 24); or (docs/inputs.md) a collection pause with
-- rule_evaluated_at < recorded_at ≤ T.
-- last_*_change_at are the latest changes known at T (loan_ledger), so "some row changed
-- after the rule ran" is "the latest change is after the rule ran". The ledger clauses
-- need a usable ledger; the rule-age clause needs nothing else.
SELECT
    c.source_row,
    concat_ws(', ',
        CASE WHEN c.last_payment_change_at > c.rule_evaluated_at THEN format(
            'payment {} posted {} after the rule ran at {}',
            c.last_payment_id, c.last_payment_change_at, c.rule_evaluated_at) END,
        CASE WHEN c.last_installment_change_at > c.rule_evaluated_at THEN format(
            'installment {} updated {} after the rule ran at {}',
            c.last_installment_no, c.last_installment_change_at, c.rule_evaluated_at) END,
        CASE WHEN c.last_pause_change_at > c.rule_evaluated_at THEN format(
            'collection pause {} recorded {} after the rule ran at {}',
            c.last_pause, c.last_pause_change_at, c.rule_evaluated_at) END,
        CASE WHEN c.rule_age_us > p.max_rule_age_us THEN format(
            'rule data is {} h old (limit {} h)', c.rule_age_hours, p.max_rule_age_hours) END
    ) AS detail
FROM message_context AS c
CROSS JOIN run_params AS p
WHERE (c.ledger_problem IS NULL
       AND (c.last_payment_change_at > c.rule_evaluated_at
            OR c.last_installment_change_at > c.rule_evaluated_at
            OR c.last_pause_change_at > c.rule_evaluated_at))
   OR c.rule_age_us > p.max_rule_age_us
