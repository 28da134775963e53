-- flag: STALE_FEED
-- definition: (reconcile's own, not in the contract) `max_feed_lag_hours` is set and the
--   newest usable payment posted at or before T is older than T − max_feed_lag_hours, or
--   there is none: the ledger feed itself has not caught up, so every readable message is
--   held (a blocked one stays blocked).
SELECT
    c.source_row,
    CASE WHEN f.newest_posted_at IS NULL THEN 'no payment posted by as-of'
         ELSE format('newest payment posted {} is more than {} h before as-of',
                     f.newest_posted_at, p.max_feed_lag_hours) END AS detail
FROM message_context AS c
CROSS JOIN run_params AS p
CROSS JOIN payment_feed AS f
WHERE p.max_feed_lag_us > 0
  AND (f.newest_posted_at IS NULL
       OR epoch_us(p.as_of) - epoch_us(f.newest_posted_at) > p.max_feed_lag_us)
