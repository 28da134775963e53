-- reads: message_context, readable_text()
-- contact_context: one row per readable message with what the contact-policy and content
-- checks read (docs/contact_checks.md): who it goes to, when, what it says, its template
-- kind, and the ledger truth it must agree with. A view: message_context already holds
-- every one of these facts, so a second copy of them would only take memory.
CREATE OR REPLACE VIEW contact_context AS
SELECT
    c.source_row,
    c.message_id,
    c.borrower_id,
    c.loan_id,
    c.template_id,
    c.phone,
    c.borrower_name,
    readable_text(c.message_text) AS message_text,  -- NULL when blank: not evaluated
    c.scheduled_at,
    c.send_date,
    c.template_kind,
    coalesce(c.is_collection_wording, false) AS is_collection_wording,
    c.truth_known,
    c.overdue_amount,
    c.days_past_due,
    c.states_components,
    c.principal_overdue,
    c.interest_overdue,
    c.fee_overdue,
    c.penalty_overdue
FROM message_context AS c;
