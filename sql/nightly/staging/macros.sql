-- reads: nothing
-- Text parsers for staged input. Each returns NULL when the text does not have the exact
-- shape the contract asks for, because DuckDB's own casts are lenient
-- (TRY_CAST('3.5' AS INTEGER) is 4, '2026/11/01' casts to a DATE, '24:00' is midnight).
-- Bounds: amounts have at most 16 digits before the point (they fit DECIMAL(18, 2)),
-- integers at most 9 digits (so a due date plus grace_days is still a date), hours 00-23,
-- minutes and seconds 00-59, offsets within ±23:59.
-- Shapes are documented in docs/interpretations.md.

-- Surrounding whitespace, as Python's str.strip() sees most of it: space, tab, line breaks,
-- no-break space, ideographic (full-width) space and a stray byte-order mark. Identifiers
-- are compared after it is trimmed (CHAR columns arrive space-padded), and so is every
-- value before it is parsed. A value that neither starts nor ends with one is returned as
-- it is, after one regular-expression test: three times faster than trim() with a set of
-- characters, on the millions of ledger ids a night stages.
CREATE OR REPLACE MACRO is_trimmed(txt) AS
    regexp_full_match(txt, '(?s)[^ \t\n\x0b\f\r\x{00a0}\x{3000}\x{feff}]'
                           '(.*[^ \t\n\x0b\f\r\x{00a0}\x{3000}\x{feff}])?');

CREATE OR REPLACE MACRO trim_space(txt) AS
    CASE WHEN is_trimmed(txt) THEN txt
         ELSE trim(txt, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13) || chr(160)
                        || chr(12288) || chr(65279)) END;

-- Empty or only whitespace; the expression fails at the first other character.
CREATE OR REPLACE MACRO is_blank(txt) AS
    txt IS NULL OR regexp_full_match(txt, '(?s)[ \t\n\x0b\f\r\x{00a0}\x{3000}\x{feff}]*');

CREATE OR REPLACE MACRO parse_amount(txt) AS
    CASE WHEN regexp_full_match(trim_space(txt), '[+-]?[0-9]{1,16}(\.[0-9]{1,2})?')
         THEN TRY_CAST(trim_space(txt) AS DECIMAL(18, 2)) END;

CREATE OR REPLACE MACRO parse_integer(txt) AS
    CASE WHEN regexp_full_match(trim_space(txt), '[+-]?[0-9]{1,9}')
         THEN TRY_CAST(trim_space(txt) AS BIGINT) END;

CREATE OR REPLACE MACRO parse_date(txt) AS
    CASE WHEN regexp_full_match(trim_space(txt), '[0-9]{4}-[0-9]{2}-[0-9]{2}')
         THEN TRY_CAST(trim_space(txt) AS DATE) END;

