"""The history's layout: Parquet files per run, a catalog readers never lock a writer out of,
migration from the single-file layout, pseudonymised personal data, and pruning."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import hmac
import json
import subprocess
import sys
import textwrap
import threading
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from drops import invoke, read_csv_rows
from hypothesis import given, settings
from hypothesis import strategies as st
from test_history import small_drop

import reconcile
from reconcile.config import Settings
from reconcile.errors import EXIT_BAD_INPUT, EXIT_LOCKED, EXIT_OK
from reconcile.history import store as history

# Nearly every test here records one or more whole runs into a history. Left out by `pytest -m
# "not slow"`.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
# A history written by reconcile before the Parquet layout (commit e56a467): sample_data
# reconciled as of 2026-11-22 and 2026-11-23 01:30 +08, 98 messages each.
LAYOUT1_FIXTURE = ROOT / "tests" / "fixtures" / "history_layout1.duckdb.gz"


def as_of(night: int) -> str:
    return (dt.datetime(2026, 11, 23, 2, tzinfo=dt.timezone(dt.timedelta(hours=8)))
            + dt.timedelta(days=night)).isoformat()


def record(data_dir: Path, out: Path, db: Path, night: int = 0, *extra: object):  # type: ignore[no-untyped-def]
    return invoke("run", data_dir, "--out", out, "--as-of", as_of(night), "--db", db, "-q",
                  *extra)


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return small_drop().write(tmp_path / "in")


# --- layout and readers ----------------------------------------------------------------


def test_each_run_is_two_parquet_files_in_its_night(data_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "history.duckdb"
    for night in range(2):
        assert record(data_dir, tmp_path / f"out{night}", db, night).exit_code == EXIT_OK
    paths = history.HistoryPaths.of(db)
    run_ids = [r[0] for r in rows(db, "SELECT run_id FROM runs ORDER BY as_of")]
    for night, run_id in zip(("2026-11-23", "2026-11-24"), run_ids, strict=True):
        for table in history.RECORDED_TABLES:
            assert paths.file(table, night, run_id).is_file()
    assert rows(db, "SELECT night, count(*) FROM findings GROUP BY night ORDER BY night") == [
        (dt.date(2026, 11, 23), 4), (dt.date(2026, 11, 24), 4)]
    # The catalog was written by the first run only: later nights appear through its views.
    assert rows(db, "SELECT count(*) FROM history_layout") == [(1,)]


def test_other_engines_read_the_files_without_reconcile(data_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "history.duckdb"
    for night in range(2):
        assert record(data_dir, tmp_path / f"out{night}", db, night).exit_code == EXIT_OK
    data = history.HistoryPaths.of(db).data
    runs = pl.read_parquet(data / "runs" / "*" / "*.parquet", hive_partitioning=True)
    findings = pl.read_parquet(data / "findings" / "*" / "*.parquet", hive_partitioning=True)
    assert runs.height == 2 and findings.height == 8
    assert runs.schema["inputs"] == pl.String  # JSON kept as text for every engine
    assert sorted(findings["night"].unique().cast(pl.String)) == ["2026-11-23", "2026-11-24"]
    assert findings.filter(pl.col("verdict") == "block").height == 4


READER = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
    print(con.execute("SELECT count(*) FROM runs").fetchone()[0], flush=True)
    sys.stdin.readline()
    print(con.execute("SELECT count(*) FROM runs").fetchone()[0], flush=True)
    print(con.execute("SELECT count(*) FROM findings").fetchone()[0], flush=True)
""")


