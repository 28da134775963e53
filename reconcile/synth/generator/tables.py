"""Writing a drop's tables chunk by chunk: CSV files appended to, or Parquet files built
through a scratch DuckDB database (typed where this drop carries no malformed value)."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import duckdb

from reconcile.schema import TABLES_BY_NAME
from reconcile.sqlfiles import quote_identifier, quote_literal
from reconcile.synth.generator.layout import LABEL_COLUMNS, LABELS_FILE, TABLE_NAMES, TIMEZONE
from reconcile.synth.generator.rates import Rates


def table_columns(table: str) -> tuple[str, ...]:
    return tuple(c.name for c in TABLES_BY_NAME[table].columns)


class CsvTables:
    """One open CSV writer per table (`labels` for labels.csv), appended to chunk by chunk."""

    def __init__(self, folder: Path, names: Iterable[str]) -> None:
        self.handles: dict[str, TextIO] = {}
        self.writers: dict[str, Any] = {}
        self.columns: dict[str, tuple[str, ...]] = {}
        self.rows = Counter[str]()
        for name in names:
            path = folder / (LABELS_FILE if name == "labels" else f"{name}.csv")
            handle = path.open("w", newline="", encoding="utf-8")
            self.handles[name] = handle
            self.writers[name] = csv.writer(handle, lineterminator="\n")
            self.columns[name] = LABEL_COLUMNS if name == "labels" else table_columns(name)
            self.writers[name].writerow(self.columns[name])

    def write(self, table: str, rows: Sequence[Mapping[str, object]]) -> None:
        columns = LABEL_COLUMNS if table == "labels" else table_columns(table)
        self.write_rows(table, [[row.get(c) for c in columns] for row in rows])

    def write_rows(self, table: str, rows: Sequence[Sequence[object]]) -> None:
        """Rows as sequences in the table's column order; None is written as an empty cell."""
        self.writers[table].writerows(rows)
        self.rows[table] += len(rows)

    def end_chunk(self) -> None:
        """Every row of the chunk has been written (CSV files need nothing more)."""

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()

    def finish(self) -> None:
        """The tables are complete and closed (CSV files are the drop already)."""

    def release(self) -> None:
        """Free what is held, after finish() or a failure (nothing for CSV files)."""


class ParquetTables(CsvTables):
    """Parquet tables: each chunk is written as CSV into a scratch folder and appended, typed,
    to a table of a scratch DuckDB database (insertion order kept); at the end each table is
    copied to NAME.parquet. Scratch disk is the database (compressed), not a CSV drop."""

    def __init__(self, folder: Path, labels: bool, types: dict[str, dict[str, str]]) -> None:
        super().__init__(folder, ["labels"] if labels else [])
        self.folder = folder
        self.types = types
        self.scratch = folder / ".chunk"
        self.scratch.mkdir()
        self.con = duckdb.connect(str(folder / ".tables.duckdb"))
        self.con.execute("SET enable_progress_bar = false")
        self.con.execute(f"SET TimeZone = {quote_literal(TIMEZONE)}")
        self.con.execute("SET memory_limit = '1GB'")
        self.con.execute(f"SET temp_directory = {quote_literal(str(folder / '.spill'))}")
        for table, columns in types.items():
            definition = ", ".join(f"{quote_identifier(c)} {t}" for c, t in columns.items())
            self.con.execute(f"CREATE TABLE {table} ({definition})")
        self.chunk = CsvTables(self.scratch, TABLE_NAMES)

    def write_rows(self, table: str, rows: Sequence[Sequence[object]]) -> None:
        if table == "labels":
            super().write_rows(table, rows)
        else:
            self.chunk.write_rows(table, rows)
            self.rows[table] += len(rows)

    def end_chunk(self) -> None:
        self.chunk.close()
        for table, columns in self.types.items():
            source = self.scratch / f"{table}.csv"
            spec = ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in columns)
            select = ", ".join(f"CAST({quote_identifier(c)} AS {t})" for c, t in columns.items())
            self.con.execute(
                f"INSERT INTO {table} SELECT {select} FROM read_csv("
                f"{quote_literal(str(source))}, header = true, auto_detect = false, "
                f"delim = ',', quote = '\"', escape = '\"', columns = {{{spec}}})")
        self.chunk = CsvTables(self.scratch, TABLE_NAMES)

    def close(self) -> None:
        super().close()
        self.chunk.close()

    def finish(self) -> None:
        for table in self.types:
            target = quote_literal(str(self.folder / f"{table}.parquet"))
            self.con.execute(f"COPY {table} TO {target} (FORMAT parquet, COMPRESSION zstd)")

    def release(self) -> None:
        self.con.close()
        for scratch in (self.scratch, self.folder / ".spill"):
            shutil.rmtree(scratch, ignore_errors=True)
        (self.folder / ".tables.duckdb").unlink(missing_ok=True)


def parquet_types(style: str, rates: Rates) -> dict[str, dict[str, str]]:
    """DuckDB types of the Parquet columns: typed where every value is well-formed, text
    where this drop may carry a malformed value (or, with mixed timestamps, any shape)."""
    stamp = {"offset": "TIMESTAMPTZ", "utc": "TIMESTAMPTZ", "naive": "TIMESTAMP"}.get(style,
                                                                                    "VARCHAR")
    kinds = {"amount": "DECIMAL(18, 2)", "integer": "INTEGER", "date": "DATE",
             "timestamp": stamp, "text": "VARCHAR", "timezone": "VARCHAR"}
    malformed_text = set()
    if rates.rejected > 0:
        malformed_text |= {("send_batch", "scheduled_at"),
                           ("send_batch", "claimed_overdue_amount")}
    if rates.ledger_invalid > 0:
        malformed_text |= {("installments", "due_date"), ("payments", "paid_at"),
                           ("loans", "grace_days"), ("payments", "installment_no"),
                           ("collection_pauses", "paused_from")}
    if rates.contact_invalid > 0:
        malformed_text |= {("send_history", "sent_at"), ("contact_flags", "since"),
                           ("contact_flags", "until")}
    if rates.duplicate > 0:  # an unreadable copy of a message
        malformed_text.add(("send_batch", "scheduled_at"))
    return {
        name: {c.name: "VARCHAR" if (name, c.name) in malformed_text else kinds[c.kind]
               for c in TABLES_BY_NAME[name].columns}
        for name in TABLE_NAMES
    }
