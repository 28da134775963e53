-- view: blocked_messages
-- answers: What exactly did we stop, and on what evidence? Every blocked message of each
--   night, with who it was for, which rule and template, the claim against the ledger, and the reason.
-- reads: findings, runs_by_night
--
-- For compliance review: one row per blocked message of the run that counts for each
-- night (runs_by_night). reason holds the evidence of every flag, '; '-separated.
--
-- columns:
--   night, run_id, message_id, batch_id
--   borrower_id, borrower_name, phone, loan_id
--   rule_id, rule_category, template_id, template_kind
--   flags                     VARCHAR[] in the contract's order
--   claimed_overdue_amount, overdue_amount     DECIMAL(18,2): the message's claim, the ledger's truth
--   claimed_days_past_due, days_past_due       BIGINT: the same for days past due
--   scheduled_at, rule_evaluated_at, last_ledger_change_at   TIMESTAMPTZ
--   reason                    the evidence, one clause per flag
CREATE OR REPLACE VIEW blocked_messages AS
SELECT
    r.night,
    r.run_id,
    f.message_id,
    f.batch_id,
    f.borrower_id,
    f.borrower_name,
    f.phone,
    f.loan_id,
    f.rule_id,
    f.rule_category,
    f.template_id,
    f.template_kind,
    f.flags,
    f.claimed_overdue_amount,
    f.overdue_amount,
    f.claimed_days_past_due,
    f.days_past_due,
    f.scheduled_at,
    f.rule_evaluated_at,
    f.last_ledger_change_at,
    f.reason
FROM findings AS f
JOIN runs_by_night AS r USING (run_id)
WHERE r.is_latest AND f.verdict = 'block'
ORDER BY r.night, f.source_row;
