-- flag: MISSING_OPT_OUT
-- order: 240
-- kind: contact
-- verdict: hold
-- needs: send_batch.message_text
-- off unless: require_opt_out
-- source: Reg F 1006.6(e)
-- summary: *us_reg_f:* no opt-out instruction in the text
-- definition: *us_reg_f only:* no opt-out instruction in `message_text`
-- en name: No opt-out
-- en explained: An opt-out instruction is required (us_reg_f profile) and the text has
--   none.
-- zh name: 缺少退订方式
-- zh explained: 要求附退订方式（us_reg_f 配置），但短信正文没有。
-- reads: contact_context, opt_out_pattern()
SELECT
    c.source_row,
    'no opt-out instruction in the text (e.g. "Reply STOP to opt out")' AS detail
FROM contact_context AS c
WHERE c.message_text IS NOT NULL
  AND NOT regexp_matches(c.message_text, opt_out_pattern())
