-- view: false_positives_by_rule_night
-- answers: How many messages did each rule get wrong each night, and why? Per night and
--   rule: messages, verdicts, false-positive rate = (blocked + held) / messages, and per-flag counts.
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
--   not_overdue … contact_data_invalid  messages carrying each flag (one column per
--                             flag, lower case, in the order of reconcile/schema.py FLAGS)
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
    count(*) FILTER (WHERE list_contains(f.flags, 'NOT_OVERDUE')) AS not_overdue,
    count(*) FILTER (WHERE list_contains(f.flags, 'PRE_DUE_TARGETING')) AS pre_due_targeting,
    count(*) FILTER (WHERE list_contains(f.flags, 'STALE_DATA')) AS stale_data,
    count(*) FILTER (WHERE list_contains(f.flags, 'RULE_MISMATCH')) AS rule_mismatch,
    count(*) FILTER (WHERE list_contains(f.flags, 'PAYMENT_PENDING')) AS payment_pending,
    count(*) FILTER (WHERE list_contains(f.flags, 'UNKNOWN_LOAN')) AS unknown_loan,
    count(*) FILTER (WHERE list_contains(f.flags, 'BORROWER_MISMATCH')) AS borrower_mismatch,
    count(*) FILTER (WHERE list_contains(f.flags, 'UNKNOWN_TEMPLATE')) AS unknown_template,
    count(*) FILTER (WHERE list_contains(f.flags, 'LEDGER_INVALID')) AS ledger_invalid,
    count(*) FILTER (WHERE list_contains(f.flags, 'COLLECTION_PAUSED')) AS collection_paused,
    count(*) FILTER (WHERE list_contains(f.flags, 'CLOCK_SKEW')) AS clock_skew,
    count(*) FILTER (WHERE list_contains(f.flags, 'STALE_FEED')) AS stale_feed,
    count(*) FILTER (WHERE list_contains(f.flags, 'INCOMPLETE_FEED')) AS incomplete_feed,
    count(*) FILTER (WHERE list_contains(f.flags, 'UNPLACED_PAYMENT')) AS unplaced_payment,
    count(*) FILTER (WHERE list_contains(f.flags, 'QUIET_HOURS')) AS quiet_hours,
    count(*) FILTER (WHERE list_contains(f.flags, 'FREQUENCY_CAP')) AS frequency_cap,
    count(*) FILTER (WHERE list_contains(f.flags, 'DUPLICATE_IN_BATCH')) AS duplicate_in_batch,
    count(*) FILTER (WHERE list_contains(f.flags, 'CONTACT_RESTRICTED')) AS contact_restricted,
    count(*) FILTER (WHERE list_contains(f.flags, 'THIRD_PARTY_RECIPIENT')) AS third_party_recipient,
    count(*) FILTER (WHERE list_contains(f.flags, 'NAME_MISMATCH')) AS name_mismatch,
    count(*) FILTER (WHERE list_contains(f.flags, 'CONTENT_MISMATCH')) AS content_mismatch,
    count(*) FILTER (WHERE list_contains(f.flags, 'PROHIBITED_CONTENT')) AS prohibited_content,
    count(*) FILTER (WHERE list_contains(f.flags, 'PRIVACY_LEAK')) AS privacy_leak,
    count(*) FILTER (WHERE list_contains(f.flags, 'MISSING_OPT_OUT')) AS missing_opt_out,
    count(*) FILTER (WHERE list_contains(f.flags, 'CONTACT_DATA_INVALID')) AS contact_data_invalid
FROM findings AS f
JOIN runs_by_night AS r USING (run_id)
WHERE r.is_latest
GROUP BY r.night, r.as_of, r.run_id, f.rule_id
ORDER BY r.night, f.rule_id NULLS LAST;
