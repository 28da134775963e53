-- report: staleness
-- answers: how old was the data each rule decided on? rule_age_hours is the as-of instant
-- minus rule_evaluated_at, in hours; it is bucketed as [0, 6), [6, 12), [12, 24),
-- [24, 48) and 48 hours or more (a negative age, a rule evaluated after the as-of, falls
-- in the first bucket). STALE_DATA's age clause holds above max_rule_age_hours (24 by
-- default), so the last two buckets are where it starts. Rejected rows have no age.
-- params: $run_id
-- reads: findings
SELECT
    rule_id,
    count(*) AS messages,
    count(*) FILTER (WHERE rule_age_hours < 6) AS under_6h,
    count(*) FILTER (WHERE rule_age_hours >= 6 AND rule_age_hours < 12) AS from_6_to_12h,
    count(*) FILTER (WHERE rule_age_hours >= 12 AND rule_age_hours < 24) AS from_12_to_24h,
    count(*) FILTER (WHERE rule_age_hours >= 24 AND rule_age_hours < 48) AS from_24_to_48h,
    count(*) FILTER (WHERE rule_age_hours >= 48) AS over_48h,
    median(rule_age_hours) AS median_hours,
    max(rule_age_hours) AS max_hours
FROM findings
WHERE run_id = $run_id AND rule_age_hours IS NOT NULL
GROUP BY rule_id
ORDER BY rule_id NULLS LAST;
