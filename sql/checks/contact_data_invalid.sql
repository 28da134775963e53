-- flag: CONTACT_DATA_INVALID
-- definition: an unusable row of send_history, borrowers or contact_flags names the
--   message's borrower: whether contact is allowed cannot be told, so it fails closed.
--   reconcile's own flag (docs/contact_checks.md).
SELECT
    c.source_row,
    array_to_string(list(format('{} row {}: {}', i.file_name, i.source_row, i.problem)
                         ORDER BY i.table_name, i.source_row)[1:3], '; ')
        || CASE WHEN count(*) > 3 THEN format('; and {} more unusable rows', count(*) - 3)
                ELSE '' END AS detail
FROM contact_context AS c
JOIN input_issues AS i ON i.borrower_id = c.borrower_id
WHERE i.table_name IN ('send_history', 'borrowers', 'contact_flags')
GROUP BY c.source_row
