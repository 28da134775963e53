-- report: trends
-- answers: how did the last $nights recorded nights up to the reported run's night go? Per
-- night: the verdict mix, each rule's and each template's messages and false positives
-- (verdict block or hold), and how old the rules' data was (median and 90th percentile of
-- rule_age_hours, rejected rows having none). The reported run stands for its own night;
-- every earlier night is read through the run that counts for it (its latest by as_of,
-- then finished_at, as in the runs_by_night view). A night with no run is not filled in;
-- a night whose batch was empty has a 'night' row of zeros.
-- One row per (night, dimension, key): dimension 'night' (key NULL) carries the verdict
-- counts and the ages; 'rule' and 'template' carry messages and false positives.
-- params: $run_id, $nights
-- reads: findings, runs
WITH located AS (
    SELECT
        run_id,
        as_of,
        finished_at,
        night  -- the run's local night, as runs_by_night's
    FROM runs
    WHERE status = 'completed'
),
reported AS (
    SELECT night FROM located WHERE run_id = $run_id
),
earlier AS (
    SELECT
        run_id,
        night,
        row_number() OVER (
            PARTITION BY night ORDER BY as_of DESC, finished_at DESC, run_id DESC
        ) AS position
    FROM located
    WHERE night < (SELECT night FROM reported)
),
chosen AS (
    SELECT run_id, night FROM located WHERE run_id = $run_id
    UNION ALL
    SELECT run_id, night FROM earlier WHERE position = 1
    ORDER BY night DESC
    LIMIT $nights
),
rows AS (
    SELECT c.night, f.verdict, f.rule_id, f.template_id, f.rule_age_hours
    FROM chosen AS c
    LEFT JOIN findings AS f USING (run_id)
)
SELECT
    night,
    'night' AS dimension,
    NULL AS key,
    count(verdict) AS messages,
    count(*) FILTER (WHERE verdict IN ('block', 'hold')) AS false_positives,
    count(*) FILTER (WHERE verdict = 'send') AS sent,
    count(*) FILTER (WHERE verdict = 'hold') AS held,
    count(*) FILTER (WHERE verdict = 'block') AS blocked,
    count(*) FILTER (WHERE verdict = 'rejected') AS rejected,
    median(rule_age_hours) AS median_age_hours,
    quantile_cont(rule_age_hours, 0.9) AS p90_age_hours
FROM rows
GROUP BY night
UNION ALL
SELECT
    night,
    CASE WHEN grouping(rule_id) = 0 THEN 'rule' ELSE 'template' END,
    CASE WHEN grouping(rule_id) = 0 THEN rule_id ELSE template_id END,
    count(*),
    count(*) FILTER (WHERE verdict IN ('block', 'hold')),
    NULL, NULL, NULL, NULL, NULL, NULL
FROM rows
WHERE verdict IS NOT NULL
GROUP BY GROUPING SETS ((night, rule_id), (night, template_id))
ORDER BY night, dimension, key NULLS LAST;
