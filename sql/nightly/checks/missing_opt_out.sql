-- flag: MISSING_OPT_OUT
-- definition: require_opt_out is on (profile us_reg_f) and message_text contains none of
--   opt_out_phrases, case-insensitively (Regulation F 12 CFR 1006.6(e)).
--   docs/contact_checks.md
SELECT
    c.source_row,
    'no opt-out instruction in the text (e.g. "Reply STOP to opt out")' AS detail
FROM contact_context AS c
CROSS JOIN contact_params AS q
WHERE q.require_opt_out
  AND c.message_text IS NOT NULL
  AND NOT regexp_matches(c.message_text, opt_out_pattern())
