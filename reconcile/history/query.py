"""Ad-hoc, read-only SQL over the run history, and the text/CSV/JSON forms of its answer.

`run_query` opens the history file that `reconcile run --db` writes and runs one statement
that only reads: the documented views (reconcile.history.views) and the tables `runs`, `findings`,
`schema_migrations` are there to be queried. Nothing here prints: the CLI does.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from reconcile.config import DEFAULT_TIMEZONE
from reconcile.errors import EXIT_BAD_INPUT, ReconcileError, one_line
from reconcile.history.store import HistoryPaths
from reconcile.history.views import load_views
from reconcile.safe_text import display_width, printable
from reconcile.sqlfiles import quote_literal

FORMATS: tuple[str, ...] = ("table", "csv", "json")

# Statements that only read. Everything else is refused before it runs.
#
# Why a list of its own when the file is opened read_only: DuckDB's read-only mode guards
# the history file and nothing else. ATTACH opens (or creates) another database that is
# writable, COPY ... TO and EXPORT DATABASE write files, INSTALL/LOAD fetch and run
# extension code, and SET/PRAGMA change the session (profiling_output writes a file,
# enable_external_access or the extension settings would undo the guards below). So three
# guards stand together: this allow-list (a clear error naming the statement), read_only
# (no write to the history), and a session without external access (no file or network
# reached from inside a SELECT, e.g. read_csv or COPY smuggled through a view), whose
# configuration is then locked.
_READ_ONLY_STATEMENTS = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})
_ALLOWED_WORDS = "SELECT, WITH, FROM, VALUES, SHOW, DESCRIBE, SUMMARIZE, PIVOT ... IN, EXPLAIN"
_LEADING_WORD = re.compile(r"\s*(?:(?:--[^\n]*(?:\n|$)|/\*.*?\*/)\s*)*([A-Za-z_]+)", re.DOTALL)
_SESSION: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
_TIMESTAMPTZ = duckdb.sqltype("TIMESTAMPTZ")
# Used when the history names no usable timezone (DuckDB's own default would be the
# machine's, which makes "which day" depend on where the query runs): the settings'
# default, as the history's own nights are; UTC only if the zone database lacks it.
_FALLBACK_TIMEZONES = (DEFAULT_TIMEZONE, "UTC")

Row = tuple[Any, ...]


class QueryError(ReconcileError):
    """The query cannot run: a write, bad SQL, or no usable history database."""

    exit_code = EXIT_BAD_INPUT


def run_query(history_db: str | Path, sql: str) -> tuple[list[str], list[Row]]:
    """Run one read-only statement on the history file history_db: (column names, rows).

    Values come back as DuckDB gives them to Python (Decimal, date, lists, ...);
    TIMESTAMPTZ values as aware datetimes in the history's timezone (the latest run's
    `timezone` setting), which is also the session TimeZone, so `as_of::DATE` is the
    lender's local day. A write, a statement that could reach outside the file, bad SQL or
    a missing file raises QueryError; the file is never created or changed.
    """
    path = Path(history_db)
    if not path.is_file():
        raise QueryError(f"history {path}: no such file "
                         "(a run given it as its history creates it)")
    try:
        con = duckdb.connect(str(path), read_only=True, config=_SESSION)
    except duckdb.Error as error:
        raise QueryError(f"history {path}: cannot be opened ({one_line(error)})") from error
    try:
        # The one place a query may read files: the history's own Parquet folder, which
        # its views read (reconcile.history.store).
        con.execute("SET allowed_directories = ?", [[str(HistoryPaths.of(path).data) + "/"]])
        con.execute("SET enable_external_access = false")
        zone = _use_history_timezone(con)
        con.execute("SET lock_configuration = true")
        statement = _read_only_statement(con, sql)
        try:
            relation = con.sql(statement)
            columns, types = list(relation.columns), list(relation.types)
            # TIMESTAMPTZ is fetched as UTC wall time and given its zone here: DuckDB's
            # own conversion needs pytz, which reconcile does not depend on.
            expressions = [
                f"timezone('UTC', #{i})" if t == _TIMESTAMPTZ
                else f"CAST(#{i} AS VARCHAR)" if "WITH TIME ZONE" in str(t)
                else f"#{i}"
                for i, t in enumerate(types, start=1)
            ]
            rows = relation.project(", ".join(expressions)).fetchall()
        except duckdb.PermissionException as error:
            raise QueryError(
                f"{one_line(error)} (reconcile query reads the history database only)"
            ) from error
        except duckdb.Error as error:
            raise QueryError(one_line(error)) from error
    finally:
        con.close()
    zoned = [i for i, t in enumerate(types) if t == _TIMESTAMPTZ]
    if zoned:
        rows = [_with_zone(row, zoned, zone) for row in rows]
    return columns, rows


def _use_history_timezone(con: duckdb.DuckDBPyConnection) -> ZoneInfo:
    """Set the session TimeZone to the latest run's timezone setting (else the default's)."""
    try:
        row = con.execute(
            "SELECT settings ->> 'timezone' FROM runs ORDER BY as_of DESC, finished_at DESC "
            "LIMIT 1"
        ).fetchone()
    except duckdb.Error:
        row = None  # not a history database (yet): the query will say what is missing
    recorded = (row[0],) if row and row[0] else ()
    for name in (*recorded, *_FALLBACK_TIMEZONES):
        try:
            zone = ZoneInfo(name)
            con.execute(f"SET TimeZone = {quote_literal(name)}")
        except (ZoneInfoNotFoundError, ValueError, duckdb.Error):
            continue
        return zone
    raise QueryError("no time zone database: neither the history's timezone, "
                     f"{DEFAULT_TIMEZONE} nor UTC is known")


def _read_only_statement(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """The one statement in sql, if it only reads; otherwise a one-line QueryError."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryError(one_line(error)) from error
    if not statements:
        raise QueryError("no SQL statement given")
    if len(statements) > 1:
        raise QueryError(f"one statement at a time: got {len(statements)}")
    statement = statements[0]
    try:
        kind = statement.type
    except ValueError:
        # A statement type the Python API cannot name (e.g. UPDATE EXTENSIONS): certainly
        # not a plain read.
        kind = duckdb.StatementType.INVALID
    if kind not in _READ_ONLY_STATEMENTS:
        raise QueryError(_refusal(statement.query))
    return statement.query.strip().rstrip(";")


