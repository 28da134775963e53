-- flag: CONTACT_RESTRICTED
-- definition: the borrower has a contact_flags row whose flag is restricting (default
--   opted_out, dispute_open, cease_contact, deceased, bankruptcy) with since ≤ s and
--   (until empty or s < until). The reason names the flag. docs/contact_checks.md
SELECT
    c.source_row,
    string_agg(
        format('{} since {}{}', f.flag, f.since,
               CASE WHEN f.until IS NOT NULL THEN format(' until {}', f.until) ELSE '' END),
        '; ' ORDER BY f.since, f.flag) AS detail
FROM contact_context AS c
JOIN contact_flags AS f USING (borrower_id)
CROSS JOIN contact_params AS q
WHERE f.problem IS NULL
  AND list_contains(q.restricting_contact_flags, f.flag)
  AND f.since <= c.scheduled_at
  AND (f.until IS NULL OR c.scheduled_at < f.until)
GROUP BY c.source_row
