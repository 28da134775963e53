-- flag: STALE_FEED
-- order: 120
-- kind: feed
-- verdict: hold
-- off unless: max_feed_lag_hours, database snapshot
-- source: reconcile's own
-- summary: the payment feed is behind: every message
-- definition: the newest payment posted by `T` is more than `max_feed_lag_hours` (default
--   48) before `T`, or there is none; or the tables were read from a database replica more
--   than `max_replica_lag_seconds` (default 60) behind its primary: the ledger feed has not
--   caught up, so every message is held
-- en name: Payment feed behind
-- en explained: The newest posted payment is too old: the payment feed has not caught up,
--   so every message is held.
-- zh name: 还款数据滞后
-- zh explained: 最新一笔入账还款太旧：还款数据源尚未追上，当晚所有短信暂缓。
-- reads: message_context, payment_feed, run_params
--
-- Precisely: the ledger feed itself has not caught up, so every readable message is held (a
-- blocked one stays blocked): either `max_feed_lag_hours` is set and the newest usable
-- payment posted at or before T is older than T − max_feed_lag_hours, or there is none; or
-- the tables were read from a database replica that was more than `max_replica_lag_seconds`
-- behind its primary when the snapshot was taken (docs/databases.md).
WITH stale AS (
    SELECT concat_ws('; ',
        CASE WHEN p.max_feed_lag_us = 0 THEN NULL
             WHEN f.newest_posted_at IS NULL THEN 'no payment posted by as-of'
             WHEN epoch_us(p.as_of) - epoch_us(f.newest_posted_at) > p.max_feed_lag_us
                 THEN format('newest payment posted {} is more than {} h before as-of',
                             f.newest_posted_at, p.max_feed_lag_hours) END,
        CASE WHEN p.replication_lag_seconds > CAST(p.max_replica_lag_seconds AS DOUBLE)
             THEN format('the database replica read at {} was {} s behind its primary '
                         '(max_replica_lag_seconds {})', p.snapshot_at,
                         round(p.replication_lag_seconds, 1), p.max_replica_lag_seconds)
             END) AS detail
    FROM run_params AS p
    CROSS JOIN payment_feed AS f
)
SELECT c.source_row, s.detail
FROM message_context AS c
CROSS JOIN stale AS s
WHERE s.detail <> ''
