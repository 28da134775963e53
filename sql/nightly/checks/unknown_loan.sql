-- flag: UNKNOWN_LOAN
-- definition: loan_id is not in `loans`.
SELECT source_row, format('loan_id {} is not in loans', loan_id) AS detail
FROM message_context
WHERE NOT loan_known
