-- reads: nothing
-- Readers of phones, names and message text for the contact and content checks
-- (docs/contact_checks.md says what each one accepts). Pure functions of their arguments;
-- the term lists come from the settings as macros made at run time by the engine
-- (prohibited_terms_pattern(), prohibited_exceptions_pattern(), opt_out_pattern()).

-- Digits only; a number written internationally (+ or 00) also loses its country code.
CREATE OR REPLACE MACRO normalize_phone(txt, country_code) AS
    CASE
        WHEN regexp_matches(trim(txt), '^(\+|00)') AND starts_with(
            regexp_replace(regexp_replace(trim(txt), '^(\+|00)', ''), '[^0-9]', '', 'g'),
            country_code)
            THEN substr(
                regexp_replace(regexp_replace(trim(txt), '^(\+|00)', ''), '[^0-9]', '', 'g'),
                length(country_code) + 1)
        WHEN regexp_matches(trim(txt), '^(\+|00)')
            THEN regexp_replace(regexp_replace(trim(txt), '^(\+|00)', ''), '[^0-9]', '', 'g')
        ELSE regexp_replace(txt, '[^0-9]', '', 'g')
    END;

-- A phone as a reason shows it: only its last four digits.
CREATE OR REPLACE MACRO masked_phone(txt) AS
    'ending ' || right(regexp_replace(txt, '[^0-9]', '', 'g'), 4);

-- Names compare with white space (ASCII, no-break space U+00A0, ideographic U+3000)
-- removed and letters lower-cased: "Zhang Wei" = "zhangwei", "张 伟" = "张伟".
CREATE OR REPLACE MACRO normalize_name(txt) AS
    lower(regexp_replace(txt, '[\s\x{00a0}\x{3000}]+', '', 'g'));

-- A message text the content checks read: NULL when it is blank (empty, or only the white
-- space names ignore), so that a blank text is not evaluated, exactly as an absent one.
CREATE OR REPLACE MACRO readable_text(txt) AS
    CASE WHEN regexp_matches(txt, '[^\s\x{00a0}\x{3000}]') THEN txt END;

-- Amounts a text states: ¥ / ￥ / RMB / CNY / $ before the number, or 元 after it. The
-- number is 1234.56 or 1,234.56 (at most 2 decimals); digits that run on are no amount.
-- One scan of the text finds both forms; the number is then cut out of each match.
CREATE OR REPLACE MACRO stated_amounts(txt) AS
    list_transform(
        regexp_extract_all(
            txt,
            '(?:¥|￥|RMB|CNY|\$)\s*(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]{1,2})?(?:$|[^0-9,.]|[.,](?:$|[^0-9]))'
            || '|(?:^|[^0-9,.])(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]{1,2})?\s*元'),
        lambda found: regexp_extract(
            found, '(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]{1,2})?'));

-- An amount component a text states with its label (docs/contact_checks.md): 本金 3,000.00元,
-- 罚息：45.60 元, principal of ¥3,000.00, a late fee of 10.00. The label, a gap (a colon,
-- "of", 为 or 是), maybe a currency, then a whole run of digits; 元 or a percent sign
-- after it is taken in, so that a rate ("interest 5%") can be told from an amount.
-- English labels start a word; "penalty interest" is read before "penalty" and "interest".
CREATE OR REPLACE MACRO labelled_amount_pattern() AS
    '(?:本金|利息|服务费|罚息|违约金|滞纳金'
    || '|\b(?i:penalty\s+interest|penalty|late\s+fee|service\s+fee|principal|interest))'
    || '\s*(?:[:：]\s*)?(?:(?i:of)\s+|为\s*|是\s*)?(?:(?:¥|￥|RMB|CNY|\$)\s*)?'
    || '[0-9]+(?:[.,][0-9]+)*(?:\s*元|[%％])?';

-- The component a labelled match names: principal, interest, fee or penalty.
CREATE OR REPLACE MACRO component_of_label(found) AS
    CASE
        WHEN regexp_matches(found, '^(?:本金|(?i:principal))') THEN 'principal'
        WHEN regexp_matches(found, '^(?:利息|(?i:interest))') THEN 'interest'
        WHEN regexp_matches(found, '^(?:服务费|(?i:service))') THEN 'fee'
        ELSE 'penalty'
    END;

