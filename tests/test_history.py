"""The nightly job: run history, idempotent re-runs, one run at a time, kills, policies, logs."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from drops import Drop, invoke, invoke_json, read_csv_rows

from reconcile.config import Settings
from reconcile.errors import EXIT_BLOCK_RATE, EXIT_LOCKED, EXIT_OK
from reconcile.history import store as history
from reconcile.nightly import engine

# Every test here runs the nightly job, most of them more than once. Left out by `pytest -m "not
# slow"`.
pytestmark = pytest.mark.slow

AS_OF = "2026-11-23T02:00:00+08:00"


def small_drop(messages: int = 4) -> Drop:
    """One message per borrower and loan, alternating between an overdue loan (send) and a
    paid one (block), paid the morning before the run."""
    drop = Drop()
    for number in range(messages):
        loan, borrower = f"L{number}", f"B{number}"
        drop.loan(loan, borrower).installment(loan, 1, "2026-11-01", "100.00")
        if number % 2:
            drop.payment(f"P{number}", loan, "100.00", posted_at="2026-11-22T10:00:00+08:00")
        drop.message(f"M{number}", loan_id=loan, borrower_id=borrower)
    return drop


def run_with_db(data_dir: Path, out_dir: Path, db: Path, *extra: str):  # type: ignore[no-untyped-def]
    return invoke("run", data_dir, "--out", out_dir, "--as-of", AS_OF, "--db", db, *extra)


def history_rows(db: Path) -> tuple[list[tuple[object, ...]], int]:
    """(runs, number of findings rows); a history killed before its schema was created
    holds no run."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = {name for (name,) in con.execute("SHOW TABLES").fetchall()}
        if "runs" not in tables:
            return [], 0
        runs = con.execute(
            "SELECT run_id, messages, blocked FROM runs ORDER BY started_at").fetchall()
        (findings,) = con.execute("SELECT count(*) FROM findings").fetchone() or (0,)
    return runs, int(findings)


def test_run_is_recorded_with_its_findings(tmp_path: Path) -> None:
    data_dir = small_drop().write(tmp_path / "in")
    db = tmp_path / "history.duckdb"
    result = run_with_db(data_dir, tmp_path / "out", db)
    assert result.exit_code == EXIT_OK, result.output
    assert "history: recorded" in result.stdout
    runs, findings = history_rows(db)
    assert [(r[1], r[2]) for r in runs] == [(4, 2)] and findings == 4
    with duckdb.connect(str(db), read_only=True) as con:
        versions = con.execute("SELECT version FROM schema_migrations").fetchall()
        row = con.execute(
            "SELECT verdict, flags, phone, template_kind, rule_category, overdue_amount "
            "FROM findings WHERE message_id = 'M1'").fetchone()
    assert versions == [(m.version,) for m in history.migrations()]
    assert row is not None and row[0] == "block" and row[1] == ["NOT_OVERDUE"]
    # The phone is kept as its keyed hash (pseudonymised by default).
    key = history.pseudonym_key(history.HistoryPaths.of(db), Settings(), create=False)
    assert row[2:5] == (history.pseudonym(key, "13800001234"), "collection", "delinquency")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["history"] == "recorded"


def test_same_drop_again_is_not_recorded_twice(tmp_path: Path) -> None:
    data_dir = small_drop().write(tmp_path / "in")
    db = tmp_path / "history.duckdb"
    first = run_with_db(data_dir, tmp_path / "out", db)
    second = run_with_db(data_dir, tmp_path / "out", db)
    assert first.exit_code == second.exit_code == EXIT_OK, second.output
    (run_id, _, _), = history_rows(db)[0]
    assert f"history: already recorded as {run_id}" in second.stdout
    assert history_rows(db)[1] == 4
    forced = run_with_db(data_dir, tmp_path / "out", db, "--force")
    assert forced.exit_code == EXIT_OK and "history: recorded" in forced.stdout
    assert len(history_rows(db)[0]) == 2 and history_rows(db)[1] == 8


