"""Turn each loaded `raw_<table>` into a typed table (or view) `<table>` that keeps every row.

Every typed table has `source_row` (1-based data row of the file) and `problem`: NULL for a
usable row, else every reason the row is unusable, in words a person can act on
("scheduled_at '2026-11-31 09:00' is not a timestamp"). The SELECT is generated from
`schema.TABLES`, using the parsers of sql/nightly/staging/macros.sql, so there is one definition of
what a valid value is.
"""

from __future__ import annotations

import duckdb

from reconcile.nightly.inputs import DATABASE_FORMATS, InputFile, raw_column_types
from reconcile.schema import KIND_NOUN, LEDGER_TABLES, Column, NotBefore, RowRule, Table
from reconcile.sqlfiles import quote_identifier, quote_literal, read_sql

SQL_TYPE = {
    "text": "VARCHAR",
    "amount": "DECIMAL(18, 2)",
    "integer": "BIGINT",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
    "timezone": "VARCHAR",
}
_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
                  "UINTEGER", "UBIGINT", "HUGEINT"}
_NAIVE_TIMESTAMP_TYPES = {"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"}
# Suffix of the untouched input value beside its typed one; name of the repeated-key reason.
RAW = "__raw"
DUPLICATE = "__repeated_key"
# Suffix of the table of a staged view's unusable rows (stage).
PROBLEMS = "__problems"
# How much of a bad value an error message quotes.
_QUOTED_LENGTH = 40


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    """The parsers of staged input, and the readers of phones, names and message text."""
    con.execute(read_sql("nightly/staging/macros.sql"))
    con.execute(read_sql("nightly/content/macros.sql"))


def stages_as_view(table: Table, source: InputFile) -> bool:
    """Whether <table> is a view over its Parquet file (or the rows read from a database)
    rather than a copy.

    A Parquet reference table (installments: ~8 rows per message) is read by a few truth
    steps only, and decoding its columns again costs less than holding a typed copy, which
    past memory_limit is spilled to disk and read back; a database's rows are already held
    once, as read, and a second, typed copy would double them. send_batch, read by every
    check and written out again, and CSV input, whose text is parsed, are staged once as
    tables.
    """
    return source.file_format in ("parquet", *DATABASE_FORMATS) and table.name != "send_batch"


def stage(con: duckdb.DuckDBPyConnection, table: Table, source: InputFile, timezone: str,
          repeated_keys: bool = True) -> None:
    """<table> from raw_<table>: typed values, source_row and problem (see stages_as_view).

    Without repeated_keys, a repeated key is not looked for: the caller holds only part of
    the table and adds the reasons of repeated_key_select, found over all of it.
    """
    raw_types = raw_column_types(con, source.raw_table)
    padded = _padded_columns(con, table, source, raw_types)
    parsed = ", ".join(
        f"{_value_expression(c, raw_types.get(c.name), timezone, c.name in padded)} "
        f"AS {quote_identifier(c.name)}, "
        f"{_raw_expression(c, raw_types.get(c.name))} AS {quote_identifier(c.name + RAW)}"
        for c in table.columns
    )
    problems = [_problem_expression(c, raw_types.get(c.name), timezone) for c in table.columns]
    problems += [_rule_expression(rule, raw_types) for rule in table.row_rules
                 if _rule_applies(rule, raw_types)]
    columns = ", ".join(f"p.{quote_identifier(c.name)}" for c in table.columns)
    join = _key_problem(con, table, source, parsed) if repeated_keys else ""
    if join:
        problems.append(DUPLICATE)
    with_parsed = (f"WITH parsed AS NOT MATERIALIZED (SELECT {source.row_number} AS source_row, "
                   f"{parsed} FROM {source.raw_table}) ")
    problem = f"NULLIF(concat_ws('; ', {', '.join(problems)}), '')"
    if not stages_as_view(table, source):
        con.execute(f"CREATE OR REPLACE TABLE {table.name} AS {with_parsed}"
                    f"SELECT p.source_row, {columns}, {problem} AS problem FROM parsed AS p {join}")
        return
    # A view is read by several statements, each of which would work out every row's
    # problem again (at 1M messages 0.14 s per read of installments): the unusable rows
    # are found once, into <table>__problems, and each read looks its rows up there.
    problem_rows = f"{table.name}{PROBLEMS}"
    con.execute(f"CREATE OR REPLACE TABLE {problem_rows} AS {with_parsed}"
                f"SELECT * FROM (SELECT p.source_row, {problem} AS problem FROM parsed AS p "
                f"{join}) WHERE problem IS NOT NULL")
    con.execute(f"CREATE OR REPLACE VIEW {table.name} AS {with_parsed}"
                f"SELECT p.source_row, {columns}, u.problem "
                f"FROM parsed AS p LEFT JOIN {problem_rows} AS u USING (source_row)")


