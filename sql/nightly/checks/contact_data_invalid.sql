-- flag: CONTACT_DATA_INVALID
-- order: 250
-- kind: contact
-- verdict: hold
-- source: reconcile's own
-- summary: the borrower's contact data is unusable (fail closed)
-- definition: a row of `send_history`, `borrowers` or `contact_flags` about the borrower is
--   unusable, so contact cannot be cleared (fail closed)
-- en name: Contact data unusable
-- en explained: A send-history, borrower or contact-flag row of the borrower is unusable,
--   so contact cannot be cleared.
-- zh name: 联系数据有误
-- zh explained: 借款人的发送记录、号码或联系限制有不可用的行，无法放行。
-- reads: contact_context, input_issues, unusable_rows_reason()
--
-- Precisely: an unusable row of send_history, borrowers or contact_flags names the
-- message's borrower: whether contact is allowed cannot be told, so it fails closed.
-- reconcile's own flag (docs/contact_checks.md).
SELECT
    c.source_row,
    unusable_rows_reason(i.file_name, i.source_row, i.row_key, i.problem, i.table_name) AS detail
FROM contact_context AS c
-- input_issues.borrower_id is given only for the tables about a borrower (schema.py's
-- Table.borrower_column: send_history, borrowers, contact_flags).
JOIN input_issues AS i ON i.borrower_id = c.borrower_id
GROUP BY c.source_row
