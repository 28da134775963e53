-- report: comparison
-- answers: what changed since the previous night? For both runs: send_batch rows, false
-- positives (verdict block or hold), each verdict and each flag. Rows missing from a run
-- count 0 there.
-- params: $run_id, $previous_run_id
-- reads: findings
WITH rows AS (
    SELECT run_id, verdict, flags
    FROM findings
    WHERE run_id IN ($run_id, $previous_run_id)
),
metrics AS (
    SELECT run_id, 'total' AS kind, 'messages' AS name, count(*) AS n
    FROM rows GROUP BY run_id
    UNION ALL
    SELECT run_id, 'total', 'false positives', count(*) FILTER (WHERE verdict IN ('block', 'hold'))
    FROM rows GROUP BY run_id
    UNION ALL
    SELECT run_id, 'verdict', verdict, count(*)
    FROM rows GROUP BY run_id, verdict
    UNION ALL
    SELECT run_id, 'flag', flag, count(*)
    FROM (SELECT run_id, unnest(flags) AS flag FROM rows) GROUP BY run_id, flag
)
SELECT
    kind,
    name,
    coalesce(sum(n) FILTER (WHERE run_id = $run_id), 0) AS current,
    coalesce(sum(n) FILTER (WHERE run_id = $previous_run_id), 0) AS previous
FROM metrics
GROUP BY kind, name;
