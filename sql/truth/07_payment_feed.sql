-- payment_feed: one row, the newest usable payment posted at or before T (NULL when there
-- is none), for STALE_FEED. Kept apart so the payments table is not needed after the
-- truth steps.
CREATE OR REPLACE TABLE payment_feed AS
SELECT max(posted_at) AS newest_posted_at
FROM payments, run_params
WHERE payments.problem IS NULL AND posted_at <= run_params.as_of;
