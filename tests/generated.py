"""Helpers for tests on generated drops: edit a CSV copy, show a message with its ledger."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from drops import read_csv_rows


def rewrite_csv(source: Path, target: Path, change: dict[int, dict[str, str]],
                drop_rows: tuple[int, ...] = ()) -> Path:
    """A copy of a CSV with some cells of some data rows (1-based) changed or rows left out."""
    rows = read_csv_rows(source)
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for number, row in enumerate(rows, start=1):
            if number not in drop_rows:
                writer.writerow({**row, **change.get(number, {})})
    return target


def read_tables(drop: Path, names: tuple[str, ...]) -> dict[str, list[dict[str, str | None]]]:
    """The CSV tables of a drop as the oracle reads them: text, an empty cell None."""
    tables = {}
    for name in names:
        with (drop / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
            tables[name] = [{k: (v if v != "" else None) for k, v in row.items()}
                            for row in csv.DictReader(handle)]
    return tables


def write_labels(findings: list[Any], target: Path) -> Path:
    """labels.csv (the generator's columns) from the oracle's findings, in source order."""
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("message_id", "source_row", "verdict", "flags", "overdue_amount",
                         "days_past_due"))
        for row, f in enumerate(findings, start=1):
            writer.writerow((f.message_id, row, f.verdict, ";".join(f.flags),
                             "" if f.overdue_amount is None else f"{f.overdue_amount:.2f}",
                             "" if f.days_past_due is None else f.days_past_due))
    return target


def _table_rows(drop: Path, table: str, column: str, value: str) -> list[dict[str, object]]:
    """Rows of one table of a drop (CSV or Parquet) whose column equals value, as text."""
    import duckdb

    parquet, text = drop / f"{table}.parquet", drop / f"{table}.csv"
    source = (f"read_parquet('{parquet}')" if parquet.exists()
              else f"read_csv('{text}', header = true, all_varchar = true)")
    relation = duckdb.sql(f"SELECT CAST(COLUMNS(*) AS VARCHAR) FROM {source} "
                          f"WHERE CAST({column} AS VARCHAR) = $v", params={"v": value})
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def explain(drop: Path, out: Path, disagreement: Any) -> str:
    """A disagreement as a person debugging it wants it: the message row, its loan's ledger
    rows, the labels' answer and the run's (with the run's reason)."""
    source_row = disagreement.source_row
    batch = read_csv_rows(drop / "send_batch.csv") if (drop / "send_batch.csv").exists() \
        else None
    if batch is not None:
        message: dict[str, object] = dict(batch[source_row - 1])
    else:
        import duckdb

        relation = duckdb.sql(
            f"SELECT CAST(COLUMNS(* EXCLUDE (file_row_number)) AS VARCHAR) FROM read_parquet("
            f"'{drop / 'send_batch.parquet'}', file_row_number = true) "
            f"WHERE file_row_number = {source_row - 1}")
        message = dict(zip(relation.columns, relation.fetchall()[0], strict=True))
    loan_id = str(message.get("loan_id") or "")
    lines = [f"source_row {source_row}: differs in {', '.join(disagreement.differences)}",
             f"  expected (reconcile.synth.reference, labels.csv): {disagreement.expected}",
             f"  found    (reconcile run, findings.csv):     {disagreement.found}",
             f"  send_batch: {message}"]
    findings = read_csv_rows(out / "findings.csv")
    reason = next((row["reason"] for row in findings if row["source_row"] == str(source_row)),
                  "")
    lines.append(f"  run's reason: {reason}")
    for table in ("loans", "installments", "payments"):
        for row in _table_rows(drop, table, "loan_id", loan_id):
            lines.append(f"  {table}: {row}")
    return "\n".join(lines)
