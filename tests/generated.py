"""Helpers for tests on generated drops: edit a CSV copy, show a message with its ledger."""

from __future__ import annotations

import csv
from pathlib import Path

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
