-- flag: COLLECTION_PAUSED
-- order: 100
-- kind: ledger
-- verdict: block
-- needs: collection_pauses
-- source: reconcile's own (Fineract delinquency pause; 停催/缓催, agreed repayment plans)
-- summary: collection while an agreed pause or plan is in force
-- definition: a collection/escalation template, and a collection pause of the loan is in
--   force on `d(s)`: recorded by `T`, `paused_from ≤ d(s) ≤ paused_until` (no end:
--   open-ended); reminders stay allowed
-- en name: Collection paused
-- en explained: A collection stop, delay, hardship relief, payment holiday or repayment
--   plan covers the sending day.
-- zh name: 停催期内
-- zh explained: 该借据在发送日处于停催、缓催、困难减免、还款假期或协商还款期内。
-- reads: message_context
--
-- Precisely: template kind is `collection` or `escalation`, and a collection pause of the
-- loan is in force on d(s): a usable collection_pauses row recorded at or before T with
-- paused_from ≤ d(s) ≤ paused_until (open-ended without paused_until). Reminders are never
-- flagged; days past due keep the contract's count. docs/inputs.md
-- The pause's own row is all it needs: an unknown loan or an unusable ledger has its own
-- flag, and a pause in force still forbids collecting.
SELECT
    source_row,
    format('collection paused: {}', active_pause) AS detail
FROM message_context
WHERE template_usable AND is_collection_wording AND active_pause IS NOT NULL