def test_a_nights_runs_are_listed_in_the_order_they_ran(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs in one second have run ids in no particular order: the rerun, which counts,
    is listed after the run it replaced, however their ids sort."""
    run_ids = iter(["20261123T020000Z-ffffff", "20261123T020000Z-000000"])
    monkeypatch.setattr(engine, "new_run_id", lambda started: next(run_ids))
    data_dir = small_drop().write(tmp_path / "in")
    db = tmp_path / "history.duckdb"
    assert run_with_db(data_dir, tmp_path / "out", db).exit_code == EXIT_OK
    assert run_with_db(data_dir, tmp_path / "out", db, "--force").exit_code == EXIT_OK
    document = invoke_json("trace", "--borrower", "B1", "--db", db, "--all-runs")
    assert [(m["run_id"], m["is_latest"]) for m in document["messages"]] == [
        ("20261123T020000Z-ffffff", False), ("20261123T020000Z-000000", True)]


@pytest.mark.parametrize("change", ["input", "as_of", "config"])
def test_a_different_drop_as_of_or_config_is_a_new_run(tmp_path: Path, change: str) -> None:
    data_dir = small_drop().write(tmp_path / "in")
    db = tmp_path / "history.duckdb"
    assert run_with_db(data_dir, tmp_path / "out", db).exit_code == EXIT_OK
    args = ["run", data_dir, "--out", tmp_path / "out", "--db", db, "--as-of", AS_OF]
    if change == "input":
        small_drop(6).write(data_dir)
    elif change == "as_of":
        args[-1] = "2026-11-23T03:00:00+08:00"
    else:
        (tmp_path / "c.toml").write_text("grace_days = 1\n")
        args += ["--config", tmp_path / "c.toml"]
    result = invoke(*args)
    assert result.exit_code == EXIT_OK and "history: recorded" in result.stdout
    assert len(history_rows(db)[0]) == 2


def test_a_second_run_on_the_same_history_is_refused(tmp_path: Path) -> None:
    data_dir = small_drop().write(tmp_path / "in")
    db = tmp_path / "history.duckdb"
    with history.locked(db, "20261123T000000Z-abcdef"):
        result = run_with_db(data_dir, tmp_path / "out", db)
    assert result.exit_code == EXIT_LOCKED
    assert "in use by run 20261123T000000Z-abcdef (pid" in result.stderr
    assert not (tmp_path / "out").exists()
    assert run_with_db(data_dir, tmp_path / "out", db).exit_code == EXIT_OK


def test_killed_at_any_point_leaves_history_and_output_consistent(tmp_path: Path) -> None:
    """SIGKILL a real run at random moments; each time history holds whole runs only, the
    output folder is complete or absent, and a re-run (not forced) records exactly once."""
    data_dir = small_drop(3000).write(tmp_path / "in")
    db, out = tmp_path / "history.duckdb", tmp_path / "out"
    command = [sys.executable, "-m", "reconcile", "run", str(data_dir), "--out", str(out),
               "--as-of", AS_OF, "--db", str(db), "--quiet"]
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=tmp_path)
    full_run = time.perf_counter() - started
    for recorded in (db, out, history.HistoryPaths.of(db).data):
        subprocess.run(["rm", "-rf", str(recorded)], check=True)
    rng = random.Random(20261123)
    for _ in range(6):
        process = subprocess.Popen(command, cwd=tmp_path, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, full_run))
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        if db.exists():
            runs, findings = history_rows(db)
            assert len(runs) <= 1 and findings == sum(int(r[1]) for r in runs)  # type: ignore[call-overload]
        if out.exists():
            rows = read_csv_rows(out / "findings.csv")
            summary = json.loads((out / "summary.json").read_text())
            assert len(rows) == summary["messages"] == 3000
    subprocess.run(command, check=True, cwd=tmp_path)
    subprocess.run(command, check=True, cwd=tmp_path)
    runs, findings = history_rows(db)
    assert len(runs) == 1 and findings == 3000
    # What the killed runs left beside out/ (half-written output, spill) is gone; the
    # output folder's lock file stays (lock files are never deleted).
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("history")) == [
        ".out.lock", "in", "out"]


def test_stale_feed_holds_every_message(tmp_path: Path) -> None:
    data_dir = small_drop().write(tmp_path / "in")  # newest payment posted 2026-11-22 10:00
    args = ["run", data_dir, "--out", tmp_path / "out", "--as-of", AS_OF]
    fresh = invoke(*args, "--max-feed-lag-hours", "1000", "-q")
    assert fresh.exit_code == EXIT_OK
    assert [r["verdict"] for r in read_csv_rows(tmp_path / "out" / "findings.csv")] == [
        "send", "block", "send", "block"]
    stale = invoke(*args, "--max-feed-lag-hours", "12", "-q")
    assert stale.exit_code == EXIT_OK
    rows = read_csv_rows(tmp_path / "out" / "findings.csv")
    assert [(r["verdict"], r["flags"]) for r in rows] == [
        ("hold", "STALE_FEED"), ("block", "NOT_OVERDUE;STALE_FEED"),
        ("hold", "STALE_FEED"), ("block", "NOT_OVERDUE;STALE_FEED")]
    assert "newest payment posted 2026-11-22 10:00:00+08 is more than 12 h" in rows[0]["reason"]


def test_stale_feed_from_config_and_with_no_payments(tmp_path: Path) -> None:
    drop = Drop().loan("L1").installment("L1", 1, "2026-11-01", "100.00").message("M1")
    data_dir = drop.write(tmp_path / "in")
    (tmp_path / "c.toml").write_text("max_feed_lag_hours = 48\n")
    result = invoke("run", data_dir, "--out", tmp_path / "out", "--as-of", AS_OF,
                    "--config", tmp_path / "c.toml", "-q")
    assert result.exit_code == EXIT_OK
    (row,) = read_csv_rows(tmp_path / "out" / "findings.csv")
    # An empty payments table is also an export that arrived empty.
    assert (row["verdict"], row["flags"]) == ("hold", "STALE_FEED;INCOMPLETE_FEED")
    assert "no payment posted by as-of" in row["reason"]


@pytest.mark.parametrize(("rate", "code"), [("0.5", EXIT_OK), ("0.49", EXIT_BLOCK_RATE)])
def test_fail_on_block_rate(tmp_path: Path, rate: str, code: int) -> None:
    data_dir = small_drop().write(tmp_path / "in")  # 2 of 4 blocked
    result = invoke("run", data_dir, "--out", tmp_path / "out", "--as-of", AS_OF,
                    "--fail-on-block-rate", rate)
    assert result.exit_code == code, result.output
    assert (tmp_path / "out" / "findings.csv").exists()
    if code == EXIT_BLOCK_RATE:
        assert "--fail-on-block-rate: block rate 50.0% is above 49.0%" in result.stderr


def test_json_logs_one_line_per_stage(tmp_path: Path) -> None:
    data_dir = small_drop().write(tmp_path / "in")
    result = run_with_db(data_dir, tmp_path / "out", tmp_path / "h.duckdb",
                         "--log-format", "json", "-q")
    assert result.exit_code == EXIT_OK
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [line.get("stage") for line in lines] == [None, "inputs", "checks", "outputs",
                                                     "history", None]
    assert lines[0]["event"] == "start"
    assert lines[-1]["event"] == "finished" and lines[-1]["verdicts"]["block"] == 2
    assert result.stdout == ""


def test_no_logs_without_a_terminal(tmp_path: Path) -> None:
    data_dir = small_drop().write(tmp_path / "in")
    result = invoke("run", data_dir, "--out", tmp_path / "out", "--as-of", AS_OF)
    assert result.exit_code == EXIT_OK and result.stderr == ""


@pytest.mark.skipif(shutil.which("script") is None, reason="needs util-linux `script` for a pty")
def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    """On a real terminal (a pty from `script`) stages advance a progress bar on stderr."""
    data_dir = small_drop().write(tmp_path / "in")
    command = (f"{sys.executable} -m reconcile run {data_dir} --out {tmp_path / 'out'} "
               f"--as-of {AS_OF}")
    screen = subprocess.run(["script", "-q", "-c", command, "/dev/null"], cwd=tmp_path,
                            capture_output=True, text=True, check=True).stdout
    assert "reconcile  [####" in screen and "3/3  outputs" in screen
    assert "4 messages: send 2" in screen
