-- view: stale_lag_by_rule
-- answers: Which rules decide on old data? Per rule over all nights: how old its data
--   snapshot was when judged (median, p90, max hours) and the share of messages STALE_DATA.
-- reads: findings, runs, runs_by_night
--
-- rule_age_hours is T − rule_evaluated_at. Rejected rows are left out (no age, no flag);
-- only the run that counts for each night is read (runs_by_night). STALE_DATA holds when
-- the ledger changed after the rule ran or the data is older than the run's
-- max_rule_age_hours; older_than_limit counts the second reason alone.
--
-- columns:
--   rule_id, rule_category      the rule (category as last seen)
--   runs                        nights (runs) in which the rule selected a message
--   first_night, last_night     DATE
--   messages                    its messages, rejected ones excluded
--   median_age_hours, p90_age_hours, max_age_hours   DECIMAL(10,2) of rule_age_hours
--   older_than_limit            messages whose age passed the run's max_rule_age_hours
--   stale_data                  messages flagged STALE_DATA (either reason)
--   stale_share                 DECIMAL(5,4): stale_data / messages
CREATE OR REPLACE VIEW stale_lag_by_rule AS
SELECT
    f.rule_id,
    arg_max(f.rule_category, r.as_of) AS rule_category,
    count(DISTINCT r.run_id) AS runs,
    min(r.night) AS first_night,
    max(r.night) AS last_night,
    count(*) AS messages,
    CAST(quantile_cont(f.rule_age_hours, 0.5) AS DECIMAL(10, 2)) AS median_age_hours,
    CAST(quantile_cont(f.rule_age_hours, 0.9) AS DECIMAL(10, 2)) AS p90_age_hours,
    CAST(max(f.rule_age_hours) AS DECIMAL(10, 2)) AS max_age_hours,
    count(*) FILTER (
        WHERE f.rule_age_hours > CAST(u.settings ->> 'max_rule_age_hours' AS DOUBLE)
    ) AS older_than_limit,
    count(*) FILTER (WHERE list_contains(f.flags, 'STALE_DATA')) AS stale_data,
    CAST(count(*) FILTER (WHERE list_contains(f.flags, 'STALE_DATA')) / count(*)
         AS DECIMAL(5, 4)) AS stale_share
FROM findings AS f
JOIN runs_by_night AS r USING (run_id)
JOIN runs AS u USING (run_id)
WHERE r.is_latest AND f.verdict <> 'rejected'
GROUP BY f.rule_id
ORDER BY stale_share DESC, f.rule_id;
