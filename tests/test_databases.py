"""Tables read from a real PostgreSQL 15 and a real MariaDB (throwaway servers, conftest.py):
the same findings as the same data read from files, one snapshot for every table, rows cited
by key, credentials kept off the command line, and a lagging replica holding the night."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from drops import invoke, read_csv_rows

from reconcile.nightly import databases
from reconcile.nightly.databases import check_source, redact
from reconcile.schema import TABLES

SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"
AS_OF = "2026-11-23T01:30:00+08:00"
KINDS = ("postgresql", "mysql")
# A cited input row, from a file ("payments.csv row 7", "templates row 2", "(row 7)") or
# from a database ("core.payments (payment_id=P7)"): where a row is differs by design.
_CITATION = re.compile(r"(\(row \d+\)|[\w.]+ row \d+|[\w.]+( query)? \((\w+=[^,()]*(, )?)+\))")


# A test given a database starts a server: slow (left out by `pytest -m "not slow"`).
@pytest.fixture(params=[pytest.param(kind, marks=pytest.mark.slow) for kind in KINDS])
def database(request: pytest.FixtureRequest) -> Any:
    """A fresh database on each kind of server."""
    fixture = "postgres_database" if request.param == "postgresql" else "mariadb_database"
    return request.getfixturevalue(fixture)


def _run(*args: object, expect: int = 0) -> Any:
    result = invoke("run", *map(str, args))
    assert result.exit_code == expect, result.output
    return result


def _findings(out_dir: Path) -> dict[str, dict[str, str]]:
    """findings.csv by message_id (a repeated id by its position too), with source_row
    left out and cited rows made alike: the rest must not depend on where rows came from."""
    findings: dict[str, dict[str, str]] = {}
    for row in read_csv_rows(out_dir / "findings.csv"):
        row.pop("source_row")
        row["reason"] = _CITATION.sub("ROW", row["reason"])
        key = row["message_id"]
        while key in findings:
            key += "+"
        findings[key] = row
    return findings


def _same_findings(from_files: Path, from_database: Path) -> None:
    files, read = _findings(from_files), _findings(from_database)
    assert files.keys() == read.keys()
    for message_id, row in files.items():
        assert read[message_id] == row, message_id
    issues = [(r["table"], r["reason"]) for r in read_csv_rows(from_database / "input_issues.csv")]
    expected = [(r["table"], r["reason"]) for r in read_csv_rows(from_files / "input_issues.csv")]
    assert sorted(issues) == sorted(expected)


def _summary(out_dir: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((out_dir / "summary.json").read_text())
    return document


def test_sample_data_from_the_database_gives_the_files_findings(database: Any,
                                                                tmp_path: Path) -> None:
    """Every column as text, as a CSV export lands in a staging schema: each bad value is
    found and worded as for the file, and every flag agrees."""
    database.load_drop(SAMPLE_DATA)
    _run(SAMPLE_DATA, "--out", tmp_path / "files", "--as-of", AS_OF)
    _run("--source", database.url, "--out", tmp_path / "db", "--as-of", AS_OF)
    _same_findings(tmp_path / "files", tmp_path / "db")
    flags = _summary(tmp_path / "db")["flags"]
    assert flags == _summary(tmp_path / "files")["flags"]
    assert sum(1 for count in flags.values() if count) >= 20


def test_a_generated_typed_drop_gives_the_files_findings(database: Any, tmp_path: Path) -> None:
    """NUMERIC, TIMESTAMPTZ (MySQL: TIMESTAMP) and DATE columns as the database has them."""
    drop = tmp_path / "drop"
    result = invoke("generate", drop, "--messages", "400", "--seed", "7", "--format", "parquet",
                    "--as-of", AS_OF, "--no-labels", "-q")
    assert result.exit_code == 0, result.output
    database.load_drop(drop)
    _run(drop, "--out", tmp_path / "files", "--as-of", AS_OF)
    _run("--source", database.url, "--out", tmp_path / "db", "--as-of", AS_OF)
    _same_findings(tmp_path / "files", tmp_path / "db")
    formats = {t["format"] for t in _summary(tmp_path / "db")["inputs"].values() if t["format"]}
    assert formats == {database.kind}


def test_ledger_from_the_database_and_the_batch_from_files(database: Any,
                                                          tmp_path: Path) -> None:
    """Mixed sources: --table maps a table to a relation of another name, or to a SELECT."""
    database.load_drop(SAMPLE_DATA, schema="core")
    config = tmp_path / "reconcile.toml"
    config.write_text('[sources]\npayments = "SELECT * FROM core.payments"\n', encoding="utf-8")
    _run(SAMPLE_DATA, "--out", tmp_path / "files", "--as-of", AS_OF)
    _run(SAMPLE_DATA, "--source", database.url, "--table", "installments=core.installments",
         "--table", "loans=core.loans", "--config", config, "--out", tmp_path / "mixed",
         "--as-of", AS_OF)
    _same_findings(tmp_path / "files", tmp_path / "mixed")
    inputs = _summary(tmp_path / "mixed")["inputs"]
    assert inputs["send_batch"]["format"] == "csv"
    assert inputs["installments"]["file"] == "core.installments"
    assert inputs["payments"]["file"] == "payments query"


def test_a_bad_row_is_cited_by_table_and_key(database: Any, tmp_path: Path) -> None:
    database.load_drop(SAMPLE_DATA)
    _run("--source", database.url, "--out", tmp_path / "db", "--as-of", AS_OF)
    issues = read_csv_rows(tmp_path / "db" / "input_issues.csv")
    negative = next(r for r in issues if "must be ≥ 0" in r["reason"])
    assert negative["row_key"] == "loan_id=LN202606090086, installment_no=7"
    findings = read_csv_rows(tmp_path / "db" / "findings.csv")
    assert any("installments (loan_id=LN202606090086, installment_no=7): amount_due -120.00"
               in row["reason"] for row in findings)
    files_issues = read_csv_rows(_run_files(tmp_path) / "input_issues.csv")
    assert {r["row_key"] for r in files_issues} == {""}


def _run_files(tmp_path: Path) -> Path:
    _run(SAMPLE_DATA, "--out", tmp_path / "files", "--as-of", AS_OF)
    return tmp_path / "files"


def _commit_between(database: Any, after_table: str,
                    monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Commit, on another connection, a payment and the installment it pays, just after
    the run has read `after_table` and before it reads the next; the server's clock at
    that commit is appended to the returned list."""
    committed: list[object] = []
    original: Callable[..., Any] = databases._read_table

    def read_then_commit(con: Any, reader: Any, source: Any, table: Any, *args: Any) -> Any:
        loaded = original(con, reader, source, table, *args)
        if table.name == after_table and not committed:
            committed.append(_commit_payment(database))
        return loaded

    monkeypatch.setattr(databases, "_read_table", read_then_commit)
    return committed


