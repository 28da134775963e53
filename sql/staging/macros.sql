-- Text parsers for staged input. Each returns NULL when the text does not have the exact
-- shape the contract asks for, because DuckDB's own casts are lenient
-- (TRY_CAST('3.5' AS INTEGER) is 4, '2026/11/01' casts to a DATE, '24:00' is midnight).
-- Bounds: amounts have at most 16 digits before the point (they fit DECIMAL(18, 2)),
-- integers at most 9 digits (so a due date plus grace_days is still a date), hours 00-23,
-- minutes and seconds 00-59, offsets within ±23:59.
-- Shapes are documented in docs/interpretations.md.

CREATE OR REPLACE MACRO is_blank(txt) AS txt IS NULL OR trim(txt) = '';

CREATE OR REPLACE MACRO parse_amount(txt) AS
    CASE WHEN regexp_full_match(trim(txt), '[+-]?[0-9]{1,16}(\.[0-9]{1,2})?')
         THEN TRY_CAST(trim(txt) AS DECIMAL(18, 2)) END;

CREATE OR REPLACE MACRO parse_integer(txt) AS
    CASE WHEN regexp_full_match(trim(txt), '[+-]?[0-9]{1,9}')
         THEN TRY_CAST(trim(txt) AS BIGINT) END;

CREATE OR REPLACE MACRO parse_date(txt) AS
    CASE WHEN regexp_full_match(trim(txt), '[0-9]{4}-[0-9]{2}-[0-9]{2}')
         THEN TRY_CAST(trim(txt) AS DATE) END;

-- ISO 8601 with an optional offset: with one it is that instant, without one it is wall
-- time in zone tz. (A plain TIMESTAMP cast would silently drop a trailing 'Z'.)
CREATE OR REPLACE MACRO parse_timestamp(txt, tz) AS
    CASE
        WHEN NOT regexp_full_match(
            trim(txt),
            '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?'
        ) THEN NULL
        WHEN regexp_matches(trim(txt), '(Z|[+-][0-9]{2}(:?[0-9]{2})?)$')
            THEN TRY_CAST(trim(txt) AS TIMESTAMPTZ)
        ELSE timezone(tz, TRY_CAST(trim(txt) AS TIMESTAMP))
    END;

-- An IANA zone name DuckDB (ICU) knows, e.g. Asia/Shanghai; anything else is NULL.
CREATE OR REPLACE MACRO parse_timezone(txt) AS
    CASE WHEN trim(txt) IN (SELECT name FROM pg_timezone_names()) THEN trim(txt) END;

-- A bad value as an error message quotes it: trimmed, at most n characters, in quotes.
CREATE OR REPLACE MACRO quote_value(txt, n) AS '''' || left(trim(txt), n) || '''';

-- An aggregate over input_issues rows: why a loan's ledger or a borrower's contact data is
-- unusable, naming the first three rows by file and row, then how many more there are.
CREATE OR REPLACE MACRO unusable_rows_reason(file_name, source_row, problem, table_name) AS
    array_to_string(list(format('{} row {}: {}', file_name, source_row, problem)
                         ORDER BY table_name, source_row)[1:3], '; ')
        || CASE WHEN count(problem) > 3
                THEN format('; and {} more unusable rows', count(problem) - 3)
                ELSE '' END;