-- The labelled amounts a text states, as (component, amount as written): a run that is no
-- amount (1234.567) or is a rate (5%) states nothing.
CREATE OR REPLACE MACRO stated_components(txt) AS
    list_transform(
        list_filter(
            regexp_extract_all(txt, labelled_amount_pattern()),
            lambda found: NOT regexp_matches(found, '[%％]$')
                AND regexp_full_match(
                    regexp_extract(found, '[0-9]+(?:[.,][0-9]+)*'),
                    '(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]{1,2})?')),
        lambda found: {'component': component_of_label(found),
                       'amount': regexp_extract(found, '[0-9]+(?:[.,][0-9]+)*')});

-- The text with every labelled amount taken out, so that stated_amounts reads only the
-- unlabelled ones (an amount is a component or the overdue amount, never both).
CREATE OR REPLACE MACRO without_components(txt) AS
    regexp_replace(txt, labelled_amount_pattern(), '|', 'g');

-- Days overdue a text states: 逾期5天 / 逾期5日 / 5 days overdue / 5 days past due /
-- overdue by (or for) 5 days. One scan, then the number of each match.
CREATE OR REPLACE MACRO stated_days_overdue(txt) AS
    list_transform(
        regexp_extract_all(
            txt,
            '逾期\s*[0-9]+\s*[天日]|(?i:[0-9]+\s*days?\s+(?:overdue|past\s+due))'
            || '|(?i:overdue\s+(?:by|for)\s+[0-9]+\s*days?)'),
        lambda found: regexp_extract(found, '[0-9]+'));

-- The value of an amount as stated ("1,234.56"), NULL when too large to be one.
CREATE OR REPLACE MACRO stated_amount_value(txt) AS
    TRY_CAST(replace(txt, ',', '') AS DECIMAL(18, 2));

-- ISO 7064 MOD 11-2, the check character of an 18-character resident ID number.
CREATE OR REPLACE MACRO resident_id_valid(id) AS
    regexp_full_match(id, '[0-9]{17}[0-9X]')
    AND substr(
        '10X98765432',
        CAST(list_sum(list_transform(
            range(17),
            lambda i: TRY_CAST(substr(id, i + 1, 1) AS INTEGER)
                * [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2][i + 1]
        )) % 11 AS INTEGER) + 1,
        1) = substr(id, 18, 1);

-- The Luhn check of a digit string (bank card numbers).
CREATE OR REPLACE MACRO luhn_valid(digits) AS
    list_sum(list_transform(
        range(length(digits)),
        lambda i: CASE
            WHEN i % 2 = 0 THEN CAST(substr(digits, length(digits) - i, 1) AS INTEGER)
            WHEN CAST(substr(digits, length(digits) - i, 1) AS INTEGER) >= 5
                THEN 2 * CAST(substr(digits, length(digits) - i, 1) AS INTEGER) - 9
            ELSE 2 * CAST(substr(digits, length(digits) - i, 1) AS INTEGER)
        END
    )) % 10 = 0;

-- Resident ID numbers in a text: runs of exactly 17 digits plus a digit or X.
CREATE OR REPLACE MACRO resident_ids_in(txt) AS
    list_filter(regexp_extract_all(txt, '[0-9]+X?'),
                lambda run: length(run) = 18 AND resident_id_valid(run));

-- Bank card numbers in a text: 13-19 digits, maybe grouped by single spaces or hyphens,
-- that pass the Luhn check.
CREATE OR REPLACE MACRO card_numbers_in(txt) AS
    list_filter(
        list_transform(regexp_extract_all(txt, '[0-9]+(?:[ -][0-9]+)*'),
                       lambda run: replace(replace(run, ' ', ''), '-', '')),
        lambda digits: length(digits) BETWEEN 13 AND 19 AND luhn_valid(digits));

-- A cheap first look for PRIVACY_LEAK: a run of 13+ digits (maybe grouped), or a word an
-- address needs. Texts without either hold no ID, card or address.
CREATE OR REPLACE MACRO may_hold_private_data(txt) AS
    regexp_matches(txt, '[0-9](?:[ -]?[0-9]){12}|[路街道巷弄栋幢]|胡同|号楼|\b(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr)\b');

-- Street addresses in a text: 中山路123号, 5号楼3室 / 5栋2单元; 12 Main Street.
CREATE OR REPLACE MACRO addresses_in(txt) AS
    regexp_extract_all(txt, '[\x{4e00}-\x{9fff}]{1,12}(?:路|街|大道|道|巷|弄|胡同)[0-9]+号')
    || regexp_extract_all(txt, '[0-9]+(?:号楼|栋|幢)[0-9]+(?:室|单元)')
    || regexp_extract_all(
        txt,
        '\b[0-9]{1,5}\s+(?:[A-Z][a-z]*\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr)\b');
