-- flag: FREQUENCY_CAP
-- definition: counting send_history (status not failed / cancelled / rejected) plus the
--   earlier messages of this batch, both without known `reminder` templates, the borrower
--   (us_reg_f: the loan) would get more than max_messages_per_day collection messages on
--   the local day of s, or more than max_messages_per_7_days in (s − 7 × 24 h, s].
--   A cap of 0 is no cap. docs/contact_checks.md
WITH history AS (
    SELECT
        CASE WHEN q.frequency_scope = 'loan' THEN h.loan_id ELSE h.borrower_id END AS cap_key,
        h.sent_at AS at_time,
        0 AS source_row
    FROM send_history AS h
    CROSS JOIN contact_params AS q
    LEFT JOIN templates AS t ON t.template_id = h.template_id AND t.problem IS NULL
    WHERE h.problem IS NULL
      AND coalesce(lower(trim(h.status)), '') NOT IN ('failed', 'cancelled', 'rejected')
      AND coalesce(t.kind, '') <> 'reminder'
),
counted AS (
    SELECT cap_key, at_time, source_row FROM history
    UNION ALL
    SELECT cap_key, scheduled_at, source_row FROM contact_context WHERE counts_toward_cap
),
-- Running counts over each key's messages in (time, source_row) order; history rows carry
-- source_row 0, so at the same instant they come before the batch's. Windows, not a
-- self-join, so a key with very many messages costs a sort, not a square.
tallies AS (
    SELECT
        source_row,
        cap_key,
        CAST(timezone(p.timezone, at_time) AS DATE) AS send_date,
        row_number() OVER (PARTITION BY cap_key, CAST(timezone(p.timezone, at_time) AS DATE)
                           ORDER BY at_time, source_row) AS on_send_date,
        row_number() OVER (PARTITION BY cap_key ORDER BY at_time, source_row)
            - coalesce(count(*) OVER (
                  PARTITION BY cap_key ORDER BY epoch_us(at_time)
                  RANGE BETWEEN UNBOUNDED PRECEDING AND 604800000000 PRECEDING), 0)
            AS in_7_days
    FROM counted
    CROSS JOIN run_params AS p
)
SELECT
    t.source_row,
    concat_ws(', ',
        CASE WHEN q.max_messages_per_day > 0 AND t.on_send_date > q.max_messages_per_day
             THEN format('message {} to {} {} on {} (cap {} a day)', t.on_send_date,
                         q.frequency_scope, t.cap_key, t.send_date, q.max_messages_per_day)
        END,
        CASE WHEN q.max_messages_per_7_days > 0 AND t.in_7_days > q.max_messages_per_7_days
             THEN format('message {} to {} {} in 7 days (cap {})', t.in_7_days,
                         q.frequency_scope, t.cap_key, q.max_messages_per_7_days)
        END
    ) AS detail
FROM tallies AS t
CROSS JOIN contact_params AS q
WHERE t.source_row > 0
  AND ((q.max_messages_per_day > 0 AND t.on_send_date > q.max_messages_per_day)
   OR (q.max_messages_per_7_days > 0 AND t.in_7_days > q.max_messages_per_7_days))
