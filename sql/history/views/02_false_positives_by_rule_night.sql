-- view: false_positives_by_rule_night
-- answers: How many messages did each rule get wrong each night, and why? Per night and
--   rule: messages, verdicts, false-positive rate = (blocked + held) / messages, and per-flag counts.
-- reads: findings, runs_by_night
--
-- One row per (night, rule_id) over the run that counts for each night (runs_by_night).
-- A message carries every flag that holds, so the flag columns can add up to more than
-- held + blocked.
--
-- columns:
--   night, as_of, run_id      the night, its run's as-of instant and run id
--   rule_id                   the selecting rule (NULL for a rejected row without one)
--   rule_category             delinquency / risk_control / reminder (NULL when unknown)
--   messages                  every send_batch row of the rule, rejected ones included
--   sent, held, blocked, rejected   messages by verdict
--   false_positives           held + blocked
--   false_positive_rate       DECIMAL(5,4): false_positives / messages
--   not_overdue … contact_data_invalid  messages carrying each flag: one column per
--                             flag, lower case, in the order of flag_definitions (the
--                             loader writes them in place of the placeholder below)
CREATE OR REPLACE VIEW false_positives_by_rule_night AS
SELECT
    r.night,
    r.as_of,
    r.run_id,
    f.rule_id,
    max(f.rule_category) AS rule_category,
    count(*) AS messages,
    count(*) FILTER (WHERE f.verdict = 'send') AS sent,
    count(*) FILTER (WHERE f.verdict = 'hold') AS held,
    count(*) FILTER (WHERE f.verdict = 'block') AS blocked,
    count(*) FILTER (WHERE f.verdict = 'rejected') AS rejected,
    count(*) FILTER (WHERE f.verdict IN ('hold', 'block')) AS false_positives,
    CAST(count(*) FILTER (WHERE f.verdict IN ('hold', 'block')) / count(*) AS DECIMAL(5, 4))
        AS false_positive_rate,
    {flag_columns}
FROM findings AS f
JOIN runs_by_night AS r USING (run_id)
WHERE r.is_latest
GROUP BY r.night, r.as_of, r.run_id, f.rule_id
ORDER BY r.night, f.rule_id NULLS LAST;
