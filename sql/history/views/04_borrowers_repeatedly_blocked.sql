-- view: borrowers_repeatedly_blocked
-- answers: Which borrowers would have received a wrong collection message on two or more
--   nights? Borrowers with a blocked message on at least 2 distinct nights.
-- reads: findings, runs_by_night
--
-- Only the run that counts for each night is read (runs_by_night). borrower_id is the one
-- the message was addressed to (for BORROWER_MISMATCH, the person who does not owe it).
--
-- columns:
--   borrower_id
--   borrower_name          as on the latest blocked message
--   nights                 distinct nights with at least one blocked message
--   first_night, last_night   DATE
--   blocked_messages       blocked messages over all nights
--   loans                  VARCHAR[]: loan ids of those messages, sorted
--   rules                  VARCHAR[]: rules that selected them, sorted
--   flags_seen             VARCHAR[]: every flag on those messages, sorted by name
CREATE OR REPLACE VIEW borrowers_repeatedly_blocked AS
SELECT
    f.borrower_id,
    arg_max(f.borrower_name, r.as_of) AS borrower_name,
    count(DISTINCT r.night) AS nights,
    min(r.night) AS first_night,
    max(r.night) AS last_night,
    count(*) AS blocked_messages,
    list_sort(list_distinct(list(f.loan_id))) AS loans,
    list_sort(list_distinct(list(f.rule_id))) AS rules,
    list_sort(list_distinct(flatten(list(f.flags)))) AS flags_seen
FROM findings AS f
JOIN runs_by_night AS r USING (run_id)
WHERE r.is_latest AND f.verdict = 'block' AND f.borrower_id IS NOT NULL
GROUP BY f.borrower_id
HAVING count(DISTINCT r.night) >= 2
ORDER BY nights DESC, last_night DESC, f.borrower_id;
