"""Find a drop's files, check their headers, and load each one untouched into DuckDB.

CSV is loaded as text (every column VARCHAR) and Parquet with its own types; turning text
into typed values happens afterwards in `staging`, because DuckDB pushes a TRY_CAST over
read_csv into the reader, where a bad value raises instead of giving NULL.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import duckdb

from reconcile.errors import InputError, one_line
from reconcile.faults import from_duckdb
from reconcile.schema import TABLES, Table
from reconcile.sqlfiles import quote_identifier, quote_literal

# The 0-based row position DuckDB adds to a Parquet read (read_parquet file_row_number).
PARQUET_ROW = "file_row_number"

# The format of a table read from a database (reconcile.nightly.databases): its kind.
DATABASE_FORMATS = ("postgresql", "mysql")
FORMATS: tuple[tuple[str, str], ...] = (
    (".parquet", "parquet"),
    (".csv.gz", "csv"),
    (".csv", "csv"),
)


@dataclass(frozen=True)
class InputFile:
    """One table's file in the drop, as loaded into DuckDB table `raw_<table>`."""

    table: str
    path: Path | None  # None: an optional table the drop does not have
    file_format: str
    columns: tuple[str, ...]
    rows: int = 0
    sha256: str = ""
    # SQL giving a row's 1-based position in its file, over raw_<table>.
    row_number: str = "rowid + 1"
    # file_identity(path) before it was read: the run reads Parquet again later.
    identity: tuple[int, int, int] | None = None
    # Read from a database (reconcile.nightly.databases): what it was read as (a table,
    # view or "<table> query"), and the columns that cite one of its rows, which has no
    # file row (Table.row_key).
    label: str = ""
    key_columns: tuple[str, ...] = ()
    # The database snapshot's instant, for a table read from one.
    snapshot_at: str | None = None

    @property
    def present(self) -> bool:
        """Whether the night has this table: an optional one may be absent."""
        return self.file_format != "absent"

    @property
    def file_name(self) -> str:
        if self.label:
            return self.label
        return self.path.name if self.path else f"{self.table} (absent)"

    def row_key_sql(self) -> str:
        """SQL over the staged table giving the text that cites a row read from a
        database by its key ("loan_id=L1, installment_no=3"); NULL for a file's row, which
        its file and row number cite (macro row_reference)."""
        if not self.key_columns:
            return "CAST(NULL AS VARCHAR)"
        parts = ", ".join(
            f"{quote_literal(column + '=')} || coalesce(CAST({quote_identifier(column)} "
            f"AS VARCHAR), 'NULL')" for column in self.key_columns)
        return f"concat_ws(', ', {parts})"

    @property
    def raw_table(self) -> str:
        return f"raw_{self.table}"

    def to_dict(self) -> dict[str, object]:
        described: dict[str, object] = {
            "file": self.file_name,
            "format": self.file_format if self.present else None,
            "rows": self.rows,
            "sha256": self.sha256 or None,
        }
        if self.snapshot_at:
            described["snapshot_at"] = self.snapshot_at
        return described


def locate(data_dir: Path, elsewhere: Collection[str] = ()) -> dict[str, Path | None]:
    """Each table's file in data_dir; a missing required table or two files for one is exit 2.
    Tables named in `elsewhere` come from another source and are not looked for (None)."""
    if not data_dir.is_dir():
        raise InputError(f"{data_dir}: no such folder")
    found: dict[str, Path | None] = dict.fromkeys(elsewhere)
    for table in TABLES:
        if table.name in found:
            continue
        name = choose_file(table, str(data_dir), lambda n: (data_dir / n).is_file())
        found[table.name] = data_dir / name if name else None
    return found


def choose_file(table: Table, where: str, exists: Callable[[str], bool]) -> str | None:
    """The name of the table's one file in `where` (a folder or a URI), of the names FORMATS
    allows, given which names exist there; None for an optional table without one. Two
    files for one table, or none for a required one, is exit 2."""
    candidates = [f"{table.name}{suffix}" for suffix, _ in FORMATS]
    present = [name for name in candidates if exists(name)]
    if len(present) > 1:
        raise InputError(f"{where}: table {table.name} is given twice ({' and '.join(present)})")
    if not present and table.required:
        raise InputError(f"{where}: missing required table {table.name} "
                         f"(one of {', '.join(candidates)})")
    return present[0] if present else None


def load(con: duckdb.DuckDBPyConnection, table: Table, path: Path | None) -> InputFile:
    """Load one table's file into `raw_<table>` and describe it; headers are checked first."""
    if path is None:
        columns = tuple(c.name for c in table.columns)
        definition = ", ".join(f"{quote_identifier(c)} VARCHAR" for c in columns)
        con.execute(f"CREATE OR REPLACE TABLE raw_{table.name} ({definition})")
        return InputFile(table.name, None, "absent", columns)
    identity = file_identity(path)
    file_format = next(fmt for suffix, fmt in FORMATS if path.name.endswith(suffix))
    if file_format == "csv":
        columns = _csv_header(path)
        check_columns(table, path.name, columns)
        _load_csv(con, table, path, columns)
        row_number = "rowid + 1"
    else:
        columns = _load_parquet(con, table, path)
        check_columns(table, path.name, columns)
        row_number = f"{PARQUET_ROW} + 1"
    (rows,) = con.execute(f"SELECT count(*) FROM raw_{table.name}").fetchone() or (0,)
    return InputFile(table.name, path, file_format, columns, rows, _sha256(path), row_number,
                     identity)


