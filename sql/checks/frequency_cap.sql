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
tallies AS (
    SELECT
        c.source_row,
        c.cap_key,
        c.send_date,
        count(*) FILTER (CAST(timezone(p.timezone, e.at_time) AS DATE) = c.send_date)
            AS on_send_date,
        count(*) AS in_7_days
    FROM contact_context AS c
    CROSS JOIN run_params AS p
    JOIN counted AS e
        ON e.cap_key = c.cap_key
        AND (e.at_time < c.scheduled_at
             OR (e.at_time = c.scheduled_at AND e.source_row <= c.source_row))
        AND epoch_us(e.at_time) > epoch_us(c.scheduled_at) - 604800000000
    WHERE c.counts_toward_cap
    GROUP BY ALL
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
WHERE (q.max_messages_per_day > 0 AND t.on_send_date > q.max_messages_per_day)
   OR (q.max_messages_per_7_days > 0 AND t.in_7_days > q.max_messages_per_7_days)
