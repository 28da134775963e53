-- flag: RULE_MISMATCH
-- order: 40
-- kind: ledger
-- verdict: hold
-- source: contract
-- summary: claimed amount, days or template stage differ from the ledger
-- definition: the claimed amount or days past due differ from the ledger beyond tolerance,
--   or the template's dpd range excludes the real dpd
-- en name: Rule disagrees with ledger
-- en explained: The rule's overdue amount or days differ from the ledger beyond tolerance,
--   or the template's days range excludes the real days.
-- zh name: 规则与账务不符
-- zh explained: 规则给出的逾期金额或天数与账务不符（超出容差），或模板的天数范围不含真实天数。
-- reads: message_context, run_params
--
-- Precisely: claimed_overdue_amount is given and differs from overdue_amount by more than
-- `amount_tolerance` (default 0.01); or claimed_days_past_due is given and differs from
-- days_past_due by more than `dpd_tolerance` (default 1); or the template has
-- min_dpd/max_dpd and days_past_due lies outside them.
WITH compared AS (
    SELECT
        c.source_row,
        c.claimed_overdue_amount,
        c.overdue_amount,
        c.claimed_days_past_due,
        c.days_past_due,
        c.template_id,
        c.min_dpd,
        c.max_dpd,
        c.payment_allocation,
        abs(c.claimed_overdue_amount - c.overdue_amount) > p.amount_tolerance AS amount_off,
        abs(c.claimed_days_past_due - c.days_past_due) > p.dpd_tolerance AS days_off,
        c.template_usable
            AND (c.days_past_due < c.min_dpd OR c.days_past_due > c.max_dpd) AS out_of_range
    FROM message_context AS c
    CROSS JOIN run_params AS p
    WHERE c.truth_known
)
SELECT
    source_row,
    concat_ws(', ',
        CASE WHEN amount_off THEN format(
            'claimed overdue {} vs ledger {}',
            CAST(claimed_overdue_amount AS VARCHAR), CAST(overdue_amount AS VARCHAR)) END,
        CASE WHEN days_off THEN format(
            'claimed {} days past due vs ledger {}', claimed_days_past_due, days_past_due) END,
        CASE WHEN out_of_range THEN format(
            'template {} is for {}..{} days past due vs ledger {}', template_id,
            coalesce(CAST(min_dpd AS VARCHAR), ''), coalesce(CAST(max_dpd AS VARCHAR), ''),
            days_past_due) END,
        -- A rule that follows the payments' named installments counts otherwise: say so.
        CASE WHEN coalesce(amount_off, false) OR coalesce(days_off, false)
             THEN format('ledger counted oldest first; {}', payment_allocation) END
    ) AS detail
FROM compared
WHERE coalesce(amount_off, false) OR coalesce(days_off, false) OR coalesce(out_of_range, false)