def _raw_expression(column: Column, raw_type: str | None) -> str:
    return "NULL" if raw_type is None else quote_identifier(column.name)


def _text_expression(column: Column, raw_type: str | None) -> str:
    if raw_type is None:
        return "CAST(NULL AS VARCHAR)"
    name = quote_identifier(column.name)
    return name if raw_type == "VARCHAR" else f"CAST({name} AS VARCHAR)"


def _padded_columns(con: duckdb.DuckDBPyConnection, table: Table, source: InputFile,
                    raw_types: dict[str, str]) -> set[str]:
    """The trimmed columns (identifiers, codes) that may hold surrounding whitespace.

    A staged view is decoded again by every statement that reads it, so for one its columns
    are checked once and only those with a padded value are trimmed on each read; a staged
    copy is parsed once, so each of its trimmed columns is simply trimmed.
    """
    columns = [c for c in table.columns if c.trimmed and raw_types.get(c.name)]
    if not columns or not stages_as_view(table, source):
        return {c.name for c in columns}
    texts = [_text_expression(c, raw_types[c.name]) for c in columns]
    selects = ", ".join(f"coalesce(bool_or(NOT ({t} = '' OR is_trimmed({t}))), false)"
                        for t in texts)
    row = con.execute(f"SELECT {selects} FROM {source.raw_table}").fetchone() or ()
    return {c.name for c, padded in zip(columns, row, strict=True) if padded}


def _value_expression(column: Column, raw_type: str | None, timezone: str,
                      padded: bool = True) -> str:
    """The typed value: straight from a typed Parquet column, else parsed from its text;
    a trimmed column's text is trimmed when it may be padded (_padded_columns)."""
    if raw_type is None:
        return f"CAST(NULL AS {SQL_TYPE[column.kind]})"
    name = quote_identifier(column.name)
    native = _native_expression(column.kind, raw_type, name, timezone)
    if native is not None:
        return native
    text = _text_expression(column, raw_type)
    if column.kind == "text":
        return f"trim_space({text})" if column.trimmed and padded else text
    if column.kind == "timestamp":
        return f"parse_timestamp({text}, {quote_literal(timezone)})"
    return f"parse_{column.kind}({text})"


def _native_expression(kind: str, raw_type: str, name: str, timezone: str) -> str | None:
    """A typed Parquet column that already means the right thing, or None to parse its text."""
    is_integer = raw_type in _INTEGER_TYPES
    is_decimal = raw_type.startswith("DECIMAL(") and int(raw_type[:-1].split(",")[1]) <= 2
    if kind == "amount" and (is_integer or is_decimal):
        return f"TRY_CAST({name} AS DECIMAL(18, 2))"
    if kind == "integer" and is_integer:
        # The same 9-digit bound as parse_integer, so Parquet and CSV agree.
        return f"CASE WHEN abs({name}) < 1000000000 THEN CAST({name} AS BIGINT) END"
    if kind == "date" and raw_type == "DATE":
        return name
    if kind == "timestamp" and raw_type == "TIMESTAMP WITH TIME ZONE":
        return name
    if kind == "timestamp" and raw_type in _NAIVE_TIMESTAMP_TYPES:
        # Naive local time: a clock change can make it no instant, or two (local_instant).
        return f"local_instant(CAST({name} AS TIMESTAMP), {quote_literal(timezone)})"
    return None


