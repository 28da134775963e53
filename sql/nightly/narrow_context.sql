-- reads: message_context
-- message_context, narrowed once the checks have run to what is read after them: the
-- ledger figures findings.sql reports beside each verdict, and the template kind and rule
-- category sql/history/record_findings.sql records. The checks' wide copy of every
-- message (its recipient and text included) would otherwise hold memory, or spill to
-- disk, through the verdicts' sort and the writes.
-- contact_context, a view over the wide table, goes first: nothing reads it after the checks.
DROP VIEW IF EXISTS contact_context;
CREATE OR REPLACE TABLE message_context AS
SELECT
    source_row,
    overdue_amount,
    days_past_due,
    last_ledger_change_at,
    rule_age_hours,
    template_kind,
    rule_category
FROM message_context;
