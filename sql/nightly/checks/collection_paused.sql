-- flag: COLLECTION_PAUSED
-- definition: template kind is `collection` or `escalation`, and a collection pause of the
--   loan is in force on d(s): a usable collection_pauses row recorded at or before T with
--   paused_from ≤ d(s) ≤ paused_until (open-ended without paused_until). Reminders are
--   never flagged; days past due keep the contract's count. docs/inputs.md
-- The pause's own row is all it needs: an unknown loan or an unusable ledger has its own
-- flag, and a pause in force still forbids collecting.
SELECT
    source_row,
    format('collection paused: {}', active_pause) AS detail
FROM message_context
WHERE template_usable AND is_collection_wording AND active_pause IS NOT NULL
