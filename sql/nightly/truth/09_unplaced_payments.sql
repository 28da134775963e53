-- reads: known_loans, payments, run_params, is_blank(), loan_match_key()
-- unplaced_payments: money a borrower paid that no loan's truth counts (docs/inputs.md,
-- UNPLACED_PAYMENT): payments known at T whose loan_id is empty or names no loan of
-- `loans`, unless their status says no money moved (reversed, failed). A status or
-- posted_at that cannot be read counts too: when in doubt it is money.
-- match_key is the loan_id as loan_match_key reads it ('' when there is none).
CREATE OR REPLACE TABLE unplaced_payments AS
SELECT
    p.source_row,
    p.payment_id,
    p.loan_id,
    p.amount,
    coalesce(p.status, 'unreadable') AS status,
    p.posted_at,
    loan_match_key(p.loan_id) AS match_key
FROM payments AS p
CROSS JOIN run_params AS r
WHERE (p.status IS NULL OR p.status NOT IN ('reversed', 'failed'))
  AND (p.posted_at IS NULL OR p.posted_at <= r.as_of)
  AND (is_blank(p.loan_id) OR p.loan_id NOT IN (SELECT loan_id FROM known_loans));
