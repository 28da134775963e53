-- flag: DUPLICATE_IN_BATCH
-- order: 170
-- kind: contact
-- verdict: block
-- source: reconcile's own (harassment by repetition)
-- summary: the same borrower, loan and template earlier in the batch
-- definition: the same borrower, loan and template earlier in this batch (the first copy is
--   not flagged)
-- en name: Duplicate in batch
-- en explained: An earlier message of this batch has the same borrower, loan and template.
-- zh name: 批内重复
-- zh explained: 本批次中已有同一借款人、借据和模板的较早短信。
-- reads: contact_context
--
-- Precisely: another readable message of the batch has the same (borrower_id, loan_id,
-- template_id) and comes earlier in (scheduled_at, message_id) order; the earliest copy is
-- not flagged. docs/contact_checks.md
-- message_id, unique among readable messages, breaks a tie of scheduled_at: the batch's
-- row order is an export's accident, and a batch read from a database has none.
-- The keys that repeat are found by one grouping (most keys are sent once); only their
-- messages are compared with the earliest copy, instead of ordering every message.
-- That grouping is first done on a hash of the key alone, which only counts: a key that
-- repeats has a hash that repeats, so the exact grouping, which carries each key's
-- earliest message, runs on those messages only (a hash shared by chance only adds
-- candidates). Grouping every message's key and earliest message spilled at 10M.
WITH repeated_hashes AS (
    SELECT hash(borrower_id, loan_id, template_id) AS key_hash
    FROM contact_context
    GROUP BY key_hash
    HAVING count(*) > 1
),
candidates AS (
    SELECT *
    FROM contact_context
    WHERE hash(borrower_id, loan_id, template_id) IN (SELECT key_hash FROM repeated_hashes)
),
firsts AS (
    SELECT
        borrower_id,
        loan_id,
        template_id,
        arg_min(source_row, (scheduled_at, message_id)) AS first_source_row,
        arg_min(message_id, (scheduled_at, message_id)) AS first_message_id,
        min(scheduled_at) AS first_scheduled_at
    FROM candidates
    GROUP BY borrower_id, loan_id, template_id
    HAVING count(*) > 1
)
SELECT
    c.source_row,
    format('same borrower, loan and template as message {} (row {}), scheduled {}',
           f.first_message_id, f.first_source_row, f.first_scheduled_at) AS detail
FROM candidates AS c
JOIN firsts AS f
    ON c.borrower_id IS NOT DISTINCT FROM f.borrower_id
    AND c.loan_id IS NOT DISTINCT FROM f.loan_id
    AND c.template_id IS NOT DISTINCT FROM f.template_id
WHERE c.source_row <> f.first_source_row
