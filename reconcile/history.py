"""The run history: a DuckDB file that keeps every night's run and findings for ad-hoc SQL.

Its schema is versioned: numbered migrations in sql/history/ are applied in order and
recorded in `schema_migrations`. A run is recorded in one transaction, so the file holds it
whole or not at all; one run at a time per file is enforced by a lock file that names its
holder; a drop reconciled again the same way (same fingerprint) is not recorded twice.
"""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from reconcile import locks, views
from reconcile.errors import ReconcileError
from reconcile.inputs import quote_literal
from reconcile.sqlfiles import sql_root

if TYPE_CHECKING:
    from reconcile.engine import RunResult

# The name the history file is attached under in a run's in-memory DuckDB session.
CATALOG = "history"
_MIGRATION_NAME = re.compile(r"^(\d+)_(\w+)\.sql$")
EXIT_LOCKED = locks.EXIT_LOCKED


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """sql/history/NNN_name.sql in version order; a repeated version is refused."""
    found: dict[int, Migration] = {}
    for file in sql_root().joinpath("history").iterdir():
        match = _MIGRATION_NAME.match(file.name)
        if not match:
            continue
        version = int(match.group(1))
        if version in found:
            raise ValueError(f"two history migrations numbered {version}")
        found[version] = Migration(version, match.group(2), file.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def fingerprint(result: RunResult) -> str:
    """What makes two runs the same: the input files' contents, the as-of and the settings."""
    identity = {
        "inputs": {name: f.sha256 for name, f in sorted(result.inputs.items())},
        "as_of": result.as_of,
        "settings": result.settings.to_dict(),
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def locked(db_path: Path, run_id: str, wait_seconds: float = 0) -> AbstractContextManager[None]:
    """Hold `<db>.lock` for the whole run; a second run is refused (exit 75) with the
    holder's name, after waiting up to wait_seconds for it to finish."""
    lock_path = db_path.with_name(db_path.name + ".lock")
    return locks.exclusive(lock_path, run_id, f"history {db_path}", wait_seconds)


def attach(con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    """Attach the history file (created if new) and bring its schema up to date."""
    _attach_as(con, db_path, CATALOG)
    con.execute(f"USE {CATALOG}")
    try:
        # One transaction for the whole upgrade: a kill leaves the old schema or the new.
        con.execute("BEGIN TRANSACTION")
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
            "name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
        )
        applied = {v for (v,) in con.execute("SELECT version FROM schema_migrations").fetchall()}
        for migration in migrations():
            if migration.version not in applied:
                con.execute(migration.sql)
                con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())",
                            [migration.version, migration.name])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("USE memory")


def _attach_as(con: duckdb.DuckDBPyConnection, db_path: Path, alias: str,
               options: str = "") -> None:
    try:
        con.execute(f"ATTACH {quote_literal(str(db_path))} AS {alias}{options}")
    except duckdb.Error as error:
        first_line = str(error).splitlines()[0]
        raise ReconcileError(f"history {db_path}: cannot be opened ({first_line})") from error


@dataclass(frozen=True)
class PreviousNight:
    """The last run recorded before this one's as-of, and its input tables' row counts."""

    run_id: str
    as_of: str
    rows: dict[str, int]


def previous_night(con: duckdb.DuckDBPyConnection, db_path: Path,
                   as_of: str) -> PreviousNight | None:
    """The run recorded with the latest as-of before `as_of` (INCOMPLETE_FEED compares
    tonight's tables with its), or None for a new history. The file is attached read-only
    for this one query, so an analyst's open reader does not stand in its way."""
    if not db_path.is_file():
        return None
    alias = f"{CATALOG}_before"
    _attach_as(con, db_path, alias, " (READ_ONLY)")
    try:
        (has_runs,) = con.execute(
            "SELECT count(*) > 0 FROM duckdb_tables() WHERE database_name = ? "
            "AND table_name = 'runs'", [alias]).fetchone() or (False,)
        row = con.execute(
            f"SELECT run_id, CAST(as_of AS VARCHAR), CAST(inputs AS VARCHAR) FROM {alias}.runs "
            "WHERE as_of < CAST(? AS TIMESTAMPTZ) ORDER BY as_of DESC, finished_at DESC "
            "LIMIT 1", [as_of]).fetchone() if has_runs else None
    finally:
        con.execute(f"DETACH {alias}")
    if row is None:
        return None
    inputs = json.loads(row[2])
    return PreviousNight(str(row[0]), str(row[1]),
                         {name: int(table["rows"]) for name, table in inputs.items()})


def recorded_run(con: duckdb.DuckDBPyConnection, run_fingerprint: str) -> str | None:
    """The run already recorded with this fingerprint, if any."""
    row = con.execute(
        f"SELECT run_id FROM {CATALOG}.runs WHERE fingerprint = ? "
        "ORDER BY finished_at LIMIT 1",
        [run_fingerprint],
    ).fetchone()
    return str(row[0]) if row else None


def record(con: duckdb.DuckDBPyConnection, result: RunResult, run_fingerprint: str,
           finished_at: str) -> None:
    """Insert the run and its findings in one transaction, then refresh the views."""
    counts = result.verdict_counts
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"INSERT INTO {CATALOG}.runs VALUES (?, ?, 'completed', CAST(? AS TIMESTAMPTZ), "
            "CAST(? AS TIMESTAMPTZ), CAST(? AS TIMESTAMPTZ), "
            "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [result.run_id, run_fingerprint, result.as_of, result.started_at, finished_at,
             result.duration_seconds, result.data_dir, result.out_dir, result.version,
             _json({n: f.to_dict() for n, f in result.inputs.items()}),
             _json(result.settings.to_dict()), result.messages, counts["send"],
             counts["hold"], counts["block"], counts["rejected"], _json(counts),
             _json(result.flag_counts), list(result.warnings)],
        )
        con.execute(
            f"INSERT INTO {CATALOG}.findings "
            + read_history_sql("record_findings.sql"),
            [result.run_id],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    _refresh_views(con)


def read_history_sql(name: str) -> str:
    return sql_root().joinpath("history", name).read_text(encoding="utf-8")


def _refresh_views(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the documented views of sql/views/ inside the history file."""
    con.execute(f"USE {CATALOG}")
    try:
        views.create_views(con)
    finally:
        con.execute("USE memory")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
