-- findings: one row per send_batch input row, with its verdict (CONTRACT §4).
-- A message takes the severest verdict its flags map to in verdict_policy; no flag is
-- `send`; an unreadable row is `rejected` with its cause.
-- Needs: send_batch (staged), message_context, flag_hits (one row per check hit),
-- verdict_policy (flag, flag_order, verdict, verdict_rank).
-- Hits are gathered as one sorted list of (flag_order, flag, detail) per message: a single
-- aggregate, several times faster than separate ORDER BY aggregates for flags and reason.
CREATE OR REPLACE TABLE findings AS
WITH flagged AS (
    SELECT
        h.source_row,
        list_sort(list(struct_pack(flag_order := v.flag_order, flag := h.flag,
                                   detail := h.detail))) AS hits,
        arg_max(v.verdict, v.verdict_rank) AS verdict
    FROM flag_hits AS h
    JOIN verdict_policy AS v USING (flag)
    GROUP BY h.source_row
)
SELECT
    b.message_id,
    CASE WHEN b.problem IS NOT NULL THEN 'rejected'
         ELSE coalesce(f.verdict, 'send') END AS verdict,
    coalesce(list_transform(f.hits, lambda hit: hit.flag), []) AS flags,
    c.overdue_amount,
    c.days_past_due,
    coalesce(
        b.problem,
        array_to_string(list_transform(f.hits, lambda hit: hit.flag || ': ' || hit.detail), '; '),
        ''
    ) AS reason,
    b.source_row,
    b.borrower_id,
    b.loan_id,
    b.template_id,
    b.rule_id,
    b.rule_evaluated_at,
    b.scheduled_at,
    b.claimed_overdue_amount,
    b.claimed_days_past_due,
    c.last_ledger_change_at,
    c.rule_age_hours
FROM send_batch AS b
LEFT JOIN message_context AS c USING (source_row)
LEFT JOIN flagged AS f USING (source_row)
ORDER BY b.source_row;
