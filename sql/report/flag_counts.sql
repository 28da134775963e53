-- report: flag_counts
-- answers: how many of the run's messages carry each flag? A message carrying several
-- flags counts once under each.
-- params: $run_id
-- reads: findings
SELECT flag, count(*) AS messages
FROM (SELECT unnest(flags) AS flag FROM findings WHERE run_id = $run_id)
GROUP BY flag;
