-- flag: DUPLICATE_IN_BATCH
-- definition: another readable message of the batch has the same (borrower_id, loan_id,
--   template_id) and comes earlier in (scheduled_at, source_row) order; the earliest
--   copy is not flagged. docs/contact_checks.md
SELECT
    source_row,
    format('same borrower, loan and template as message {} (row {}), scheduled {}',
           first_message_id, first_source_row, first_scheduled_at) AS detail
FROM (
    SELECT
        source_row,
        row_number() OVER copies AS copy_number,
        first_value(message_id) OVER copies AS first_message_id,
        first_value(source_row) OVER copies AS first_source_row,
        first_value(scheduled_at) OVER copies AS first_scheduled_at
    FROM contact_context
    WINDOW copies AS (PARTITION BY borrower_id, loan_id, template_id
                      ORDER BY scheduled_at, source_row)
)
WHERE copy_number > 1
