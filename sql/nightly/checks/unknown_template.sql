-- flag: UNKNOWN_TEMPLATE
-- order: 80
-- kind: ledger
-- verdict: hold
-- source: contract
-- summary: the template is unknown or unusable
-- definition: the template is not in `templates` (or its row is unusable)
-- en name: Unknown template
-- en explained: The template is not in the templates table, or its row is unusable.
-- zh name: 模板未知
-- zh explained: 短信模板不在模板表中，或该行不可用。
-- reads: message_context
--
-- An unusable templates row (bad kind, bad bound, repeated template_id) counts as unknown:
-- the message cannot be verified either way (docs/interpretations.md).
SELECT source_row, template_problem AS detail
FROM message_context
WHERE NOT template_usable
