"""Every shipped SQL file says what it reads, and reads nothing else.

Each file opens with a `-- reads:` line: the tables and views, macros (`name()`) and
variables (`$name`) it reads. Here each file is run as the product runs it, but first on a
fresh connection holding only what it declares, copied from the product's connection at
that moment (a macro brings the macros it calls): a file that reads anything undeclared
fails here, not at some night's run. The nightly files are caught on their way through a
real run of sample_data (the run is handed a connection that probes), the history's views
and catalog on the history that run wrote, the report's queries on a real report of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest

from reconcile.checks import load_checks
from reconcile.config import Settings
from reconcile.history import store, views
from reconcile.nightly import engine
from reconcile.nightly.decide import truth_only_relations
from reconcile.report import build, complaints, trace
from reconcile.sqlfiles import SqlFile, quote_identifier, quote_literal, sql_files, sql_root

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-23T01:30:00+08:00"
NEXT_NIGHT = "2026-11-24T01:30:00+08:00"
# Run by the database a night is read from (PostgreSQL, MySQL), not by DuckDB: their
# reads are the server's own; tests/test_databases.py runs them there.
NOT_DUCKDB = ("nightly/sources/",)


def _every_file() -> dict[str, SqlFile]:
    root = Path(str(sql_root()))
    return {str(path.relative_to(root)): SqlFile(path.name, path.read_text(encoding="utf-8"))
            for path in sorted(root.rglob("*.sql"))}


FILES = _every_file()
DUCKDB_FILES = {path: file for path, file in FILES.items() if not path.startswith(NOT_DUCKDB)}


def test_every_sql_file_declares_what_it_reads() -> None:
    undeclared = [path for path, file in FILES.items() if file.reads is None]
    assert not undeclared, f"no '-- reads:' line in {undeclared}"
    for check in load_checks().values():  # a check's is a header key, like its flag
        assert check.reads == FILES[f"nightly/checks/{check.file_name}"].reads


# --- a connection holding only what is declared -----------------------------------------


def _macros(source: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    rows = source.execute(
        "SELECT function_name, function_type, parameters, macro_definition "
        "FROM duckdb_functions() WHERE function_type IN ('macro', 'table_macro') "
        "AND NOT internal").fetchall()
    macros: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        macros.setdefault(row[0], []).append(row)
    return macros


def _with_callees(names: set[str], macros: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    """The macros named and every macro their definitions call, callees first (DuckDB
    binds a macro's body when it is created)."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        for row in macros[name]:
            for other in macros:
                if other != name and re.search(rf"\b{other}\s*\(", row[3]):
                    visit(other)
        ordered.append(name)

    for name in sorted(names):
        visit(name)
    return ordered


def isolated(source: duckdb.DuckDBPyConnection, reads: tuple[str, ...]
             ) -> duckdb.DuckDBPyConnection:
    """A fresh connection in source's time zone holding copies of only `reads`."""
    target = duckdb.connect()
    (zone,) = source.execute("SELECT current_setting('TimeZone')").fetchone() or ("UTC",)
    target.execute(f"SET TimeZone = {quote_literal(zone)}")
    macros = _macros(source)
    named = {name[:-2] for name in reads if name.endswith("()")}
    missing_macros = named - set(macros)
    assert not missing_macros, f"declared macros that do not exist: {missing_macros}"
    for name in _with_callees(named, macros):
        for _, kind, parameters, definition in macros[name]:
            table = "TABLE " if kind == "table_macro" else ""
            target.execute(f"CREATE OR REPLACE MACRO {name}({', '.join(parameters)}) AS "
                           f"{table}{definition}")
    for name in reads:
        if name.startswith("$"):
            value, kind = source.execute("SELECT value, type FROM duckdb_variables() "
                                         "WHERE name = ?", [name[1:]]).fetchone() or (None, "")
            target.execute(f"SET VARIABLE {name[1:]} = CAST({quote_literal(str(value))} "
                           f"AS {kind})")
        elif not name.endswith("()"):
            rows = source.sql(f"SELECT * FROM {quote_identifier(name)}").to_arrow_table()
            target.register("declared_rows", rows)
            target.execute(f"CREATE TABLE {quote_identifier(name)} AS FROM declared_rows")
            target.unregister("declared_rows")
    return target


class Probe:
    """Runs each file once, alone, on an isolated copy of what it declares."""

    def __init__(self) -> None:
        self.probed: dict[str, str] = {}

    def run(self, source: duckdb.DuckDBPyConnection, path: str, sql: str,
            parameters: object = None) -> None:
        if path in self.probed:
            return
        target = None
        try:
            target = isolated(source, FILES[path].reads or ())
            target.execute(sql, parameters)
        except duckdb.Error as error:
            self.probed[path] = f"{path}: {str(error).splitlines()[0]}"
        else:
            self.probed[path] = ""
        finally:
            if target is not None:
                target.close()

    def failures(self) -> list[str]:
        return [failure for failure in self.probed.values() if failure]


class ProbingConnection:
    """A DuckDB connection that, before a statement holding a shipped file's SQL, probes
    that file on what it declares (a check is probed alone out of the union of checks)."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, probe: Probe) -> None:
        self._connection = connection
        self._probe = probe
        self._texts = {path: _runnable(file.text) for path, file in DUCKDB_FILES.items()}

    def execute(self, query: object, parameters: object = None) -> duckdb.DuckDBPyConnection:
        if isinstance(query, str):
            for path, text in self._texts.items():
                if path not in self._probe.probed and text in query:
                    self._probe.run(self._connection, path, text)
        return self._connection.execute(query, parameters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def _runnable(text: str) -> str:
    return text.strip().rstrip(";").strip()


# --- the files, each where the product runs it -------------------------------------------


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Probe, Path]]:
    """A recorded run of sample_data whose nightly files were each probed on the way."""
    folder = tmp_path_factory.mktemp("reads")
    probe = Probe()
    connection = duckdb.connect()
    try:
        # Every check runs: MISSING_OPT_OUT's setting is on.
        engine.run(ROOT / "sample_data", folder / "out", as_of=AS_OF,
                   settings=replace(Settings(), require_opt_out=True),
                   history_db=folder / "history.duckdb",
                   connection=ProbingConnection(connection, probe))  # type: ignore[arg-type]
    finally:
        connection.close()
    # The next night, so that the report compares two.
    engine.run(ROOT / "sample_data", folder / "next", as_of=NEXT_NIGHT,
               history_db=folder / "history.duckdb")
    yield probe, folder / "history.duckdb"


@pytest.mark.slow
def test_the_nightly_files_read_only_what_they_declare(night: tuple[Probe, Path]) -> None:
    probe, _ = night
    expected = {path for path in DUCKDB_FILES
                if path.startswith(("nightly/", "history/migrations/"))
                or path == "history/record_findings.sql"}
    assert set(probe.probed) >= expected, sorted(expected - set(probe.probed))
    assert probe.failures() == []


@pytest.mark.slow
def test_the_history_files_read_only_what_they_declare(night: tuple[Probe, Path]) -> None:
    _, history = night
    probe = Probe()
    with duckdb.connect(str(history), read_only=True) as catalog:
        for view in views.load_views().values():
            probe.run(catalog, f"history/views/{view.file_name}", view.sql)
        probe.run(catalog, "history/catalog.sql",
                  store.catalog_sql(store.HistoryPaths.of(history)))
    assert probe.failures() == []


@pytest.mark.slow
def test_the_report_queries_read_only_what_they_declare(night: tuple[Probe, Path],
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    _, history = night
    probe = Probe()
    real_query = build.query

    def probing_query(con: duckdb.DuckDBPyConnection, name: str,
                      **params: object) -> list[tuple[Any, ...]]:
        path = f"report/{name}.sql"
        probe.run(con, path, FILES[path].text, params)
        return real_query(con, name, **params)

    for module in (build, trace, complaints):  # each calls query() by its own name
        monkeypatch.setattr(module, "query", probing_query)
    build.build_report(history)
    trace.build_trace(history, message_id="SMS2026112300103")
    complaints_csv = history.with_name("complaints.csv")
    complaints_csv.write_text("complaint_id,phone,borrower_id,received_at,category\n"
                              "K1,,BR3100101,2026-11-23,already paid\n", encoding="utf-8")
    complaints.trace_complaints(history, complaints_csv)
    assert set(probe.probed) == {path for path in DUCKDB_FILES if path.startswith("report/")}
    assert probe.failures() == []


def test_the_three_tests_above_reach_every_duckdb_file() -> None:
    """The nightly files and the history's record and migrations through the run, the
    views and catalog on its history, and sql/report/ through the report, trace and
    complaints: nothing else holds a shipped DuckDB file."""
    nightly = {path for path in DUCKDB_FILES if path.startswith("nightly/")}
    history = {path for path in DUCKDB_FILES if path.startswith("history/")}
    report = {path for path in DUCKDB_FILES if path.startswith("report/")}
    assert nightly | history | report == set(DUCKDB_FILES)
    assert {f"history/views/{f.name}" for f in sql_files("history/views")} <= history


def test_what_is_dropped_before_the_checks_follows_from_the_reads_lines() -> None:
    """The truth's inputs and steps that no later file reads go; what a check, the
    verdicts or the writes read stays."""
    dropped = set(truth_only_relations())
    assert {"installments", "payments", "loans", "loan_ledger", "loan_day_truth",
            "message_inputs", "component_truth", "unusable_loans"} <= dropped
    kept = {name for check in load_checks().values() for name in check.reads}
    assert not dropped & (kept | {"message_context", "send_batch", "input_issues"})
