-- reads: input_issues, is_blank(), unusable_rows_reason()
-- unusable_loans: loans whose ledger cannot be trusted (CONTRACT §3, LEDGER_INVALID).
-- "A row of installments or payments for the loan is unusable: a required field empty, an
-- integer, amount, date or timestamp (optional ones included) that does not parse, a
-- negative amount_due, a payment amount ≤ 0, an unknown status, or a payment_id used
-- twice." Unusable rows of `loans` itself count too (docs/interpretations.md), and so do
-- those of the optional collection_pauses (docs/inputs.md): a pause that cannot be read
-- could be the one that forbids collecting.
-- Needs: input_issues (every unusable or unattributed row of every table, from staging),
-- whose loan_id is given only for the tables whose rows belong to a loan (schema.py's
-- Table.loan_column: loans, installments, payments, collection_pauses).
CREATE OR REPLACE TABLE unusable_loans AS
SELECT
    loan_id,
    unusable_rows_reason(file_name, source_row, row_key, problem, table_name) AS reason
FROM input_issues
WHERE NOT is_blank(loan_id)
  AND problem IS NOT NULL  -- a row only naming an unknown loan is unattributed, not unusable
GROUP BY loan_id;
