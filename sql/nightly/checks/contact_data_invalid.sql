-- flag: CONTACT_DATA_INVALID
-- definition: an unusable row of send_history, borrowers or contact_flags names the
--   message's borrower: whether contact is allowed cannot be told, so it fails closed.
--   reconcile's own flag (docs/contact_checks.md).
SELECT
    c.source_row,
    unusable_rows_reason(i.file_name, i.source_row, i.row_key, i.problem, i.table_name) AS detail
FROM contact_context AS c
JOIN input_issues AS i ON i.borrower_id = c.borrower_id
WHERE i.table_name IN ('send_history', 'borrowers', 'contact_flags')
GROUP BY c.source_row
