-- reads: flag_hits, message_context, send_batch, verdict_policy, $first_source_row,
--   $last_source_row
-- findings: one row per send_batch input row, with its verdict (CONTRACT §4).
-- A message takes the severest verdict its flags map to in verdict_policy; no flag is
-- `send`; an unreadable row is `rejected` with its cause.
-- Needs: send_batch (staged), message_context, flag_hits (one row per check hit),
-- verdict_policy (flag, flag_order, verdict, verdict_rank).
-- details is the evidence as data: one {flag, detail} per flag, in flag order. reason is
-- the text findings.csv shows, made from details here and nowhere else: each
-- `FLAG: detail` joined by '; ' (a hit without a detail has no clause), or a rejected
-- row's cause. Readers take the evidence from details: a detail may quote the drop, so
-- the text cannot be split back reliably.
-- A message's hits, sorted by (source_row, flag_order), are one run of rows. Its details
-- and verdict are read off the run's first row with lead() over that one sort:
-- aggregating per message costs more (at 1M, 1.2 s this way; 1.7 s with
-- list(... ORDER BY flag_order), 1.8 s with one any_value(...) FILTER per flag).
-- Runs longer than four hits (rare) go through a sorted list aggregate instead.
-- The table is stored in source_row order, which the writer relies on.
-- A batch too large for memory_limit is decided in parts of consecutive source_rows, one
-- statement each, appended in order (reconcile/nightly/decide.py sets the variables
-- first_source_row and last_source_row; unset, the one part is every message): at 10M
-- messages the two sorts of the whole batch spilled 14 GiB. The range is written out at
-- each table it narrows (hits, message_context, send_batch), each a comparison with
-- constants that DuckDB applies as it scans that table; a macro would fix the variables
-- when it is created.
CREATE OR REPLACE TABLE findings AS
WITH hits AS (
    SELECT h.source_row, v.flag_order, {'flag': h.flag, 'detail': h.detail} AS said,
           v.verdict_rank
    FROM flag_hits AS h
    JOIN verdict_policy AS v USING (flag)
    WHERE h.source_row BETWEEN coalesce(getvariable('first_source_row'), 0)
                           AND coalesce(getvariable('last_source_row'), 9223372036854775807)
),
runs AS (
    SELECT
        source_row,
        flag_order,
        lag(source_row) OVER w IS DISTINCT FROM source_row AS is_first,
        lead(source_row, 4) OVER w IS NOT DISTINCT FROM source_row AS has_more,
        [said,
         CASE WHEN lead(source_row, 1) OVER w = source_row THEN lead(said, 1) OVER w END,
         CASE WHEN lead(source_row, 2) OVER w = source_row THEN lead(said, 2) OVER w END,
         CASE WHEN lead(source_row, 3) OVER w = source_row THEN lead(said, 3) OVER w END]
            AS details,
        greatest(verdict_rank,
         CASE WHEN lead(source_row, 1) OVER w = source_row THEN lead(verdict_rank, 1) OVER w END,
         CASE WHEN lead(source_row, 2) OVER w = source_row THEN lead(verdict_rank, 2) OVER w END,
         CASE WHEN lead(source_row, 3) OVER w = source_row THEN lead(verdict_rank, 3) OVER w END)
            AS verdict_rank
    FROM hits
    WINDOW w AS (ORDER BY source_row, flag_order)
),
many AS (
    SELECT
        source_row,
        list_sort(list(struct_pack(flag_order := flag_order, said := said))) AS sorted,
        max(verdict_rank) AS verdict_rank
    FROM hits
    WHERE source_row IN (SELECT source_row FROM runs WHERE is_first AND has_more)
    GROUP BY source_row
),
flagged AS (
    SELECT source_row, list_filter(details, lambda d: d IS NOT NULL) AS details, verdict_rank
    FROM runs
    WHERE is_first AND NOT has_more
    UNION ALL
    SELECT source_row, list_transform(sorted, lambda hit: hit.said), verdict_rank
    FROM many
),
verdicts AS (
    SELECT DISTINCT verdict_rank, verdict FROM verdict_policy
)
SELECT
    b.message_id,
    CASE WHEN b.problem IS NOT NULL THEN 'rejected'
         ELSE coalesce(v.verdict, 'send') END AS verdict,
    coalesce(list_transform(f.details, lambda d: d.flag), []) AS flags,
    c.overdue_amount,
    c.days_past_due,
    coalesce(b.problem,
             array_to_string(list_transform(f.details, lambda d: d.flag || ': ' || d.detail),
                             '; '),
             '') AS reason,
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
    c.rule_age_hours,
    coalesce(f.details, []) AS details
FROM send_batch AS b
LEFT JOIN (
    SELECT * FROM message_context
    WHERE source_row BETWEEN coalesce(getvariable('first_source_row'), 0)
                         AND coalesce(getvariable('last_source_row'), 9223372036854775807)
) AS c USING (source_row)
LEFT JOIN flagged AS f USING (source_row)
LEFT JOIN verdicts AS v USING (verdict_rank)
WHERE b.source_row BETWEEN coalesce(getvariable('first_source_row'), 0)
                       AND coalesce(getvariable('last_source_row'), 9223372036854775807)
ORDER BY b.source_row;
