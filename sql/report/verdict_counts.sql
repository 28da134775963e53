-- report: verdict_counts
-- answers: how many of the run's send_batch rows ended in each verdict
-- (send / hold / block / rejected)? Counted from findings, one row per input row.
-- params: $run_id
-- reads: findings
SELECT verdict, count(*) AS messages
FROM findings
WHERE run_id = $run_id
GROUP BY verdict;