def _problem_expression(column: Column, raw_type: str | None, timezone: str) -> str:
    """A CASE giving this column's problem in words, or NULL when the value is fine.

    Only the branch that fires turns a value into text, so typed Parquet columns are not
    cast to VARCHAR row by row.
    """
    value = f"p.{quote_identifier(column.name)}"
    raw = f"p.{quote_identifier(column.name + RAW)}"
    blank = _blank_expression(column.name, raw_type)
    shown = f"quote_value(CAST({raw} AS VARCHAR), {_QUOTED_LENGTH})"
    cases = []
    if column.required:
        cases.append(f"WHEN {blank} THEN '{column.name} is empty'")
    if column.kind != "text":
        reason = f"'{column.name} ' || {shown} || ' is not {KIND_NOUN[column.kind]}'"
        wall_time = _wall_time_expression(column, raw_type, raw)
        if wall_time is not None:
            # A naive time that a clock change skipped or repeated: said so, not "not a
            # timestamp". Inside THEN, so only the rare unparsed value pays for the check.
            fault = f"wall_time_fault({wall_time}, {quote_literal(timezone)})"
            reason = f"coalesce('{column.name} ' || {shown} || ' ' || {fault}, {reason})"
        cases.append(f"WHEN {value} IS NULL AND NOT {blank} THEN {reason}")
    if column.allowed:
        allowed = ", ".join(quote_literal(v) for v in column.allowed)
        cases.append(
            f"WHEN {value} NOT IN ({allowed}) "
            f"THEN '{column.name} ' || {shown} || ' is not one of {', '.join(column.allowed)}'"
        )
    if column.minimum is not None:
        operator, words = (">=", "≥") if column.minimum_inclusive else (">", ">")
        # The parsed value, not the text: CSV '0' and Parquet 0.00 give the same reason.
        cases.append(
            f"WHEN NOT ({value} {operator} {column.minimum}) "
            f"THEN '{column.name} ' || CAST({value} AS VARCHAR) "
            f"|| ' must be {words} {column.minimum}'"
        )
    return f"CASE {' '.join(cases)} END" if cases else "NULL"


def _blank_expression(column_name: str, raw_type: str | None) -> str:
    """Whether the input value of a column is empty (an absent column's always is)."""
    raw = f"p.{quote_identifier(column_name + RAW)}"
    return f"is_blank({raw})" if raw_type == "VARCHAR" else f"{raw} IS NULL"


def _rule_applies(rule: RowRule, raw_types: dict[str, str]) -> bool:
    """Whether the file has the columns a row rule needs to fire: parts to add up, or both
    ends of a period. (Without them every row passes: a staged view, read by several truth
    steps, would test it again on each read for nothing.)"""
    if isinstance(rule, NotBefore):
        return rule.later in raw_types and rule.earlier in raw_types
    return any(part in raw_types for part in rule.parts)


def _rule_expression(rule: RowRule, raw_types: dict[str, str]) -> str:
    """A row rule's problem in words, or NULL; judged only once every value it reads has
    parsed (a value that did not parse has its own problem already)."""
    if isinstance(rule, NotBefore):
        later, earlier = (f"p.{quote_identifier(c)}" for c in (rule.later, rule.earlier))
        return f"CASE WHEN {later} < {earlier} THEN '{rule.later} is before {rule.earlier}' END"
    parts = [f"p.{quote_identifier(c)}" for c in rule.parts]
    total = f"p.{quote_identifier(rule.total)}"
    given = " OR ".join(f"{part} IS NOT NULL" for part in parts)
    parsed = " AND ".join(f"({part} IS NOT NULL OR {_blank_expression(c, raw_types.get(c))})"
                          for part, c in zip(parts, rule.parts, strict=True))
    added = " + ".join(f"coalesce(CAST({part} AS DECIMAL(38, 2)), 0)" for part in parts)
    return (f"CASE WHEN ({given}) AND {parsed} AND {added} <> {total} "
            f"THEN '{' + '.join(rule.parts)} is ' || CAST({added} AS VARCHAR) "
            f"|| ', not {rule.total} ' || CAST({total} AS VARCHAR) END")


def _wall_time_expression(column: Column, raw_type: str | None, raw: str) -> str | None:
    """The naive local time a timestamp column's value states (NULL for one with an offset),
    or None when its values cannot be naive."""
    if column.kind != "timestamp" or raw_type in (None, "TIMESTAMP WITH TIME ZONE"):
        return None
    if raw_type in _NAIVE_TIMESTAMP_TYPES:
        return f"CAST({raw} AS TIMESTAMP)"
    return f"naive_timestamp({raw if raw_type == 'VARCHAR' else f'CAST({raw} AS VARCHAR)'})"


def _key_problem(con: duckdb.DuckDBPyConnection, table: Table, source: InputFile,
                 parsed: str) -> str:
    """The join marking every copy of a repeated key: which is right cannot be known.

    The repeated keys are found once, into the small table <table>__repeated_key, so that a
    staged view does not group its rows again each time it is read. "" when the key
    provably repeats nowhere (see _suspect_groups).
    """
    if not table.unique_key:
        return ""
    keys = ", ".join(quote_identifier(k) for k in table.unique_key)
    suspects = _suspect_groups(table, _key_present(table))
    with_parsed = f"WITH parsed AS (SELECT {parsed} FROM {source.raw_table}) "
    only_suspects = ""
    if suspects:
        (count,) = con.execute(
            f"{with_parsed}SELECT count(*) FROM ({suspects[1]})").fetchone() or (0,)
        if not count:
            return ""
        only_suspects = f"({suspects[0]}) IN (SELECT ({suspects[0]}) FROM ({suspects[1]}))"
    repeated = f"{table.name}{DUPLICATE}"
    con.execute(f"CREATE OR REPLACE TABLE {repeated} AS {with_parsed}"
                f"{repeated_key_select(table, 'parsed', only_suspects)}")
    return f"LEFT JOIN {repeated} USING ({keys})"


