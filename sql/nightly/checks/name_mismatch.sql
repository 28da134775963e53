-- flag: NAME_MISMATCH
-- order: 200
-- kind: contact
-- verdict: block
-- needs: borrowers
-- source: PIPL art. 10; Civil Code art. 1024
-- summary: the name is not the borrower's
-- definition: `borrower_name` is given and is not a name `borrowers` has for the borrower
-- en name: Name mismatch
-- en explained: The name in the message is not a name registered for the borrower.
-- zh name: 姓名不符
-- zh explained: 短信中的姓名不是借款人登记的姓名。
-- reads: borrowers, contact_context, is_blank(), normalize_name()
--
-- Precisely: borrower_name is given, the borrower has at least one borrowers row with a
-- name, and it matches none of them (white space removed, lower-cased).
-- docs/contact_checks.md
-- A name written exactly as one on file matches it however both are read, so only the
-- messages whose name is none of them as written are compared in that form (as in
-- THIRD_PARTY_RECIPIENT).
WITH names AS (
    SELECT borrower_id, name
    FROM borrowers
    WHERE problem IS NULL AND NOT is_blank(name)
),
unmatched AS (
    SELECT c.source_row, c.borrower_id, c.borrower_name
    FROM contact_context AS c
    WHERE NOT is_blank(c.borrower_name)
      AND NOT EXISTS (SELECT 1 FROM names AS n
                      WHERE n.borrower_id = c.borrower_id AND n.name = c.borrower_name)
),
known_names AS (
    SELECT borrower_id, list(DISTINCT normalize_name(name)) AS names
    FROM names
    WHERE borrower_id IN (SELECT borrower_id FROM unmatched)
    GROUP BY borrower_id
)
SELECT
    u.source_row,
    format('borrower_name is not the name on file for borrower {} ({} name(s) on file)',
           u.borrower_id, len(k.names)) AS detail
FROM unmatched AS u
JOIN known_names AS k USING (borrower_id)
WHERE NOT list_contains(k.names, normalize_name(u.borrower_name))
