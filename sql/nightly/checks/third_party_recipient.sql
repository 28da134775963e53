-- flag: THIRD_PARTY_RECIPIENT
-- order: 190
-- kind: contact
-- verdict: block
-- needs: borrowers
-- source: PIPL arts. 6, 10; Civil Code arts. 1033–1034; guidelines: collect only from the
--   debtor; Reg F 1006.6(d)
-- summary: the phone is not one of the borrower's verified phones
-- definition: `borrowers` lists verified phones for the borrower and the message's phone is
--   none of them
-- en name: Third-party recipient
-- en explained: The phone is none of the borrower's registered numbers.
-- zh name: 收件人非本人
-- zh explained: 短信号码不是借款人登记的任何一个号码。
-- reads: borrowers, contact_context, contact_params, is_blank(), masked_phone(),
--   normalize_phone()
--
-- Precisely: the borrower has at least one borrowers row with a phone, and the message's
-- phone matches none of them (digits only; an international + or 00 prefix and the
-- profile's country code dropped). docs/contact_checks.md
-- A phone written exactly as one of the borrower's matches it however both are read, so
-- only the messages whose phone is none of them as written are read digit by digit, with
-- their borrowers' phones: normalising every borrower's phones and every message's cost
-- most of this check, for the few messages that can be flagged.
WITH phones AS (
    SELECT borrower_id, phone
    FROM borrowers
    WHERE problem IS NULL AND NOT is_blank(phone)
),
unmatched AS (
    SELECT c.source_row, c.borrower_id, c.phone
    FROM contact_context AS c
    WHERE NOT EXISTS (SELECT 1 FROM phones AS p
                      WHERE p.borrower_id = c.borrower_id AND p.phone = c.phone)
),
verified_phones AS (
    SELECT borrower_id, list(DISTINCT normalize_phone(phone, q.phone_country_code)) AS phones
    FROM phones
    CROSS JOIN contact_params AS q
    WHERE borrower_id IN (SELECT borrower_id FROM unmatched)
    GROUP BY borrower_id
)
SELECT
    u.source_row,
    format('phone {} is not among the {} verified number(s) of borrower {}',
           masked_phone(u.phone), len(v.phones), u.borrower_id) AS detail
FROM unmatched AS u
JOIN verified_phones AS v USING (borrower_id)
CROSS JOIN contact_params AS q
WHERE NOT list_contains(v.phones, normalize_phone(u.phone, q.phone_country_code))
