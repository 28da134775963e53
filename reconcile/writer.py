"""Write a run's files all-or-nothing: into a hidden folder beside OUT_DIR, renamed into place.

A crash at any point leaves OUT_DIR as it was: either the previous run's complete output or
nothing. Only this module writes output files.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from reconcile.errors import ConfigError
from reconcile.inputs import InputFile, quote_identifier, quote_literal
from reconcile.schema import FINDINGS_COLUMNS, OUTCOMES

if TYPE_CHECKING:
    from reconcile.engine import RunResult

SUMMARY_FILE = "summary.json"
CSV_OPTIONS = "(FORMAT csv, HEADER true, DELIMITER ',')"


def prepare_out_dir(out_dir: Path) -> None:
    """Heal what a killed run left beside out_dir, then check out_dir may be replaced."""
    _recover(out_dir)
    check_out_dir(out_dir)


def _recover(out_dir: Path) -> None:
    """A run killed between its two renames parked the previous output in `.previous`: put
    it back. Its half-written `.partial` and spill folders are removed."""
    parent = out_dir.resolve().parent
    if not parent.is_dir():
        return
    for leftover in sorted(parent.glob(f".{out_dir.name}.*")):
        if leftover.name.endswith(".previous") and not out_dir.exists():
            leftover.rename(out_dir)
        elif leftover.name.endswith((".previous", ".partial", ".spill")):
            shutil.rmtree(leftover, ignore_errors=True)


def check_out_dir(out_dir: Path) -> None:
    """Refuse to replace anything but an empty folder or an earlier run's output."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / SUMMARY_FILE).is_file():
        raise ConfigError(
            f"--out {out_dir}: folder is not empty and holds no earlier reconcile output"
        )


@contextmanager
def staged_output(out_dir: Path, run_id: str) -> Iterator[Path]:
    """A fresh folder beside out_dir; on success it replaces out_dir, on error it vanishes."""
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.parent / f".{out_dir.name}.{run_id}.partial"
    staging.mkdir()
    try:
        yield staging
        _publish(staging, out_dir, run_id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(staging: Path, out_dir: Path, run_id: str) -> None:
    previous = out_dir.parent / f".{out_dir.name}.{run_id}.previous"
    if out_dir.exists():
        out_dir.rename(previous)
    try:
        staging.rename(out_dir)
    except OSError:
        if previous.exists():
            previous.rename(out_dir)
        raise
    shutil.rmtree(previous, ignore_errors=True)


def write_tables(con: duckdb.DuckDBPyConnection, folder: Path, batch: InputFile) -> None:
    """findings (CSV + Parquet), the four split CSVs of original rows, and input_issues.csv.

    `findings` is stored in source_row order (sql/findings.sql ends in ORDER BY), and a
    COPY of a single-table SELECT keeps the stored order (DuckDB's documented order
    preservation), so they are not sorted again.
    """
    printed = _csv_values(con, "findings", FINDINGS_COLUMNS)
    listed = ", ".join(
        "array_to_string(flags, ';') AS flags" if c == "flags" else printed[c]
        for c in FINDINGS_COLUMNS
    )
    _copy(con, f"SELECT {listed} FROM findings", folder / "findings.csv")
    typed = ", ".join(quote_identifier(c) for c in FINDINGS_COLUMNS)
    con.execute(
        f"COPY (SELECT {typed} FROM findings) "
        f"TO {quote_literal(str(folder / 'findings.parquet'))} (FORMAT parquet)"
    )
    _write_splits(con, folder, batch)
    _copy(
        con,
        "SELECT table_name AS \"table\", file_name AS file, source_row, loan_id, "
        "borrower_id, reason FROM input_issues ORDER BY table_name, source_row",
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
    """Each column as the CSV writer would print it, cheaply when that is provably the same.

    DuckDB prints a TIMESTAMPTZ in the session time zone through ICU, row by row, which is
    a large share of writing a CSV. When every distinct value of the table's TIMESTAMPTZ
    columns prints the same as its UTC instant shifted by one fixed offset (a zone without
    DST over the data, e.g. Asia/Shanghai), that arithmetic is used instead: checked on the
    distinct values only, so the bytes written are the ones ICU would write. Otherwise the
    columns are left as they are.
    """
    types = {row[0]: row[1] for row in con.execute(f"DESCRIBE {table}").fetchall()}
    plain = {c: prefix + quote_identifier(c) for c in columns}
    stamps = [quote_identifier(c) for c in columns if types[c] == "TIMESTAMP WITH TIME ZONE"]
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
        offset_us, suffix = int(shift[0]), str(shift[1])

        def fast(value: str) -> str:
            return (f"CAST(make_timestamp(epoch_us({value}) + {offset_us}) AS VARCHAR) "
                    f"|| {quote_literal(suffix)}")

        distinct = " || ".join(f"list(DISTINCT {s})" for s in stamps)
        (differing,) = con.execute(
            f"SELECT count(*) FROM (SELECT unnest({distinct}) AS t FROM {table}) "
            f"WHERE CAST(t AS VARCHAR) IS DISTINCT FROM {fast('t')}"
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
