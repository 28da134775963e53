-- flag: CONTENT_MISMATCH
-- order: 210
-- kind: contact
-- verdict: hold
-- needs: send_batch.message_text
-- source: consumer-protection duty of truthful information; Reg F 1006.18
-- summary: the text states another amount, component or days overdue
-- definition: `message_text` states an amount (¥1,234.56 / 1234.56元 / RMB 1,234.56), an
--   amount component (本金 3,000.00元 / 罚息 45.60元 / a late fee of 10.00) or days overdue (逾期5天
--   / 5 days overdue) that differ from the ledger beyond tolerance
-- en name: Text states wrong figures
-- en explained: The text states an amount, component or days overdue that differ from the
--   ledger beyond tolerance.
-- zh name: 短信内容不实
-- zh explained: 短信正文写的金额、分项或逾期天数与账务不符（超出容差）。
-- reads: contact_context, run_params, stated_amount_value(), stated_amounts(),
--   stated_components(), stated_days_overdue(), without_components()
--
-- Precisely: message_text states an amount (¥1,234.56 / 1234.56元 / RMB 1,234.56) that
-- differs from overdue_amount by more than amount_tolerance, a labelled amount component
-- (本金 / 利息 / 服务费 / 罚息 / 违约金 / 滞纳金; principal, interest, service fee, penalty, late fee)
-- that differs from the ledger's overdue component by more than amount_tolerance (a
-- component the ledger does not have is 0.00), or days overdue (逾期5天 / 5 days overdue) that
-- differ from days_past_due by more than dpd_tolerance. Needs a usable loan and ledger,
-- like RULE_MISMATCH. Amounts are read only in collection and escalation texts: a reminder
-- states the coming bill, not an overdue amount. docs/contact_checks.md
WITH stated AS (
    SELECT
        source_row,
        overdue_amount,
        days_past_due,
        CASE WHEN states_components THEN stated_amounts(without_components(message_text))
             WHEN is_collection_wording THEN stated_amounts(message_text)
             ELSE [] END AS amounts,
        CASE WHEN states_components THEN list_transform(
            stated_components(message_text),
            lambda c: {'component': c.component, 'amount': c.amount,
                       'ledger': CASE c.component
                                     WHEN 'principal' THEN principal_overdue
                                     WHEN 'interest' THEN interest_overdue
                                     WHEN 'fee' THEN fee_overdue
                                     ELSE penalty_overdue END})
             ELSE [] END AS components,
        stated_days_overdue(message_text) AS days
    FROM contact_context
    WHERE truth_known AND message_text IS NOT NULL
),
wrong AS (
    SELECT
        s.source_row,
        s.overdue_amount,
        s.days_past_due,
        list_filter(s.amounts, lambda a: stated_amount_value(a) IS NULL
            OR abs(stated_amount_value(a) - s.overdue_amount) > p.amount_tolerance)
            AS wrong_amounts,
        list_filter(s.components, lambda c: stated_amount_value(c.amount) IS NULL
            OR abs(stated_amount_value(c.amount) - c.ledger) > p.amount_tolerance)
            AS wrong_components,
        list_filter(s.days, lambda d: TRY_CAST(d AS BIGINT) IS NULL
            OR abs(TRY_CAST(d AS BIGINT) - s.days_past_due) > p.dpd_tolerance) AS wrong_days
    FROM stated AS s
    CROSS JOIN run_params AS p
)
SELECT
    source_row,
    concat_ws(', ',
        CASE WHEN len(wrong_amounts) > 0 THEN format(
            'text states {} but overdue_amount is {}',
            array_to_string(wrong_amounts, ' / '), CAST(overdue_amount AS VARCHAR)) END,
        CASE WHEN len(wrong_components) > 0 THEN array_to_string(list_transform(
            wrong_components,
            lambda c: format('text states {} {} but the ledger''s overdue {} is {}',
                             c.component, c.amount, c.component, CAST(c.ledger AS VARCHAR))),
            ', ') END,
        CASE WHEN len(wrong_days) > 0 THEN format(
            'text states {} days overdue but days_past_due is {}',
            array_to_string(wrong_days, ' / '), days_past_due) END
    ) AS detail
FROM wrong
WHERE len(wrong_amounts) > 0 OR len(wrong_components) > 0 OR len(wrong_days) > 0
