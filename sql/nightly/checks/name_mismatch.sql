-- flag: NAME_MISMATCH
-- definition: borrower_name is given, the borrower has at least one borrowers row with a
--   name, and it matches none of them (white space removed, lower-cased).
--   docs/contact_checks.md
WITH known_names AS (
    SELECT borrower_id, list(DISTINCT normalize_name(name)) AS names
    FROM borrowers
    WHERE problem IS NULL AND NOT is_blank(name)
    GROUP BY borrower_id
)
SELECT
    c.source_row,
    format('borrower_name is not the name on file for borrower {} ({} name(s) on file)',
           c.borrower_id, len(k.names)) AS detail
FROM contact_context AS c
JOIN known_names AS k USING (borrower_id)
WHERE NOT is_blank(c.borrower_name)
  AND NOT list_contains(k.names, normalize_name(c.borrower_name))
