-- flag: LEDGER_INVALID
-- definition: a row of `installments` or `payments` for the loan is unusable: a required
--   field empty, an integer, amount, date or timestamp (optional ones included) that does
--   not parse, a negative amount_due, a payment amount ≤ 0, an unknown status, or a
--   payment_id used twice.
-- Also a loan whose installments, settled or pending payments add up to 10^16 or more,
-- beyond any amount (docs/interpretations.md).
-- The reason names the file and row of up to three unusable rows (unusable_loans).
SELECT source_row, ledger_problem AS detail
FROM message_context
WHERE ledger_problem IS NOT NULL
