-- report: misfires
-- answers: which rules, and which templates, misfire most? A false positive of a rule
-- (template) is one of its messages whose verdict is block or hold; its rate is false
-- positives / every send_batch row of the rule (template), rejected ones included (the
-- false_positives_by_rule_night view's rate). One row per (dimension, key), dimension
-- being 'rule' or 'template'; the previous night's figures stand beside them. Sorted by
-- rate, then false positives: a rule that blocks every message it picks comes first,
-- however few.
-- params: $run_id, $previous_run_id (NULL when there is no previous night)
-- reads: findings
WITH picked AS (
    SELECT run_id, 'rule' AS dimension, rule_id AS key, verdict
    FROM findings
    WHERE run_id IN ($run_id, $previous_run_id)
    UNION ALL
    SELECT run_id, 'template' AS dimension, template_id AS key, verdict
    FROM findings
    WHERE run_id IN ($run_id, $previous_run_id)
),
counted AS (
    SELECT
        dimension,
        key,
        count(*) FILTER (WHERE run_id = $run_id) AS messages,
        count(*) FILTER (WHERE run_id = $run_id AND verdict = 'block') AS blocked,
        count(*) FILTER (WHERE run_id = $run_id AND verdict = 'hold') AS held,
        count(*) FILTER (WHERE run_id = $previous_run_id) AS previous_messages,
        count(*) FILTER (WHERE run_id = $previous_run_id AND verdict IN ('block', 'hold'))
            AS previous_false_positives
    FROM picked
    GROUP BY dimension, key
)
SELECT *
FROM counted
WHERE messages > 0
ORDER BY dimension, (blocked + held) / messages DESC, blocked + held DESC, key NULLS LAST;
