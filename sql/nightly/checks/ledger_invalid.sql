-- flag: LEDGER_INVALID
-- order: 90
-- kind: ledger
-- verdict: hold
-- source: contract
-- summary: a row of the loan's ledger is unusable
-- definition: an installment, payment or loan row of the loan is unusable (or a
--   `collection_pauses` row)
-- en name: Ledger data unusable
-- en explained: A loan, installment, payment or pause row of the loan is unusable, so
--   nothing can be judged.
-- zh name: 账务数据有误
-- zh explained: 该借据的借据、账单、还款或停催记录有不可用的行，无法判断。
-- reads: message_context
--
-- Precisely: a row of `installments` or `payments` for the loan is unusable: a required
-- field empty, an integer, amount, date or timestamp (optional ones included) that does not
-- parse, a negative amount_due, a payment amount ≤ 0, an unknown status, or a payment_id
-- used twice.
-- Also a loan whose installments, settled or pending payments add up to 10^16 or more,
-- beyond any amount (docs/interpretations.md).
-- The reason names the file and row of up to three unusable rows (unusable_loans).
SELECT source_row, ledger_problem AS detail
FROM message_context
WHERE ledger_problem IS NOT NULL