-- Wall time (a naive TIMESTAMP w) in zone tz. A clock change makes some wall times happen
-- never (skipped when clocks go forward) or twice (repeated when they go back); DuckDB's own
-- timezone(tz, w) silently picks an instant for both. Away from a change the zone keeps one
-- offset from a day before w to a day after, and w is the instant of w − 1 day, plus a day:
-- two ICU calls, and w is read three times (a macro repeats its argument's expression).
-- Near a change the candidates are w − the offset before and w − the offset after, and w is
-- the instant of those whose wall time is w, if exactly one is. (No zone changes its clocks
-- twice within two days.)
CREATE OR REPLACE MACRO is_steady_around(w, tz) AS
    epoch_us(timezone(tz, w + INTERVAL 1 DAY)) - epoch_us(timezone(tz, w - INTERVAL 1 DAY))
        = 172800000000;
CREATE OR REPLACE MACRO zone_offset_us(w, tz) AS epoch_us(w) - epoch_us(timezone(tz, w));
CREATE OR REPLACE MACRO wall_time_us(instant_us, tz) AS
    epoch_us(timezone(tz, make_timestamptz(instant_us)));
-- Whether w − the zone's offset at naive time `near` is an instant whose wall time is w.
CREATE OR REPLACE MACRO shows_wall_time(w, near, tz) AS
    wall_time_us(epoch_us(w) - zone_offset_us(near, tz), tz) = epoch_us(w);
-- The one instant whose wall time in tz is w; NULL when there is none or there are two.
CREATE OR REPLACE MACRO local_instant(w, tz) AS
    CASE
        WHEN is_steady_around(w, tz)
            THEN make_timestamptz(epoch_us(timezone(tz, w - INTERVAL 1 DAY)) + 86400000000)
        WHEN shows_wall_time(w, w - INTERVAL 1 DAY, tz)
             AND NOT shows_wall_time(w, w + INTERVAL 1 DAY, tz)
            THEN make_timestamptz(epoch_us(w) - zone_offset_us(w - INTERVAL 1 DAY, tz))
        WHEN shows_wall_time(w, w + INTERVAL 1 DAY, tz)
             AND NOT shows_wall_time(w, w - INTERVAL 1 DAY, tz)
            THEN make_timestamptz(epoch_us(w) - zone_offset_us(w + INTERVAL 1 DAY, tz))
    END;
-- Why wall time w is no instant in tz (the end of a reason), or NULL when it is one.
CREATE OR REPLACE MACRO wall_time_fault(w, tz) AS
    CASE
        WHEN w IS NULL OR is_steady_around(w, tz) THEN NULL
        WHEN NOT shows_wall_time(w, w - INTERVAL 1 DAY, tz)
             AND NOT shows_wall_time(w, w + INTERVAL 1 DAY, tz)
            THEN format('does not exist in {} (skipped when clocks went forward)', tz)
        WHEN shows_wall_time(w, w - INTERVAL 1 DAY, tz)
             AND shows_wall_time(w, w + INTERVAL 1 DAY, tz)
            THEN format('is ambiguous in {} (repeated when clocks went back); give an offset',
                        tz)
    END;

-- The shape of an ISO 8601 timestamp, with an optional offset (docs/interpretations.md).
CREATE OR REPLACE MACRO timestamp_shape() AS
    '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?';
CREATE OR REPLACE MACRO has_offset(txt) AS
    regexp_matches(trim_space(txt), '(Z|[+-][0-9]{2}(:?[0-9]{2})?)$');

-- The wall time of a timestamp text without an offset; NULL for any other text.
CREATE OR REPLACE MACRO naive_timestamp(txt) AS
    CASE WHEN regexp_full_match(trim_space(txt), timestamp_shape()) AND NOT has_offset(txt)
         THEN TRY_CAST(trim_space(txt) AS TIMESTAMP) END;

-- ISO 8601 with an optional offset: with one it is that instant, without one it is wall
-- time in zone tz, which must name exactly one instant (local_instant). (A plain TIMESTAMP
-- cast would silently drop a trailing 'Z'.)
CREATE OR REPLACE MACRO parse_timestamp(txt, tz) AS
    CASE
        WHEN NOT regexp_full_match(trim_space(txt), timestamp_shape()) THEN NULL
        WHEN has_offset(txt) THEN TRY_CAST(trim_space(txt) AS TIMESTAMPTZ)
        ELSE local_instant(TRY_CAST(trim_space(txt) AS TIMESTAMP), tz)
    END;

-- An IANA zone name DuckDB (ICU) knows, e.g. Asia/Shanghai; anything else is NULL.
CREATE OR REPLACE MACRO parse_timezone(txt) AS
    CASE WHEN trim(txt) IN (SELECT name FROM pg_timezone_names()) THEN trim(txt) END;

-- A bad value as an error message quotes it: trimmed, at most n characters, in quotes.
CREATE OR REPLACE MACRO quote_value(txt, n) AS '''' || left(trim(txt), n) || '''';

-- One input row as a reason names it: by file and row ('payments.csv row 7'), or, read
-- from a database, where there is no file row, by its key ('core.payments (payment_id=P7)').
CREATE OR REPLACE MACRO row_reference(file_name, source_row, row_key) AS
    CASE WHEN row_key IS NULL THEN format('{} row {}', file_name, source_row)
         ELSE format('{} ({})', file_name, row_key) END;

-- An aggregate over input_issues rows: why a loan's ledger or a borrower's contact data is
-- unusable, naming the first three rows (row_reference), then how many more there are.
CREATE OR REPLACE MACRO unusable_rows_reason(file_name, source_row, row_key, problem,
                                             table_name) AS
    array_to_string(list(format('{}: {}', row_reference(file_name, source_row, row_key),
                                problem)
                         ORDER BY table_name, source_row)[1:3], '; ')
        || CASE WHEN count(problem) > 3
                THEN format('; and {} more unusable rows', count(problem) - 3)
                ELSE '' END;

-- A loan_id as a person who mistyped it would still mean it: upper case, letters and digits
-- only, no leading zeros in a run of digits ('ln-00123', 'LN123' and '00LN0123' all give
-- 'LN123'). UNPLACED_PAYMENT matches an unplaced payment to loans by it.
CREATE OR REPLACE MACRO loan_match_key(txt) AS
    regexp_replace(regexp_replace(upper(coalesce(txt, '')), '[^0-9A-Z]', '', 'g'),
                   '(^|[^0-9])0+([0-9])', '\1\2', 'g');
