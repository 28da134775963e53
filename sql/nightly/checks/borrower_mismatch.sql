-- flag: BORROWER_MISMATCH
-- definition: the loan exists and its borrower_id differs from the message's.
-- Needs a usable `loans` row (a loan row with a problem is LEDGER_INVALID instead).
SELECT
    source_row,
    format('loan {} belongs to borrower {}, message is for {}',
           loan_id, loan_borrower_id, borrower_id) AS detail
FROM message_context
WHERE loan_borrower_id IS NOT NULL AND loan_borrower_id <> borrower_id
