-- flag: QUIET_HOURS
-- order: 150
-- kind: contact
-- verdict: hold
-- source: NIFA collection guideline (no collection 22:00–08:00); Reg F 12 CFR 1006.6(b)(1)
-- summary: sent outside the allowed local hours
-- definition: `scheduled_at`, in the borrower's time zone, is outside the allowed window
--   (cn 08:00–22:00, us_reg_f 08:00–21:00)
-- en name: Quiet hours
-- en explained: The planned send time, in the borrower's time zone, is outside the allowed
--   hours.
-- zh name: 禁发时段
-- zh explained: 计划发送时间（借款人当地时间）不在允许的时段内。
-- reads: borrowers, contact_context, contact_params, run_params
--
-- Precisely: scheduled_at, in the borrower's time zone (borrowers.timezone, else the
-- configured one), is before allowed_hours_start or at/after allowed_hours_end (cn
-- 08:00-22:00, us_reg_f 08:00-21:00). Several zones for one borrower: outside in any of
-- them (fail closed). docs/contact_checks.md
WITH borrower_zones AS (
    SELECT DISTINCT borrower_id, timezone
    FROM borrowers
    WHERE problem IS NULL AND timezone IS NOT NULL
),
local_times AS (
    SELECT
        c.source_row,
        coalesce(z.timezone, p.timezone) AS zone,
        timezone(coalesce(z.timezone, p.timezone), c.scheduled_at) AS local_time
    FROM contact_context AS c
    CROSS JOIN run_params AS p
    LEFT JOIN borrower_zones AS z USING (borrower_id)
)
SELECT
    l.source_row,
    string_agg(
        format('scheduled {} local time ({}), outside {}-{}',
               strftime(l.local_time, '%H:%M'), l.zone,
               q.allowed_hours_start, q.allowed_hours_end),
        '; ' ORDER BY l.zone) AS detail
FROM local_times AS l
CROSS JOIN contact_params AS q
WHERE hour(l.local_time) * 60 + minute(l.local_time) NOT BETWEEN
      q.allowed_start_minute AND q.allowed_end_minute - 1
GROUP BY l.source_row