def file_identity(path: Path) -> tuple[int, int, int]:
    """(inode, size, mtime in ns): changes when a file is rewritten or replaced."""
    status = path.stat()
    return (status.st_ino, status.st_size, status.st_mtime_ns)


def check_unchanged(sources: list[InputFile]) -> None:
    """Refuse a run whose input files changed while it ran (a drop still being delivered).

    Parquet inputs are views, read again by later steps and by the writer, so a file
    replaced mid-run would mix two versions in one output, under the first one's sha256.
    """
    for source in sources:
        if source.path is None or source.identity is None:  # absent, or not a local file
            continue
        try:
            unchanged = file_identity(source.path) == source.identity
        except OSError:
            unchanged = False
        if not unchanged:
            raise changed_while_read(source)


def changed_while_read(source: InputFile) -> InputError:
    """The error for an input file that changed while the run read it."""
    return InputError(f"{source.file_name}: changed while it was being reconciled; nothing "
                      f"was written (re-run once the drop is complete)")


def require_messages(batch: InputFile) -> None:
    """A send_batch without a row is a failed export, never a quiet night (exit 2)."""
    if batch.rows == 0:
        raise InputError(f"{batch.file_name}: no messages (the file has a header and no rows)")


def _csv_header(path: Path) -> tuple[str, ...]:
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            first_line = handle.readline()
    except (OSError, EOFError) as error:
        raise InputError(f"{path.name}: cannot be read ({error})") from error
    try:
        text = first_line.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{path.name} line 1: not UTF-8 text ({error.reason})") from error
    header = next(csv.reader(io.StringIO(text)), [])
    if not header or not any(name.strip() for name in header):
        raise InputError(f"{path.name}: empty file, no header row")
    return tuple(name.strip() for name in header)


def check_columns(table: Table, where: str, columns: tuple[str, ...]) -> None:
    """Exit 2 unless `where` (a file, or a database table) has each required column once."""
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise InputError(f"{where}: column {repeated[0]} appears more than once in the header")
    for required in table.required_columns:
        if required in columns:
            continue
        hint = next((c for c in columns if c.lower() == required), None)
        extra = f" (found {hint!r}: column names are lower-case)" if hint else ""
        raise InputError(f"{where}: missing required column {required}{extra}")


def _load_csv(
    con: duckdb.DuckDBPyConnection, table: Table, path: Path, columns: tuple[str, ...]
) -> None:
    column_types = ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in columns)
    try:
        con.execute(
            f"CREATE OR REPLACE TABLE raw_{table.name} AS SELECT * FROM read_csv("
            f"{quote_literal(str(path))}, header = true, auto_detect = false, delim = ',',"
            f" quote = '\"', escape = '\"', columns = {{{column_types}}})"
        )
    except duckdb.Error as error:  # out of memory or no spill folder is exit 1, not the file
        raise from_duckdb(error, f"loading {path.name}", con=con, inputs=[path],
                          bad_input=f"{path.name}: {_csv_error_summary(str(error))}") from error


def _csv_error_summary(message: str) -> str:
    """DuckDB's multi-line CSV error as one line: where it is and what is wrong."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    where = re.search(r"CSV Error on Line: (\d+)", message)
    skip = ("Invalid Input Error", "Original Line", "Possible", "*", "file =")
    detail = next((line for line in lines if not line.startswith(skip)), lines[0] if lines else "")
    detail = detail.replace("Expected Number of Columns", "expected columns")
    prefix = f"line {where.group(1)}: " if where else ""
    return f"{prefix}not a readable CSV row ({detail.rstrip('.')})"


def _load_parquet(con: duckdb.DuckDBPyConnection, table: Table, path: Path) -> tuple[str, ...]:
    """A view, not a copy: Parquet is already typed, and each query reads only its columns."""
    try:
        con.execute(
            f"CREATE OR REPLACE VIEW raw_{table.name} AS SELECT * FROM read_parquet("
            f"{quote_literal(str(path))}, file_row_number = true)"
        )
        described = con.execute(f"DESCRIBE raw_{table.name}").fetchall()
    except duckdb.Error as error:
        raise from_duckdb(error, f"loading {path.name}", con=con, inputs=[path],
                          bad_input=f"{path.name}: not a readable Parquet file "
                                    f"({one_line(error)})"
                          ) from error
    return tuple(row[0] for row in described if row[0] != PARQUET_ROW)


def drop_relation(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the table or view `name`, to free what it holds once nothing reads it."""
    (kind,) = con.execute(
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM duckdb_views() WHERE view_name = ? "
        "AND NOT internal) THEN 'VIEW' ELSE 'TABLE' END", [name]
    ).fetchone() or ("TABLE",)
    con.execute(f"DROP {kind} IF EXISTS {quote_identifier(name)}")


def raw_column_types(con: duckdb.DuckDBPyConnection, raw_table: str) -> dict[str, str]:
    return {row[0]: row[1] for row in con.execute(f"DESCRIBE {raw_table}").fetchall()}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
