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
    """findings (CSV + Parquet), the four split CSVs of original rows, and input_issues.csv."""
    listed = ", ".join(
        "array_to_string(flags, ';') AS flags" if c == "flags" else quote_identifier(c)
        for c in FINDINGS_COLUMNS
    )
    _copy(con, f"SELECT {listed} FROM findings ORDER BY source_row", folder / "findings.csv")
    typed = ", ".join(quote_identifier(c) for c in FINDINGS_COLUMNS)
    con.execute(
        f"COPY (SELECT {typed} FROM findings ORDER BY source_row) "
        f"TO {quote_literal(str(folder / 'findings.parquet'))} (FORMAT parquet)"
    )
    original = ", ".join(f"r.{quote_identifier(c)}" for c in batch.columns)
    for outcome in OUTCOMES:
        _copy(
            con,
            f"SELECT {original} FROM {batch.raw_table} AS r "
            f"JOIN findings AS f ON f.source_row = r.{batch.row_number} "
            f"WHERE f.verdict = {quote_literal(outcome)} ORDER BY f.source_row",
            folder / f"{outcome}.csv",
        )
    _copy(
        con,
        "SELECT table_name AS \"table\", file_name AS file, source_row, loan_id, "
        "problem AS reason FROM input_issues ORDER BY table_name, source_row",
        folder / "input_issues.csv",
    )


def write_summary(folder: Path, result: RunResult) -> None:
    text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False)
    (folder / SUMMARY_FILE).write_text(text + "\n", encoding="utf-8")


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    con.execute(f"COPY ({query}) TO {quote_literal(str(path))} {CSV_OPTIONS}")
