-- reads: loan_ledger
-- payment_feed: one row, the newest usable payment posted at or before T (NULL when there
-- is none), for STALE_FEED: the newest of loan_ledger's per-loan last payments, which
-- cover every usable payment row, so the payments table is not read again.
CREATE OR REPLACE TABLE payment_feed AS
SELECT max(last_payment_change_at) AS newest_posted_at
FROM loan_ledger;
