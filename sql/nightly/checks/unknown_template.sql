-- flag: UNKNOWN_TEMPLATE
-- definition: template_id is not in `templates`.
-- An unusable templates row (bad kind, bad bound, repeated template_id) counts as unknown:
-- the message cannot be verified either way (docs/interpretations.md).
SELECT source_row, template_problem AS detail
FROM message_context
WHERE NOT template_usable