@pytest.mark.parametrize(("mode", "through"), [("ro", "cli"), ("rw", "cli"), ("ro", "api")])
def test_a_run_records_while_a_reader_holds_the_history(data_dir: Path, tmp_path: Path,
                                                        mode: str, through: str) -> None:
    """An analyst's `duckdb -readonly history.duckdb` (or a plain, writable session) stays
    open across the night: the run records and publishes, and the reader keeps working."""
    db = tmp_path / "history.duckdb"
    assert record(data_dir, tmp_path / "out0", db, 0).exit_code == EXIT_OK
    reader = subprocess.Popen([sys.executable, "-c", READER, str(db), mode],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout is not None and reader.stdin is not None
        assert reader.stdout.readline().strip() == "1"
        if through == "api":
            recorded = reconcile.run(str(data_dir), str(tmp_path / "out1"), as_of=as_of(1),
                                     history_db=str(db))
            assert recorded.history == "recorded"
        else:
            result = record(data_dir, tmp_path / "out1", db, 1)
            assert result.exit_code == EXIT_OK, result.output
        assert len(read_csv_rows(tmp_path / "out1" / "findings.csv")) == 4
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert [reader.stdout.readline().strip() for _ in range(2)] == ["2", "8"]
    finally:
        reader.kill()
        reader.wait()
    assert rows(db, "SELECT count(*) FROM runs") == [(2,)]


def test_a_findings_file_without_its_runs_file_is_not_shown_and_is_healed(
        data_dir: Path, tmp_path: Path) -> None:
    """A writer killed between its two renames leaves findings without a runs file: the
    views show only recorded runs, and the next writer removes the orphan."""
    db = tmp_path / "history.duckdb"
    assert record(data_dir, tmp_path / "out0", db, 0).exit_code == EXIT_OK
    paths = history.HistoryPaths.of(db)
    (run_id,) = rows(db, "SELECT run_id FROM runs")[0]
    orphan = paths.file("findings", "2026-11-22", "20261122T000000Z-0rphan")
    orphan.parent.mkdir(parents=True)
    recorded = paths.file("findings", "2026-11-23", str(run_id))
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * REPLACE ('20261122T000000Z-0rphan' AS run_id) "
                    f"FROM '{recorded}') TO '{orphan}' (FORMAT parquet)")
    assert rows(db, "SELECT count(*) FROM findings") == [(4,)]
    assert record(data_dir, tmp_path / "out1", db, 1).exit_code == EXIT_OK
    assert not orphan.exists()
    assert rows(db, "SELECT count(*) FROM findings") == [(8,)]


def test_a_missing_or_foreign_catalog_is_rebuilt_from_the_files(data_dir: Path,
                                                                 tmp_path: Path) -> None:
    db = tmp_path / "history.duckdb"
    assert record(data_dir, tmp_path / "out0", db, 0).exit_code == EXIT_OK
    db.unlink()
    assert record(data_dir, tmp_path / "out1", db, 1).exit_code == EXIT_OK
    assert rows(db, "SELECT count(*) FROM runs") == [(2,)]
    # A folder moved elsewhere: its catalog named the old data folder, and is rebuilt.
    moved = tmp_path / "moved"
    moved.mkdir()
    for part in tmp_path.glob("history.duckdb*"):
        part.rename(moved / part.name)
    assert record(data_dir, tmp_path / "out2", moved / "history.duckdb", 2).exit_code == EXIT_OK
    assert rows(moved / "history.duckdb", "SELECT count(*) FROM runs") == [(3,)]