def _commit_payment(database: Any) -> object:
    connection = database.connect()
    cursor = connection.cursor()
    now = "now()" if database.kind == "postgresql" else "UTC_TIMESTAMP(6)"
    for statement in (
        "BEGIN" if database.kind == "postgresql" else "START TRANSACTION",
        "INSERT INTO installments (loan_id, installment_no, due_date, amount_due, updated_at) "
        "VALUES ('LN_LATE', '1', '2026-11-01', '500.00', '2026-11-22 10:05:00')",
        "INSERT INTO payments (payment_id, loan_id, amount, status, paid_at, posted_at) "
        "VALUES ('PAY_LATE', 'LN_LATE', '500.00', 'settled', '2026-11-22 10:00:00', "
        "'2026-11-22 10:05:00')",
    ):
        cursor.execute(statement)
    cursor.execute(f"SELECT {now}")
    (at,) = cursor.fetchall()[0]
    cursor.execute("COMMIT")
    connection.close()
    return at


def test_a_commit_during_the_read_is_seen_whole_or_not_at_all(
        database: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The payment and its installment are committed between the run's reads of
    installments and payments: the run sees neither (one snapshot); the next run both."""
    database.load_drop(SAMPLE_DATA)
    committed = _commit_between(database, "installments", monkeypatch)
    _run("--source", database.url, "--out", tmp_path / "first", "--as-of", AS_OF)
    assert committed, "the commit did not happen during the read"
    first = _summary(tmp_path / "first")
    _run("--source", database.url, "--out", tmp_path / "second", "--as-of", AS_OF)
    second = _summary(tmp_path / "second")
    for table in ("installments", "payments"):
        assert second["inputs"][table]["rows"] == first["inputs"][table]["rows"] + 1, table
    # The evidence names the instant: every table read at it, before the commit.
    taken_at = first["snapshot"]["taken_at"]
    assert {t["snapshot_at"] for t in first["inputs"].values() if t["format"]} == {taken_at}
    assert second["snapshot"]["taken_at"] > taken_at
    commit_at = committed[0]
    assert isinstance(commit_at, dt.datetime)
    if commit_at.tzinfo is None:
        commit_at = commit_at.replace(tzinfo=dt.UTC)
    assert dt.datetime.fromisoformat(taken_at) < commit_at


def test_the_same_ledger_read_twice_is_the_same_run(database: Any, tmp_path: Path) -> None:
    """The digests of what was read, not the snapshot's instant, identify a run: re-run on
    an unchanged ledger, it is recognised as already recorded."""
    database.load_drop(SAMPLE_DATA)
    history = tmp_path / "history.duckdb"
    for out in ("first", "second"):
        _run("--source", database.url, "--out", tmp_path / out, "--as-of", AS_OF,
             "--db", history)
    assert _summary(tmp_path / "second")["history"].startswith("already recorded as ")


def test_as_of_after_the_snapshot_is_said(database: Any, tmp_path: Path) -> None:
    database.load_drop(SAMPLE_DATA)
    result = _run("--source", database.url, "--out", tmp_path / "db",
                  "--as-of", "2099-01-01T00:00:00+08:00")
    assert "after the database snapshot" in result.output
    warnings = _summary(tmp_path / "db")["warnings"]
    assert any("is not in the ledger read" in w for w in warnings)


def test_a_lagging_replica_holds_the_night_as_stale_feed(
        database: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A replica more than max_replica_lag_seconds behind holds every readable message
    (each client's lag, as its server would report it; a real PostgreSQL standby below)."""
    database.load_drop(SAMPLE_DATA)
    reader: Any = (databases._PostgresReader if database.kind == "postgresql"
                   else databases._MysqlReader)
    original = reader.snapshot

    def lagging(self: Any) -> tuple[Any, bool, float | None]:
        taken_at, _, _ = original(self)
        return taken_at, True, 600.0

    monkeypatch.setattr(reader, "snapshot", lagging)
    config = tmp_path / "reconcile.toml"
    config.write_text("max_feed_lag_hours = 0\nmax_replica_lag_seconds = 300\n")
    _run("--source", database.url, "--out", tmp_path / "db", "--as-of", AS_OF,
         "--config", config)
    summary = _summary(tmp_path / "db")
    assert summary["snapshot"]["replication_lag_seconds"] == 600.0
    readable = summary["messages"] - summary["verdicts"]["rejected"]
    assert summary["flags"]["STALE_FEED"] == readable
    reasons = [r["reason"] for r in read_csv_rows(tmp_path / "db" / "findings.csv")]
    assert any("replica read at" in r and "600.0 s behind its primary" in r for r in reasons)


def test_a_primary_reports_no_replica(database: Any, tmp_path: Path) -> None:
    database.load_drop(SAMPLE_DATA)
    _run("--source", database.url, "--out", tmp_path / "db", "--as-of", AS_OF)
    snapshot = _summary(tmp_path / "db")["snapshot"]
    assert snapshot["replica"] is False and snapshot["replication_lag_seconds"] is None
    assert snapshot["source"] == database.url and snapshot["kind"] == database.kind


@pytest.mark.slow
def test_a_libpq_service_file_gives_the_connection(postgres_database: Any, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    postgres_database.load_drop(SAMPLE_DATA)
    services = tmp_path / "pg_service.conf"
    services.write_text(f"[nightly]\nhost={postgres_database.socket_dir}\nuser=postgres\n"
                        f"dbname={postgres_database.database}\n", encoding="utf-8")
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    _run("--source", "postgresql:///?service=nightly", "--out", tmp_path / "db",
         "--as-of", AS_OF)
    assert _summary(tmp_path / "db")["messages"] == 107


@pytest.mark.parametrize("url", [
    "postgresql://nightly:s3cret@db.example/ledger",
    "mysql://nightly@db.example/ledger?password=s3cret",
])
def test_a_password_on_the_command_line_is_refused_unshown(url: str, tmp_path: Path) -> None:
    result = _run("--source", url, "--out", tmp_path / "out", expect=2)
    assert "s3cret" not in result.output
    assert "PGPASSWORD" in result.output
    assert not (tmp_path / "out").exists()


def test_redact_hides_any_password() -> None:
    assert redact("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert redact("mysql://u@h/db?password=pw&x=1") == "mysql://u@h/db?password=***&x=1"


@pytest.mark.parametrize(("mapping", "message"), [
    ({"installments": "core.plan; DROP TABLE x"}, "neither a table or view name"),
    ({"ledger": "core.plan"}, "not a table of the drop"),
])
def test_a_mapping_that_is_not_a_relation_or_select_is_refused(
        mapping: dict[str, str], message: str) -> None:
    with pytest.raises(Exception, match=message):
        check_source("postgresql:///ledger", mapping)


def test_a_missing_required_table_is_exit_2(database: Any, tmp_path: Path) -> None:
    database.load_drop(SAMPLE_DATA)
    database.execute("DROP TABLE installments")
    result = _run("--source", database.url, "--out", tmp_path / "db", expect=2)
    assert "missing required table installments" in result.output


def test_an_absent_optional_table_skips_its_checks(database: Any, tmp_path: Path) -> None:
    database.load_drop(SAMPLE_DATA)
    database.execute("DROP TABLE contact_flags")
    _run("--source", database.url, "--out", tmp_path / "db", "--as-of", AS_OF)
    summary = _summary(tmp_path / "db")
    assert summary["skipped_checks"]["CONTACT_RESTRICTED"] == "no contact_flags input"


def test_a_select_that_fails_names_the_table_exit_2(database: Any, tmp_path: Path) -> None:
    database.load_drop(SAMPLE_DATA)
    result = _run("--source", database.url, "--table", "payments=SELECT * FROM no_such_table",
                  "--out", tmp_path / "db", expect=2)
    assert "payments query: cannot be read from" in result.output


def test_a_missing_column_names_the_relation(database: Any, tmp_path: Path) -> None:
    database.load_drop(SAMPLE_DATA)
    result = _run("--source", database.url, "--table",
                  "payments=SELECT payment_id, loan_id, status FROM payments",
                  "--out", tmp_path / "db", expect=2)
    assert "payments query: missing required column amount" in result.output


def test_an_unreachable_server_is_exit_1(tmp_path: Path) -> None:
    result = _run("--source", f"postgresql://postgres@/none?host={tmp_path}",
                  "--out", tmp_path / "db", expect=1)
    assert "cannot connect to" in result.output


def test_tables_mapped_with_no_database_is_exit_2(tmp_path: Path) -> None:
    result = _run(SAMPLE_DATA, "--table", "payments=core.payments", "--out", tmp_path / "o",
                  expect=2)
    assert "no database is named to read it from" in result.output


def test_no_data_dir_and_no_database_is_exit_2(tmp_path: Path) -> None:
    result = _run("--out", tmp_path / "o", expect=2)
    assert "give DATA_DIR" in result.output


def test_every_table_has_a_row_key() -> None:
    """A row read from a database is cited by these columns: each table has some."""
    assert all(table.row_key for table in TABLES)


def test_the_history_records_the_snapshot(database: Any, tmp_path: Path) -> None:
    database.load_drop(SAMPLE_DATA)
    history = tmp_path / "history.duckdb"
    _run("--source", database.url, "--out", tmp_path / "db", "--as-of", AS_OF, "--db", history)
    _run(SAMPLE_DATA, "--out", tmp_path / "files", "--as-of", AS_OF, "--db", history)
    result = invoke("query", "SELECT data_dir, CAST(snapshot_at AS VARCHAR) AS at, "
                    "snapshot->>'kind' AS kind FROM runs ORDER BY started_at",
                    "--db", history, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    taken_at = _summary(tmp_path / "db")["snapshot"]["taken_at"]
    assert rows[0]["data_dir"] == database.url and rows[0]["kind"] == database.kind
    assert dt.datetime.fromisoformat(rows[0]["at"]) == dt.datetime.fromisoformat(taken_at)
    assert rows[1]["at"] is None


@pytest.fixture
def replica(postgres_server: Any) -> Iterator[Any]:
    """A hot standby of the session's PostgreSQL, streaming from it."""
    from servers import start_postgresql_replica

    standby = start_postgresql_replica(postgres_server)
    try:
        yield standby
    finally:
        standby.stop()


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_real_replica_behind_its_primary_holds_the_night(
        postgres_database: Any, replica: Any, tmp_path: Path) -> None:
    """Caught up, the replica reports a lag of 0 and the night goes on; with its replay
    paused while the primary commits a payment, it is behind: the run does not see the
    payment, and STALE_FEED holds every readable message, naming the lag."""
    from servers import Server

    postgres_database.load_drop(SAMPLE_DATA)
    standby = Server("postgresql", replica.root, postgres_database.database, owns_server=False)
    config = tmp_path / "reconcile.toml"
    config.write_text("max_feed_lag_hours = 0\nmax_replica_lag_seconds = 1\n")
    [(primary_lsn,)] = postgres_database.execute("SELECT CAST(pg_current_wal_lsn() AS text)")
    _wait_for(lambda: standby.execute("SELECT pg_last_wal_replay_lsn() >= CAST($1 AS pg_lsn)",
                                      [primary_lsn])[0][0], "the replica caught up")
    try:
        _run("--source", standby.url, "--out", tmp_path / "caught_up", "--as-of", AS_OF,
             "--config", config)
        caught_up = _summary(tmp_path / "caught_up")
        assert caught_up["snapshot"]["replica"] is True
        assert caught_up["snapshot"]["replication_lag_seconds"] == 0
        assert caught_up["flags"]["STALE_FEED"] == 0
        standby.execute("SELECT pg_wal_replay_pause()")
        _commit_payment(postgres_database)
        _wait_for(lambda: standby.execute(
            "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()")[0][0],
            "the replica received what it does not replay")
        time.sleep(1.5)  # past max_replica_lag_seconds since the last replayed commit
        _run("--source", standby.url, "--out", tmp_path / "behind", "--as-of", AS_OF,
             "--config", config)
    finally:
        standby.execute("SELECT pg_wal_replay_resume()")
        standby._close()
    behind = _summary(tmp_path / "behind")
    assert behind["inputs"]["payments"]["rows"] == caught_up["inputs"]["payments"]["rows"]
    assert behind["snapshot"]["replication_lag_seconds"] > 1
    assert behind["flags"]["STALE_FEED"] == behind["messages"] - behind["verdicts"]["rejected"]


def test_messages_tied_in_time_give_the_files_answer_whatever_the_row_order(
        database: Any, tmp_path: Path) -> None:
    """A database gives rows in no order of the file's. Copies of one message scheduled at
    the same instant, in a batch written last row first: which copy is the first
    (DUPLICATE_IN_BATCH) and which exceeds a cap (FREQUENCY_CAP) must not depend on it."""
    import shutil

    drop = tmp_path / "drop"
    shutil.copytree(SAMPLE_DATA, drop)
    rows = read_csv_rows(drop / "send_batch.csv")
    original = next(r for r in rows if r["message_id"] == "SMS2026112300103")
    rows += [{**original, "message_id": f"SMS2026112300103{suffix}"} for suffix in "BCA"]
    with (drop / "send_batch.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(reversed(rows))
    database.load_drop(drop)
    _run(drop, "--out", tmp_path / "files", "--as-of", AS_OF)
    _run("--source", database.url, "--out", tmp_path / "db", "--as-of", AS_OF)
    _same_findings(tmp_path / "files", tmp_path / "db")
    flagged = {r["message_id"]: r["flags"] for r in read_csv_rows(tmp_path / "db" / "findings.csv")}
    assert "DUPLICATE_IN_BATCH" not in flagged["SMS2026112300103"]
    assert all("DUPLICATE_IN_BATCH" in flagged[f"SMS2026112300103{s}"] for s in "ABC")
