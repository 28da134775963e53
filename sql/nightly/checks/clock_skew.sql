-- flag: CLOCK_SKEW
-- definition: (reconcile's own, not in the contract) rule_evaluated_at is later than T: the
--   rule claims to have seen a ledger snapshot from after the run's as-of instant (a
--   clock-skewed or mislabelled snapshot). Such a claim is not evidence, and it would also
--   switch STALE_DATA off (no ledger change can be after it, its age is negative), so the
--   message is held.
SELECT
    c.source_row,
    format('rule_evaluated_at {} is {} h after as-of {}', c.rule_evaluated_at,
           round(-c.rule_age_us / 3600e6, 2), p.as_of) AS detail
FROM message_context AS c
CROSS JOIN run_params AS p
WHERE c.rule_evaluated_at > p.as_of
