-- flag: BORROWER_MISMATCH
-- order: 70
-- kind: ledger
-- verdict: block
-- source: contract
-- summary: the loan belongs to another borrower
-- definition: the loan belongs to another borrower
-- en name: Wrong borrower
-- en explained: The loan belongs to another borrower.
-- zh name: 借款人不符
-- zh explained: 借据属于另一位借款人。
-- reads: message_context
--
-- Needs a usable `loans` row (a loan row with a problem is LEDGER_INVALID instead).
SELECT
    source_row,
    format('loan {} belongs to borrower {}, message is for {}',
           loan_id, loan_borrower_id, borrower_id) AS detail
FROM message_context
WHERE loan_borrower_id IS NOT NULL AND loan_borrower_id <> borrower_id
