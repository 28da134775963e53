-- flag: PRIVACY_LEAK
-- order: 230
-- kind: contact
-- verdict: block
-- needs: send_batch.message_text
-- source: PIPL arts. 28–29 (sensitive personal information); Civil Code art. 1034
-- summary: the text holds an ID or card number or an address
-- definition: `message_text` contains a resident ID number (valid check digit), a
--   Luhn-valid card number longer than its last 4 digits, or a street address
-- en name: Privacy leak
-- en explained: The text holds a resident ID number, a full card number or a street
--   address.
-- zh name: 泄露隐私
-- zh explained: 短信正文含身份证号、完整银行卡号或住址。
-- reads: contact_context, addresses_in(), card_numbers_in(), may_hold_private_data(),
--   resident_ids_in()
--
-- Precisely: message_text contains a resident ID number (18 characters, valid check
-- character), a bank card number of 13-19 digits that passes the Luhn check (a masked
-- 尾号1234 does not), or a street address. docs/contact_checks.md
-- MATERIALIZED keeps the cheap first look before the close reading: left to itself the
-- optimizer merges both into one filter and runs the costly part on every text.
WITH candidates AS MATERIALIZED (
    -- Only texts with 13 or more digits in a run, or an address word, are read closely.
    SELECT source_row, message_text
    FROM contact_context
    WHERE message_text IS NOT NULL AND may_hold_private_data(message_text)
),
found AS MATERIALIZED (
    SELECT
        source_row,
        resident_ids_in(message_text) AS ids,
        card_numbers_in(message_text) AS cards,
        addresses_in(message_text) AS addresses
    FROM candidates
)
SELECT
    source_row,
    concat_ws(', ',
        CASE WHEN len(ids) > 0 THEN format('resident ID number ending {}', right(ids[1], 4)) END,
        CASE WHEN len(cards) > 0 THEN format('bank card number ending {}', right(cards[1], 4)) END,
        CASE WHEN len(addresses) > 0 THEN 'a street address' END
    ) AS detail
FROM found
WHERE len(ids) > 0 OR len(cards) > 0 OR len(addresses) > 0
