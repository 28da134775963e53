-- flag: INCOMPLETE_FEED
-- order: 130
-- kind: feed
-- verdict: hold
-- source: reconcile's own (dbt / Great Expectations volume tests)
-- summary: a table arrived empty or short: every message
-- definition: a reference table arrived empty, or (with `--db`) absent or short by more
--   than `max_feed_shrink` of the last recorded night's rows: every message is held
-- en name: Incomplete feed
-- en explained: A reference table is empty, missing or much shorter than last night: every
--   message is held.
-- zh name: 数据不完整
-- zh explained: 某张参考表为空、缺失或比上一晚少了太多行：当晚所有短信暂缓。
-- reads: feed_volume, message_context, run_params
--
-- Precisely: (docs/inputs.md) a reference table arrived empty, arrived absent after the last
-- recorded night had rows in it, or has lost more than `max_feed_shrink` of the rows it had
-- on the last night recorded in the history (--db): a failed export, not a quiet night, so
-- every readable message is held. feed_volume holds each table's row count tonight and on
-- that night.
WITH failed AS (
    SELECT string_agg(
        CASE
            WHEN NOT f.present THEN format('{} is absent ({} rows in the run as of {})',
                                           f.table_name, f.previous_rows, f.previous_as_of)
            WHEN f.rows = 0 AND f.previous_rows IS NULL
                THEN format('{} has no rows', f.table_name)
            ELSE format('{} has {} rows, {}% fewer than the {} of the run as of {}',
                        f.table_name, f.rows,
                        round(100 * (f.previous_rows - f.rows) / f.previous_rows, 1),
                        f.previous_rows, f.previous_as_of)
        END, '; ' ORDER BY f.position) AS detail
    FROM feed_volume AS f
    CROSS JOIN run_params AS p
    WHERE (f.present AND f.rows = 0)
       OR (f.previous_rows > 0
           AND (NOT f.present OR f.rows < f.previous_rows * (1 - p.max_feed_shrink)))
)
SELECT c.source_row, f.detail
FROM message_context AS c
CROSS JOIN failed AS f
WHERE f.detail IS NOT NULL
