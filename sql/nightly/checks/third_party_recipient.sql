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
WITH verified_phones AS (
    SELECT borrower_id, list(DISTINCT normalize_phone(phone, q.phone_country_code)) AS phones
    FROM borrowers
    CROSS JOIN contact_params AS q
    WHERE problem IS NULL AND NOT is_blank(phone)
    GROUP BY borrower_id
)
SELECT
    c.source_row,
    format('phone {} is not among the {} verified number(s) of borrower {}',
           masked_phone(c.phone), len(v.phones), c.borrower_id) AS detail
FROM contact_context AS c
JOIN verified_phones AS v USING (borrower_id)
CROSS JOIN contact_params AS q
WHERE NOT list_contains(v.phones, normalize_phone(c.phone, q.phone_country_code))