def _refusal(sql: str) -> str:
    word = _LEADING_WORD.match(sql)
    what = word.group(1).upper() if word else "this statement"
    if what == "PIVOT":
        # Without an IN list DuckDB first creates an ENUM type of the values found.
        return ("PIVOT is refused without an explicit IN list (PIVOT t ON c IN ('a', 'b') "
                "USING ...): reconcile query only reads the history")
    if what == "COPY" and re.search(r"\bTO\b", sql, re.IGNORECASE):
        what = "COPY ... TO"
    return (f"{what} is refused: reconcile query only reads the history "
            f"(allowed: {_ALLOWED_WORDS})")


def _with_zone(row: Row, indexes: list[int], zone: ZoneInfo) -> Row:
    values = list(row)
    for i in indexes:
        value = values[i]
        if isinstance(value, dt.datetime):
            values[i] = _aware(value, zone)
    return tuple(values)


def _aware(utc_wall_time: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    try:
        return utc_wall_time.replace(tzinfo=dt.UTC).astimezone(zone)
    except OverflowError:  # ±infinity comes back as datetime.max / min
        return utc_wall_time.replace(tzinfo=dt.UTC)


# --- the three output forms -------------------------------------------------------------


def render(columns: Sequence[str], rows: Sequence[Row], output_format: str) -> str:
    """The answer as text in one of FORMATS (no trailing newline)."""
    if output_format == "table":
        return render_table(columns, rows)
    if output_format == "csv":
        return render_csv(columns, rows)
    if output_format == "json":
        return render_json(columns, rows)
    raise ValueError(f"unknown format {output_format!r}; expected one of {', '.join(FORMATS)}")


def render_table(columns: Sequence[str], rows: Sequence[Row]) -> str:
    """Aligned columns for a terminal: numbers right-aligned, NULL spelled out, a row count.

    Widths count East Asian wide characters (borrower names) as two columns.
    """
    if list(columns) == ["explain_key", "explain_value"]:
        return "\n".join(str(row[1]).rstrip("\n") for row in rows)  # EXPLAIN's plan, as drawn
    cells = [[_table_cell(v) for v in row] for row in rows]
    header = [_escape(c) for c in columns]
    widths = [display_width(h) for h in header]
    for row_cells in cells:
        widths = [max(w, display_width(c)) for w, c in zip(widths, row_cells, strict=True)]
    numeric = [
        bool(rows) and all(_is_number(row[i]) or row[i] is None for row in rows)
        and any(row[i] is not None for row in rows)
        for i in range(len(columns))
    ]

    def line(values: list[str]) -> str:
        padded = [_pad(v, w, right) for v, w, right in zip(values, widths, numeric, strict=True)]
        return "  ".join(padded).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line(row_cells) for row_cells in cells]
    out.append(f"({len(rows)} row{'' if len(rows) == 1 else 's'})")
    return "\n".join(out)


def render_csv(columns: Sequence[str], rows: Sequence[Row]) -> str:
    """CSV with a header; NULL is empty, a list is joined by ';' as in findings.csv."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_csv_cell(v) for v in row] for row in rows)
    return buffer.getvalue().rstrip("\n")


def render_json(columns: Sequence[str], rows: Sequence[Row]) -> str:
    """A JSON list of objects; decimals as strings (exact), timestamps and dates ISO 8601."""
    keys = _unique(columns)
    records = [dict(zip(keys, (_json_value(v) for v in row), strict=True)) for row in rows]
    # json escapes C0 controls; C1 and bidi controls become \u escapes too (same values).
    return printable(json.dumps(records, ensure_ascii=False, indent=2), keep="\n")


def views_listing(output_format: str) -> str:
    """Every documented view with the question it answers, in creation order."""
    views = list(load_views().values())
    if output_format != "table":
        return render(["view", "description"], [(v.name, v.description) for v in views],
                      output_format)
    blocks = []
    for view in views:
        wrapped = _wrap(view.description, 84)
        blocks.append("\n".join([view.name, *(f"    {line}" for line in wrapped)]))
    return "\n".join(blocks)


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and display_width(current) + 1 + display_width(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return [*lines, current] if current else lines


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _table_cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_table_cell(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_table_cell(k)}: {_table_cell(v)}"
                               for k, v in value.items()) + "}"
    return _escape(_scalar_text(value))


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ";".join(_csv_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(_json_value(value), ensure_ascii=False)
    return _scalar_text(value)


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, Decimal | dt.datetime | dt.date | dt.time | bytes | UUID):
        return _scalar_text(value)
    return str(value)  # intervals and anything rarer, as DuckDB's Python value prints


def _unique(columns: Sequence[str]) -> list[str]:
    """Column names as JSON keys: a repeated name gets _2, _3, ... so no value is lost."""
    seen: dict[str, int] = {}
    keys = []
    for name in columns:
        seen[name] = seen.get(name, 0) + 1
        keys.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return keys


def _escape(text: str) -> str:
    """A value on one line and with no control code: \\r, \\n, \\t, ESC as \\u001b."""
    return printable(text)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - display_width(text))
    return fill + text if right else text + fill
