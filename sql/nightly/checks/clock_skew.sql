-- flag: CLOCK_SKEW
-- order: 110
-- kind: ledger
-- verdict: hold
-- source: reconcile's own
-- summary: the rule claims to have run after `T`
-- definition: `rule_evaluated_at` is later than `T`: a rule that claims to have run in the
--   future is not evidence
-- en name: Clock skew
-- en explained: The rule claims to have run after the run's as-of time, so it is no
--   evidence.
-- zh name: 时间异常
-- zh explained: 规则声称在本次核对时点之后才运行，不能作为依据。
-- reads: message_context, run_params
--
-- Precisely: rule_evaluated_at is later than T: the rule claims to have seen a ledger snapshot
-- from after the run's as-of instant (a clock-skewed or mislabelled snapshot). Such a claim
-- is not evidence, and it would also switch STALE_DATA off (no ledger change can be after
-- it, its age is negative), so the message is held.
SELECT
    c.source_row,
    format('rule_evaluated_at {} is {} h after as-of {}', c.rule_evaluated_at,
           round(-c.rule_age_us / 3600e6, 2), p.as_of) AS detail
FROM message_context AS c
CROSS JOIN run_params AS p
WHERE c.rule_evaluated_at > p.as_of
