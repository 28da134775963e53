"""Write a run's output files into the folder reconcile.nightly.out_dir stages for them.

Only this module writes the tables and summary.json; reconcile.nightly.out_dir owns the output
folder (its lock, the manifest written last, replacing it all-or-nothing).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from reconcile.nightly.inputs import InputFile
from reconcile.schema import FINDINGS_COLUMNS, FINDINGS_PARQUET_COLUMNS, OUTCOMES
from reconcile.sqlfiles import quote_identifier, quote_literal
from reconcile.timestamps import iso_offset, iso_sql

if TYPE_CHECKING:
    from reconcile.result import RunResult

SUMMARY_FILE = "summary.json"
CSV_OPTIONS = "(FORMAT csv, HEADER true, DELIMITER ',')"


def write_tables(con: duckdb.DuckDBPyConnection, folder: Path, batch: InputFile) -> None:
    """findings (CSV + Parquet, the Parquet with `details` too), the four split CSVs of
    original rows, and input_issues.csv.

    `findings` is stored in source_row order (sql/nightly/findings.sql ends in ORDER BY), and a
    COPY of a single-table SELECT keeps the stored order (DuckDB's documented order
    preservation), so they are not sorted again.
    """
    printed = _csv_values(con, "findings", FINDINGS_COLUMNS)
    listed = ", ".join(
        "array_to_string(flags, ';') AS flags" if c == "flags" else printed[c]
        for c in FINDINGS_COLUMNS
    )
    _copy(con, f"SELECT {listed} FROM findings", folder / "findings.csv")
    typed = ", ".join(quote_identifier(c) for c in FINDINGS_PARQUET_COLUMNS)
    con.execute(
        f"COPY (SELECT {typed} FROM findings) "
        f"TO {quote_literal(str(folder / 'findings.parquet'))} (FORMAT parquet)"
    )
    _write_splits(con, folder, batch)
    _copy(
        con,
        "SELECT table_name AS \"table\", file_name AS file, source_row, loan_id, "
        "borrower_id, reason, row_key FROM input_issues ORDER BY table_name, source_row",
        folder / "input_issues.csv",
    )


def _write_splits(con: duckdb.DuckDBPyConnection, folder: Path, batch: InputFile) -> None:
    """send / hold / block / rejected.csv: the original rows by verdict, in file order."""
    printed = _csv_values(con, batch.raw_table, batch.columns, prefix="r.")
    original = ", ".join(printed[c] for c in batch.columns)
    for outcome in OUTCOMES:
        _copy(
            con,
            f"SELECT {original} FROM {batch.raw_table} AS r "
            f"JOIN findings AS f ON f.source_row = r.{batch.row_number} "
            f"WHERE f.verdict = {quote_literal(outcome)} ORDER BY f.source_row",
            folder / f"{outcome}.csv",
        )


def _csv_values(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...],
                prefix: str = "") -> dict[str, str]:
    """Each column as the CSV files print it; a TIMESTAMPTZ as ISO 8601 in the session time
    zone (`2026-11-23T01:00:00+08:00`, reconcile.timestamps), cheaply when that is provably
    the same.

    DuckDB prints a TIMESTAMPTZ in the session time zone through ICU, row by row, which is
    a large share of writing a CSV. When every distinct value of the table's TIMESTAMPTZ
    columns prints the same as its UTC instant shifted by one fixed offset (a zone without
    DST over the data, e.g. Asia/Shanghai), that arithmetic is used instead: checked on the
    distinct values only, so the bytes written are the ones ICU would give. Otherwise each
    value is printed through ICU and rewritten as ISO 8601.
    """
    types = {row[0]: row[1] for row in con.execute(f"DESCRIBE {table}").fetchall()}
    stamps = [quote_identifier(c) for c in columns if types[c] == "TIMESTAMP WITH TIME ZONE"]
    plain = {c: f"{iso_sql(prefix + quote_identifier(c))} AS {quote_identifier(c)}"
             if quote_identifier(c) in stamps else prefix + quote_identifier(c)
             for c in columns}
    if not stamps:
        return plain
    try:
        shift = con.execute(
            f"SELECT epoch_us(CAST(t AS TIMESTAMP)) - epoch_us(t), "
            f"regexp_extract(CAST(t AS VARCHAR), '[+-][0-9:]+$') "
            f"FROM (SELECT least({', '.join(f'min({s})' for s in stamps)}) AS t FROM {table}) "
            f"WHERE t IS NOT NULL"
        ).fetchone()
        if shift is None or not shift[1]:
            return plain
        offset_us, suffix = int(shift[0]), iso_offset(str(shift[1]))

        def fast(value: str) -> str:
            return (f"replace(CAST(make_timestamp(epoch_us({value}) + {offset_us}) AS VARCHAR), "
                    f"' ', 'T') || {quote_literal(suffix)}")

        distinct = " || ".join(f"list(DISTINCT {s})" for s in stamps)
        (differing,) = con.execute(
            f"SELECT count(*) FROM (SELECT unnest({distinct}) AS t FROM {table}) "
            f"WHERE {iso_sql('t')} IS DISTINCT FROM {fast('t')}"
        ).fetchone() or (1,)
    except duckdb.Error:  # e.g. an infinite timestamp: print it the ordinary way
        return plain
    if differing:
        return plain
    return {c: f"{fast(prefix + quote_identifier(c))} AS {quote_identifier(c)}"
            if quote_identifier(c) in stamps else plain[c] for c in columns}


def write_summary(folder: Path, result: RunResult) -> None:
    text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False)
    (folder / SUMMARY_FILE).write_text(text + "\n", encoding="utf-8")


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    con.execute(f"COPY ({query}) TO {quote_literal(str(path))} {CSV_OPTIONS}")
