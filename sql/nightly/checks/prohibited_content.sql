-- flag: PROHIBITED_CONTENT
-- order: 220
-- kind: contact
-- verdict: block
-- needs: send_batch.message_text
-- source: guidelines: no threats, no impersonating courts or police, no exposing debts;
--   Civil Code art. 1024; Reg F 1006.14, 1006.18
-- summary: the text threatens, insults or impersonates
-- definition: `message_text` contains a threat, insult or impersonation term (configurable
--   list; simplified and traditional; whole words for Latin terms)
-- en name: Prohibited wording
-- en explained: The text holds a threat, an insult or impersonates police or courts.
-- zh name: 违规措辞
-- zh explained: 短信正文含威胁、侮辱或冒充公检法的措辞。
-- reads: contact_context, prohibited_exceptions_pattern(), prohibited_terms_pattern()
--
-- Precisely: message_text, with every prohibited_term_exceptions phrase removed, contains a
-- prohibited_terms term (threats, insults, impersonating courts or police), simplified or
-- traditional; Latin terms as whole words, any case. The reason quotes each term found.
-- docs/contact_checks.md
WITH candidates AS MATERIALIZED (
    -- Most texts contain no term at all: only those that do are searched closely.
    SELECT source_row, message_text
    FROM contact_context
    WHERE message_text IS NOT NULL AND regexp_matches(message_text, prohibited_terms_pattern())
),
found AS MATERIALIZED (
    SELECT
        source_row,
        regexp_extract_all(
            regexp_replace(message_text, prohibited_exceptions_pattern(), ' ', 'g'),
            prohibited_terms_pattern()) AS terms
    FROM candidates
)
SELECT
    source_row,
    'text contains ' || array_to_string(
        list_transform(list_sort(list_distinct(list_transform(terms, lambda t: lower(t)))),
                       lambda t: '"' || t || '"'), ', ') AS detail
FROM found
WHERE len(terms) > 0
