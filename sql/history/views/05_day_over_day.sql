-- view: day_over_day
-- answers: What changed since the previous night? Per night: messages, counts by verdict
--   and by flag, next to the previous night's and the difference.
-- reads: findings, flag_definitions, runs_by_night
--
-- One row per (night, measure), in a fixed order: messages, the four verdicts, then the
-- flags in their order (flag_definitions). The previous night is the latest earlier night
-- with a run (a gap in the nights is not filled); on the first night previous and delta
-- are NULL.
-- Only the run that counts for each night is read (runs_by_night).
--
-- columns:
--   night, run_id                    the night and the run that counts for it
--   previous_night, previous_run_id  the night before it with a run (NULL on the first)
--   kind                             'total', 'verdict' or 'flag'
--   measure                          messages | send, hold, block, rejected | a flag name
--   position                         sort order of measure
--   count                            that night's count
--   previous                         the previous night's count
--   delta                            count − previous
CREATE OR REPLACE VIEW day_over_day AS
WITH nights AS (
    SELECT
        night,
        run_id,
        lag(night) OVER (ORDER BY night) AS previous_night,
        lag(run_id) OVER (ORDER BY night) AS previous_run_id
    FROM runs_by_night
    WHERE is_latest
),
measures (position, kind, measure) AS (
    VALUES
        (1, 'total', 'messages'),
        (2, 'verdict', 'send'),
        (3, 'verdict', 'hold'),
        (4, 'verdict', 'block'),
        (5, 'verdict', 'rejected')
    UNION ALL
    SELECT 5 + position, 'flag', flag FROM flag_definitions
),
counts AS (
    SELECT run_id, 'messages' AS measure, count(*) AS n
    FROM findings WHERE run_id IN (SELECT run_id FROM nights) GROUP BY run_id
    UNION ALL
    SELECT run_id, verdict, count(*)
    FROM findings WHERE run_id IN (SELECT run_id FROM nights) GROUP BY run_id, verdict
    UNION ALL
    SELECT run_id, flag, count(*)
    FROM (
        SELECT run_id, unnest(flags) AS flag
        FROM findings WHERE run_id IN (SELECT run_id FROM nights)
    )
    GROUP BY run_id, flag
)
SELECT
    n.night,
    n.run_id,
    n.previous_night,
    n.previous_run_id,
    m.kind,
    m.measure,
    m.position,
    coalesce(c.n, 0) AS count,
    CASE WHEN n.previous_run_id IS NOT NULL THEN coalesce(p.n, 0) END AS previous,
    CASE WHEN n.previous_run_id IS NOT NULL THEN coalesce(c.n, 0) - coalesce(p.n, 0) END
        AS delta
FROM nights AS n
CROSS JOIN measures AS m
LEFT JOIN counts AS c ON c.run_id = n.run_id AND c.measure = m.measure
LEFT JOIN counts AS p ON p.run_id = n.previous_run_id AND p.measure = m.measure
ORDER BY n.night, m.position;
