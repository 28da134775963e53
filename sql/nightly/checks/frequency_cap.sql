-- flag: FREQUENCY_CAP
-- order: 160
-- kind: contact
-- verdict: hold
-- needs: send_history
-- source: collection guidelines on harassing frequency; Reg F 1006.14(b)(2) (7 in 7)
-- summary: more collection messages than the daily or 7-day cap
-- definition: with `send_history` and earlier messages of this batch, the borrower
--   (us_reg_f: the loan) would get more than `max_messages_per_day` collection messages
--   that day or `max_messages_per_7_days` in 7 days
-- en name: Too frequent
-- en explained: With messages already sent and this batch, the borrower would get more
--   collection texts that day or week than allowed.
-- zh name: 超出频次
-- zh explained: 算上已发和本批次的短信，借款人当天或 7 天内收到的催收短信超过上限。
-- reads: contact_context, contact_params, run_params, send_history, templates
--
-- Precisely: counting send_history (status not failed / cancelled / rejected) plus the
-- earlier messages of this batch, both without known `reminder` templates, the borrower
-- (us_reg_f: the loan) would get more than max_messages_per_day collection messages on the
-- local day of s, or more than max_messages_per_7_days in (s − 7 × 24 h, s]. A cap of 0 is
-- no cap. docs/contact_checks.md
WITH sends AS (
    -- Earlier sends that went out, and every readable message of this batch.
    SELECT borrower_id, loan_id, template_id, sent_at AS at_time, message_id, 0 AS source_row
    FROM send_history
    WHERE problem IS NULL
      AND coalesce(lower(trim(status)), '') NOT IN ('failed', 'cancelled', 'rejected')
      -- A send 7 × 24 h or more before the batch's first is in no message's 7 days, nor
      -- on its local day: it would only be counted and taken away again.
      AND epoch_us(sent_at) > (SELECT min(epoch_us(scheduled_at)) FROM contact_context)
                              - 604800000000
    UNION ALL
    SELECT borrower_id, loan_id, template_id, scheduled_at, message_id, source_row
    FROM contact_context
),
counted AS (
    -- A message counts unless its template is a known `reminder`: an unknown or unusable
    -- template counts (fail closed). The scope decides what is counted together.
    SELECT
        CASE WHEN q.frequency_scope = 'loan' THEN s.loan_id ELSE s.borrower_id END AS cap_key,
        s.at_time,
        CAST(timezone(p.timezone, s.at_time) AS DATE) AS local_date,
        s.message_id,
        s.source_row
    FROM sends AS s
    CROSS JOIN contact_params AS q
    CROSS JOIN run_params AS p
    LEFT JOIN templates AS t ON t.template_id = s.template_id AND t.problem IS NULL
    WHERE coalesce(t.kind, '') <> 'reminder'
),
-- Only a key-day with more sends than the daily cap, or a key with more than the 7-day
-- cap, can go over one (a count never exceeds the rows it counts): the windows below
-- count the rows of those alone. Each is kept whole, so its counts are exact; a row kept
-- for one cap alone may be counted short for the other, whose cap it cannot reach.
day_crowded AS (
    SELECT cap_key, local_date
    FROM counted CROSS JOIN contact_params AS q
    WHERE q.max_messages_per_day > 0
    GROUP BY cap_key, local_date
    HAVING count(*) > any_value(q.max_messages_per_day)
),
week_crowded AS (
    SELECT cap_key
    FROM counted CROSS JOIN contact_params AS q
    WHERE q.max_messages_per_7_days > 0
    GROUP BY cap_key
    HAVING count(*) > any_value(q.max_messages_per_7_days)
),
crowded AS (
    SELECT c.*
    FROM counted AS c
    WHERE EXISTS (SELECT 1 FROM day_crowded AS d
                  WHERE d.cap_key = c.cap_key AND d.local_date = c.local_date)
       OR EXISTS (SELECT 1 FROM week_crowded AS w WHERE w.cap_key = c.cap_key)
),
-- Running counts over each key's messages in time order; at the same instant history rows
-- (source_row 0) come before the batch's, and the batch's go by message_id, unique among
-- readable messages (its row order is an export's accident; read from a database it has
-- none). Windows, not a self-join, so a key with very many messages costs a sort, not a
-- square.
tallies AS (
    SELECT
        source_row,
        cap_key,
        local_date AS send_date,
        row_number() OVER (PARTITION BY cap_key, local_date
                           ORDER BY at_time, source_row > 0, message_id) AS on_send_date,
        row_number() OVER (PARTITION BY cap_key ORDER BY at_time, source_row > 0, message_id)
            - coalesce(count(*) OVER (
                  PARTITION BY cap_key ORDER BY epoch_us(at_time)
                  RANGE BETWEEN UNBOUNDED PRECEDING AND 604800000000 PRECEDING), 0)
            AS in_7_days
    FROM crowded
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
