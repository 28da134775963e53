-- flag: UNKNOWN_LOAN
-- order: 60
-- kind: ledger
-- verdict: block
-- source: contract
-- summary: the loan is not in `loans`
-- definition: the loan is not in `loans`
-- en name: Unknown loan
-- en explained: The message names a loan that is not in the loans table.
-- zh name: 借据不存在
-- zh explained: 短信所指借据不在借据表中。
-- reads: message_context
SELECT source_row, format('loan_id {} is not in loans', loan_id) AS detail
FROM message_context
WHERE NOT loan_known
