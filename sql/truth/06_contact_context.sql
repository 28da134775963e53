-- contact_context: one row per readable message with what the contact-policy and content
-- checks read (docs/contact_checks.md): who it goes to, when (local day), what it says,
-- whether it counts toward the frequency cap, and the ledger truth it must agree with.
-- A message counts toward the cap unless its template is a known `reminder`: an unknown
-- or unusable template counts (fail closed).
CREATE OR REPLACE TABLE contact_context AS
WITH usable_templates AS (
    SELECT template_id, kind FROM templates WHERE problem IS NULL
)
SELECT
    b.source_row,
    b.message_id,
    b.borrower_id,
    b.loan_id,
    b.template_id,
    b.phone,
    b.borrower_name,
    b.message_text,
    b.scheduled_at,
    CAST(timezone(p.timezone, b.scheduled_at) AS DATE) AS send_date,
    coalesce(t.kind, '') <> 'reminder' AS counts_toward_cap,
    CASE WHEN q.frequency_scope = 'loan' THEN b.loan_id ELSE b.borrower_id END AS cap_key,
    c.truth_known,
    coalesce(c.is_collection_wording, false) AS is_collection_wording,
    c.overdue_amount,
    c.days_past_due
FROM send_batch AS b
CROSS JOIN run_params AS p
CROSS JOIN contact_params AS q
JOIN message_context AS c USING (source_row)
LEFT JOIN usable_templates AS t ON t.template_id = b.template_id;