def repeated_key_select(table: Table, relation: str, condition: str = "") -> str:
    """A SELECT of table's repeated keys over `relation` (its typed key columns), each with
    the reason every copy is unusable, in column DUPLICATE: "payment_id P7 appears 2 times".
    Rows whose key is blank are no copies of anything. `condition` narrows the rows read."""
    keys = ", ".join(quote_identifier(k) for k in table.unique_key)
    shown = " || '/' || ".join(
        f"CAST({quote_identifier(k)} AS VARCHAR)" for k in table.unique_key)
    label = "/".join(table.unique_key)
    narrowed = f" AND {condition}" if condition else ""
    return (f"SELECT {keys}, '{label} ' || {shown} || ' appears ' || count(*) "
            f"|| ' times' AS {DUPLICATE} FROM {relation} "
            f"WHERE {_key_present(table)}{narrowed} GROUP BY {keys} HAVING count(*) > 1")


def _key_present(table: Table) -> str:
    """A row has a key when none of its key columns is blank."""
    return " AND ".join(
        f"NOT is_blank({quote_identifier(k)})" if table.column(k).kind == "text"
        else f"{quote_identifier(k)} IS NOT NULL"
        for k in table.unique_key
    )


def _suspect_groups(table: Table, present: str) -> tuple[str, str] | None:
    """For a key (group columns..., integer), e.g. (loan_id, installment_no): (group columns,
    a query over `parsed` giving the groups that may hold a repeated key), so that the exact
    GROUP BY over every key (millions of groups, the costliest part of staging) runs on
    their rows only, or not at all. None for other keys.

    A group has no repeated number when its row count equals the number of distinct
    numbers, and for numbers 0-63 that is the popcount of a 64-bit mask of them; a group
    with a number outside 0-63 is always a suspect.
    """
    *groups, number = table.unique_key
    if not groups or table.column(number).kind != "integer":
        return None
    group_keys = ", ".join(quote_identifier(k) for k in groups)
    value = quote_identifier(number)
    mask = (f"bit_or(CASE WHEN {value} BETWEEN 0 AND 63 "
            f"THEN CAST(1 AS UBIGINT) << CAST({value} AS INTEGER) END)")
    return group_keys, (
        f"SELECT {group_keys} FROM parsed WHERE {present} GROUP BY {group_keys} "
        f"HAVING count(*) > coalesce(bit_count({mask}), 0)"
    )


def create_input_issues(
    con: duckdb.DuckDBPyConnection, tables: list[Table], sources: dict[str, InputFile]
) -> None:
    """input_issues: every unusable row of the reference tables, with the loan or borrower
    it concerns, and every ledger row whose loan is not in loans (docs/inputs.md), which
    no loan's truth can count: known_loans is every loan_id loans names. A row is cited by
    file_name and source_row, or for a table read from a database by row_key."""
    con.execute(
        "CREATE OR REPLACE TABLE known_loans AS "
        "SELECT DISTINCT loan_id FROM loans WHERE NOT is_blank(loan_id)"
    )
    # The unusable rows and the unplaced ones are two SELECTs, not one with OR: alone, the
    # loan lookup is an anti-join, cheaper over every ledger row than a lookup beside
    # `problem`. A row that is both comes twice and is merged below.
    selects = [_issue_select(t, sources[t.name], "problem", "problem IS NOT NULL")
               for t in tables]
    selects += [_issue_select(t, sources[t.name], "CAST(NULL AS VARCHAR)",
                              "NOT is_blank(loan_id) "
                              "AND loan_id NOT IN (SELECT loan_id FROM known_loans)")
                for t in tables if t.name in LEDGER_TABLES]
    selects += _ledger_total_issues(con, [t.name for t in tables], sources)
    ledger_names = ", ".join(quote_literal(t) for t in LEDGER_TABLES)
    # One row per unusable or unplaced row: `problem` says why it is unusable (NULL when it
    # is only unplaced), `loan_unknown` that it names a loan not in loans, `reason` both.
    con.execute(
        "CREATE OR REPLACE TABLE input_issues AS "
        "WITH issues (table_name, file_name, source_row, row_key, loan_id, borrower_id, "
        "problem) AS (" + " UNION ALL ".join(selects) + "), "
        "merged AS (SELECT table_name, any_value(file_name) AS file_name, source_row, "
        "any_value(row_key) AS row_key, "
        "any_value(loan_id) AS loan_id, any_value(borrower_id) AS borrower_id, "
        "string_agg(problem, '; ') AS problem FROM issues GROUP BY table_name, source_row), "
        "placed AS (SELECT m.*, (m.table_name IN (" + ledger_names + ") "
        "AND NOT is_blank(m.loan_id) AND k.loan_id IS NULL) AS loan_unknown "
        "FROM merged AS m LEFT JOIN known_loans AS k ON k.loan_id = m.loan_id) "
        "SELECT *, concat_ws('; ', problem, CASE WHEN loan_unknown THEN format("
        "'loan_id {} is not in loans', quote_value(loan_id, 40)) END) AS reason "
        "FROM placed ORDER BY table_name, source_row"
    )