def test_a_second_writer_waits_with_wait_lock(data_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "history.duckdb"
    holder = history.locked(db, "20261123T000000Z-abcdef")
    holder.__enter__()
    timer = threading.Timer(1.0, holder.__exit__, (None, None, None))
    timer.start()
    try:
        started = time.monotonic()
        result = record(data_dir, tmp_path / "out", db, 0, "--wait-lock", "30")
    finally:
        timer.join()
    assert result.exit_code == EXIT_OK, result.output
    assert time.monotonic() - started >= 0.9


def test_a_refused_writer_names_the_holder(data_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "history.duckdb"
    with history.locked(db, "20261123T000000Z-abcdef"):
        result = record(data_dir, tmp_path / "out", db, 0, "--wait-lock", "0.3")
    assert result.exit_code == EXIT_LOCKED
    assert "in use by run 20261123T000000Z-abcdef" in result.stderr
    assert "waited 0.3 s" in result.stderr


# --- migration from the single-file layout ---------------------------------------------


def layout1_history(folder: Path) -> Path:
    db = folder / "history.duckdb"
    db.write_bytes(gzip.decompress(LAYOUT1_FIXTURE.read_bytes()))
    return db


def legacy_contents(db: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    runs = rows(db, "SELECT run_id, fingerprint, as_of, messages, sent, held, blocked, "
                    "rejected, CAST(flags AS VARCHAR), warnings FROM runs ORDER BY run_id")
    findings = rows(db, "SELECT run_id, source_row, message_id, verdict, flags, reason, "
                        "loan_id, overdue_amount, days_past_due, phone, borrower_name "
                        "FROM findings ORDER BY run_id, source_row")
    return runs, findings


def test_a_layout1_history_is_migrated_once_with_nothing_lost(tmp_path: Path) -> None:
    db = layout1_history(tmp_path)
    before_runs, before_findings = legacy_contents(db)
    assert len(before_runs) == 2 and len(before_findings) == 196
    result = invoke("history", "migrate", "--db", db)
    assert result.exit_code == EXIT_OK, result.output
    after_runs, after_findings = legacy_contents(db)
    assert after_runs == before_runs
    # Phones and names are now keyed hashes of the values the old file held in clear.
    key = history.pseudonym_key(history.HistoryPaths.of(db), Settings(), create=False)
    assert [f[:-2] for f in after_findings] == [f[:-2] for f in before_findings]
    assert [f[-2:] for f in after_findings] == [
        tuple(history.pseudonym(key, str(v)) if v is not None else None for v in f[-2:])
        for f in before_findings]
    assert rows(db, "SELECT DISTINCT personal_data FROM runs") == [("pseudonymised",)]
    # The old file is kept beside it, untouched.
    assert legacy_contents(history.HistoryPaths.of(db).legacy_backup) == (
        before_runs, before_findings)
    # Once: a second migrate (or a run) finds the current layout and changes nothing.
    catalog_bytes = db.read_bytes()
    assert invoke("history", "migrate", "--db", db).exit_code == EXIT_OK
    assert db.read_bytes() == catalog_bytes


def test_a_run_migrates_a_layout1_history_and_records_on_top(tmp_path: Path) -> None:
    """The first run on an old history migrates it and records itself beside the old runs;
    a night the old version recorded, reconciled again now, is a new run (the version and
    the judging settings make the fingerprint; the old one hashed resources too)."""
    db = layout1_history(tmp_path)
    old_fingerprints = rows(db, "SELECT fingerprint FROM runs ORDER BY as_of")
    config = tmp_path / "clear.toml"
    config.write_text('history_personal_data = "clear"\n')
    for night, out in (("2026-11-24", "out"), ("2026-11-23", "again")):
        result = invoke("run", ROOT / "sample_data", "--out", tmp_path / out, "--as-of",
                        f"{night}T01:30:00+08:00", "--db", db, "--config", config, "-q")
        assert result.exit_code == EXIT_OK, result.output
        assert json.loads((tmp_path / out / "summary.json").read_text())["history"] == (
            "recorded")
    assert rows(db, "SELECT personal_data, count(*) FROM runs GROUP BY ALL ORDER BY 1") == [
        ("clear", 4)]
    assert rows(db, "SELECT count(*) FROM findings WHERE phone = '13800001111'") == [(4,)]
    assert set(old_fingerprints) <= set(rows(db, "SELECT fingerprint FROM runs"))


def test_the_fingerprint_is_what_decides_verdicts(tmp_path: Path) -> None:
    """Resources and history settings do not make a run different; the version does."""
    result = reconcile.run(ROOT / "sample_data", tmp_path / "out",
                           as_of="2026-11-23T01:30:00+08:00")
    same = history.fingerprint(result)
    for changed in ({"memory_limit": "8GB"}, {"threads": 1}, {"temp_directory": "/tmp/x"},
                    {"history_personal_data": "clear"}, {"history_keep_days": 30}):
        again = dataclasses.replace(result, settings=dataclasses.replace(result.settings,
                                                                         **changed))
        assert history.fingerprint(again) == same, changed
    for changed in ({"grace_days": 1}, {"amount_tolerance": Decimal("0.02")}):
        judged = dataclasses.replace(result, settings=dataclasses.replace(result.settings,
                                                                          **changed))
        assert history.fingerprint(judged) != same, changed
    assert history.fingerprint(dataclasses.replace(result, version="9.9.9")) != same
    assert history.fingerprint(dataclasses.replace(result, as_of="2026-11-24T01:30:00+08:00")
                               ) != same


def test_reports_on_a_layout1_history_say_how_to_migrate(tmp_path: Path) -> None:
    db = layout1_history(tmp_path)
    result = invoke("report", "--db", db)
    assert result.exit_code == EXIT_BAD_INPUT
    assert "reconcile history migrate" in result.stderr


# --- personal data ---------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(key=st.binary(min_size=1, max_size=100), value=st.text(max_size=40))
def test_the_sql_keyed_hash_is_hmac_sha256(key: bytes, value: str) -> None:
    """The history hashes inside DuckDB; anyone holding the key gets the same value with
    any HMAC-SHA256 (keys longer than a block are hashed first, as HMAC says)."""
    con = duckdb.connect()
    history._create_personal_macro(con, "pseudonymised", key)
    (stored,) = con.execute("SELECT history_personal(?)", [value]).fetchone() or (None,)
    assert stored == hmac.new(key, value.encode(), "sha256").hexdigest()
    assert stored == history.pseudonym(key, value)


def test_pseudonym_command_finds_every_message_to_a_phone(data_dir: Path,
                                                          tmp_path: Path) -> None:
    db = tmp_path / "history.duckdb"
    for night in range(2):
        assert record(data_dir, tmp_path / f"out{night}", db, night).exit_code == EXIT_OK
    printed = invoke("history", "pseudonym", "--db", db, "13800001234")
    assert printed.exit_code == EXIT_OK, printed.output
    value, hashed = printed.stdout.strip().split("\t")
    assert value == "13800001234"
    found = invoke("query", "--db", db, "--format", "csv",
                   f"SELECT message_id, night FROM findings WHERE phone = '{hashed}' "
                   "ORDER BY night, message_id")
    # Every message of the small drop goes to the same phone.
    assert found.stdout.splitlines() == ["message_id,night"] + [
        f"M{m},2026-11-{night}" for night in (23, 24) for m in range(4)]
    assert "13800001234" not in "".join(
        str(r) for r in rows(db, "SELECT phone, borrower_name FROM findings"))
    assert (history.HistoryPaths.of(db).default_key.stat().st_mode & 0o777) == 0o600


def test_first_runs_at_once_share_one_whole_key(tmp_path: Path) -> None:
    """The key file appears whole or not at all: runs making it at the same moment all
    read the one key that was linked into place, none an empty or half-written file."""
    paths = history.HistoryPaths.of(tmp_path / "history.duckdb")
    keys: list[bytes] = []
    start = threading.Barrier(8)

    def make() -> None:
        start.wait()
        keys.append(history.pseudonym_key(paths, Settings()))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1 and len(keys[0]) == 64
    assert (paths.default_key.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in paths.default_key.parent.iterdir()
            if p.name.endswith(".partial")] == []


def test_the_key_can_come_from_the_environment(data_dir: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(history.KEY_ENVIRONMENT, "a key from the secret store")
    db = tmp_path / "history.duckdb"
    assert record(data_dir, tmp_path / "out", db).exit_code == EXIT_OK
    assert not history.HistoryPaths.of(db).default_key.exists()
    key = b"a key from the secret store"
    assert rows(db, "SELECT phone FROM findings WHERE message_id = 'M1'") == [
        (history.pseudonym(key, "13800001234"),)]
    assert rows(db, "SELECT pseudonym_key_id FROM runs") == [(history.key_id(key),)]


def test_pseudonym_without_a_key_is_exit_2(tmp_path: Path) -> None:
    result = invoke("history", "pseudonym", "--db", tmp_path / "none.duckdb", "138")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "no pseudonym key" in result.stderr
    assert not (tmp_path / "none.duckdb.key").exists()


def test_clear_personal_data_when_configured(data_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('history_personal_data = "clear"\n')
    db = tmp_path / "history.duckdb"
    assert record(data_dir, tmp_path / "out", db, 0, "--config", config).exit_code == EXIT_OK
    assert rows(db, "SELECT phone FROM findings WHERE message_id = 'M1'") == [("13800001234",)]
    assert rows(db, "SELECT personal_data, pseudonym_key_id FROM runs") == [("clear", None)]


# --- retention -------------------------------------------------------------------------


def test_prune_keeps_the_last_n_days(data_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "history.duckdb"
    for night in range(4):  # nights 11-23 .. 11-26
        assert record(data_dir, tmp_path / f"out{night}", db, night).exit_code == EXIT_OK
    pruned = history.prune_history(db, 2, today=dt.date(2026, 11, 26))
    assert pruned.nights == ["2026-11-23"] and len(pruned.runs) == 1
    assert rows(db, "SELECT CAST(night AS VARCHAR) FROM runs ORDER BY night") == [
        ("2026-11-24",), ("2026-11-25",), ("2026-11-26",)]
    assert rows(db, "SELECT count(*) FROM findings") == [(12,)]
    data = history.HistoryPaths.of(db).data
    assert not (data / "findings" / "night=2026-11-23").exists()


def test_prune_command_and_an_emptied_history(data_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "history.duckdb"
    assert record(data_dir, tmp_path / "out", db).exit_code == EXIT_OK
    result = invoke("history", "prune", "--db", db, "--keep-days", "1")
    assert result.exit_code == EXIT_OK, result.output
    assert result.stdout.startswith("pruned 1 run(s) of 1 night(s) before ")
    assert rows(db, "SELECT count(*) FROM runs") == [(0,)]
    assert rows(db, "SELECT count(*) FROM runs_by_night") == [(0,)]
    assert invoke("report", "--db", db).exit_code == EXIT_BAD_INPUT  # no run is recorded
    missing = invoke("history", "prune", "--db", db)
    assert missing.exit_code == EXIT_BAD_INPUT
    assert "--keep-days: no number of days to keep" in missing.stderr


def test_history_keep_days_prunes_after_each_run(data_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("history_keep_days = 1\n")
    db = tmp_path / "history.duckdb"
    for night in range(3):
        result = record(data_dir, tmp_path / f"out{night}", db, night, "--config", config)
        assert result.exit_code == EXIT_OK, result.output
    assert rows(db, "SELECT CAST(night AS VARCHAR) FROM runs ORDER BY night") == [
        ("2026-11-24",), ("2026-11-25",)]
