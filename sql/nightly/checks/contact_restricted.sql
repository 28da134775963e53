-- flag: CONTACT_RESTRICTED
-- order: 180
-- kind: contact
-- verdict: block
-- needs: contact_flags
-- source: PIPL art. 44; Reg F 1006.6(c), 1006.34
-- summary: opted out, disputed, cease contact, deceased, bankrupt
-- definition: an active `contact_flags` row: opted_out, dispute_open, cease_contact,
--   deceased or bankruptcy at `s` (the reason names it)
-- en name: Contact restricted
-- en explained: The borrower opted out, has an open dispute, asked for no contact, died or
--   is bankrupt.
-- zh name: 限制联系
-- zh explained: 借款人已退订、有未结争议、要求停止联系、已故或破产。
-- reads: contact_context, contact_flags, contact_params
--
-- Precisely: the borrower has a contact_flags row whose flag is restricting (default
-- opted_out, dispute_open, cease_contact, deceased, bankruptcy) with since ≤ s and (until
-- empty or s < until). The reason names the flag. docs/contact_checks.md
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
