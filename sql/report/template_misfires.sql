-- report: template_misfires
-- answers: which templates misfire most? A false positive of a template is one of its
-- messages whose verdict is block or hold; its rate is false positives / every send_batch
-- row of the template, rejected ones included (as the false_positives_by_rule_night view
-- counts a rule's rate).
-- Sorted by false positives, then rate; the previous night's figures stand beside them.
-- params: $run_id, $previous_run_id (NULL when there is no previous night)
WITH picked AS (
    SELECT run_id, template_id, verdict
    FROM findings
    WHERE run_id IN ($run_id, $previous_run_id)
),
counted AS (
    SELECT
        template_id,
        count(*) FILTER (WHERE run_id = $run_id) AS messages,
        count(*) FILTER (WHERE run_id = $run_id AND verdict = 'block') AS blocked,
        count(*) FILTER (WHERE run_id = $run_id AND verdict = 'hold') AS held,
        count(*) FILTER (WHERE run_id = $previous_run_id) AS previous_messages,
        count(*) FILTER (WHERE run_id = $previous_run_id AND verdict IN ('block', 'hold'))
            AS previous_false_positives
    FROM picked
    GROUP BY template_id
)
SELECT *
FROM counted
WHERE messages > 0
ORDER BY blocked + held DESC, (blocked + held) / messages DESC, template_id NULLS LAST;