def _issue_select(table: Table, source: InputFile, problem: str, condition: str) -> str:
    """The SELECT of input_issues' columns for table's rows that meet condition."""
    return (f"SELECT {quote_literal(table.name)} AS table_name, "
            f"{quote_literal(source.file_name)} AS file_name, source_row, "
            f"{source.row_key_sql()} AS row_key, "
            f"{_optional_column(table.loan_column)} AS loan_id, "
            f"{_optional_column(table.borrower_column)} AS borrower_id, "
            f"{problem} AS problem FROM {table.name} WHERE {condition}")


# The sums the ledger truth takes over one loan's usable rows (CONTRACT §2): (table, amount
# column, payment status or None, what the sum is called in a reason).
_LEDGER_SUMS = (
    ("installments", "amount_due", None, "installments"),
    ("payments", "amount", "settled", "settled payments"),
    ("payments", "amount", "pending", "pending payments"),
)
# Every amount reconcile reads or reports is a DECIMAL(18, 2): below 10^16.
_AMOUNT_LIMIT = "10000000000000000"


def _ledger_total_issues(con: duckdb.DuckDBPyConnection, tables: list[str],
                         sources: dict[str, InputFile]) -> list[str]:
    """SELECTs of input_issues rows for loans whose rows are each an amount but whose
    installments, settled or pending payments add up to 10^16 or more, beyond any amount
    (a 16-digit legacy sentinel beside a real row): such a ledger means nothing, and its
    truth could not be reported. One row per loan and sum, naming its largest row.

    Sums are taken as DECIMAL(38, 2), which no drop can overflow. The whole column is summed
    first: when that stays below 10^16, as on any real drop, no loan needs grouping.
    """
    selects = []
    reaches_limit: dict[str, bool] = {}
    for table, column, status, called in _LEDGER_SUMS:
        if table not in tables:
            continue
        amount = quote_identifier(column)
        if table not in reaches_limit:
            (reaches_limit[table],) = con.execute(
                f"SELECT coalesce(sum(abs(CAST({amount} AS DECIMAL(38, 2)))), 0) "
                f">= {_AMOUNT_LIMIT} FROM {table}").fetchone() or (False,)
        if not reaches_limit[table]:
            continue
        of_status = f" AND status = {quote_literal(status)}" if status else ""
        selects.append(
            f"SELECT {quote_literal(table)} AS table_name, "
            f"{quote_literal(sources[table].file_name)} AS file_name, source_row, row_key, "
            f"loan_id, CAST(NULL AS VARCHAR) AS borrower_id, "
            f"format('{column} {{}} brings the loan''s {{}} {called} to {{}}, beyond the "
            f"largest amount, 9999999999999999.99', CAST(largest AS VARCHAR), row_count, "
            f"CAST(total AS VARCHAR)) AS problem "
            f"FROM (SELECT loan_id, sum(CAST({amount} AS DECIMAL(38, 2))) AS total, "
            f"count(*) AS row_count, max({amount}) AS largest, "
            f"arg_max(source_row, ({amount}, -source_row)) AS source_row, "
            f"arg_max({sources[table].row_key_sql()}, ({amount}, -source_row)) AS row_key "
            f"FROM {table} WHERE problem IS NULL AND NOT is_blank(loan_id){of_status} "
            f"GROUP BY loan_id HAVING sum(CAST({amount} AS DECIMAL(38, 2))) >= {_AMOUNT_LIMIT})"
        )
    return selects


def _optional_column(name: str | None) -> str:
    return quote_identifier(name) if name else "CAST(NULL AS VARCHAR)"
