"""What a scheduler learns from a run: exit codes for the nights it must notice, JSON logs
it can parse line by line, and ISO 8601 instants in the run's time zone everywhere."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
from drops import Drop, disabled_config, invoke, read_csv_rows

from reconcile import locks
from reconcile.checks import CONTACT_POLICY_FLAGS, FEED_FLAGS
from reconcile.cli import main as cli
from reconcile.config import load_settings
from reconcile.errors import (
    EXIT_BAD_INPUT,
    EXIT_BLOCK_RATE,
    EXIT_HOLD_RATE,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_NOTHING_TO_SEND,
    EXIT_OK,
)
from reconcile.nightly import writer
from reconcile.nightly.engine import run
from reconcile.nightly.policy import ExitPolicy, nothing_to_send_warning
from reconcile.result import RunResult
from reconcile.timestamps import iso_text

AS_OF = "2026-11-23T02:00:00+08:00"
# The contact checks are off: these drops send to one borrower several times.
CONTACT_OFF = disabled_config(*CONTACT_POLICY_FLAGS)
ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$")


def mixed_night() -> Drop:
    """M1 for overdue L1 (send), M2 for L2, paid off (block), M3 and M4 for unknown loans
    (block)."""
    drop = Drop()
    drop.loan("L1").installment("L1", 1, "2026-11-10", "100.00")
    drop.loan("L2", "B2").installment("L2", 1, "2026-11-10", "80.00")
    drop.payment("P1", "L2", "80.00", posted_at="2026-11-22T20:00:00+08:00")
    drop.message("M1").message("M2", loan_id="L2", borrower_id="B2")
    drop.message("M3", loan_id="LX").message("M4", loan_id="LY")
    return drop


def stale_night() -> Drop:
    """Four messages for two overdue loans, to send but that the newest payment posted three
    weeks before T: every message held (STALE_FEED)."""
    drop = Drop()
    drop.loan("L1").installment("L1", 1, "2026-11-10", "100.00")
    drop.loan("L2", "B2").installment("L2", 1, "2026-11-10", "80.00")
    drop.payment("P1", "L2", "10.00", posted_at="2026-11-01T10:00:00+08:00")
    drop.message("M1").message("M2", loan_id="L2", borrower_id="B2")
    drop.message("M3").message("M4", loan_id="L2", borrower_id="B2")
    return drop


def run_cli(drop: Drop, tmp_path: Path, *extra: str, config: str = CONTACT_OFF,
            fmt: str = "csv") -> tuple[Any, Path]:
    data_dir = drop.write(tmp_path / f"in_{fmt}", fmt)
    config_path = tmp_path / "reconcile.toml"
    config_path.write_text(config, encoding="utf-8")
    out_dir = tmp_path / "out"
    result = invoke("run", data_dir, "--out", out_dir, "--as-of", AS_OF,
                    "--config", config_path, *extra)
    return result, out_dir


def summary(out_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((out_dir / "summary.json").read_text("utf-8"))
    return loaded


def json_lines(stderr: str) -> list[dict[str, Any]]:
    """Every stderr line as JSON: a line that is not one fails the test."""
    return [json.loads(line) for line in stderr.splitlines()]


# ---------------------------------------------------------------------------------------
# Exit codes a scheduler can act on


@pytest.mark.slow
@pytest.mark.parametrize(("limit", "code"), [("1", EXIT_OK), ("0.99", EXIT_HOLD_RATE)])
def test_fail_on_hold_rate_exits_5_with_every_output_written(tmp_path: Path, limit: str,
                                                             code: int) -> None:
    result, out_dir = run_cli(stale_night(), tmp_path, "--fail-on-hold-rate", limit, "-q")
    assert result.exit_code == code, result.output
    assert summary(out_dir)["verdicts"] == {"send": 0, "hold": 4, "block": 0, "rejected": 0}
    assert len(read_csv_rows(out_dir / "hold.csv")) == 4
    if code == EXIT_HOLD_RATE:
        assert result.stderr.splitlines()[-1] == (
            "reconcile: error: --fail-on-hold-rate: hold rate 100.0% is above 99.0% "
            "(outputs were written)")


@pytest.mark.slow
def test_a_night_with_nothing_to_send_exits_0_by_default_but_says_so(tmp_path: Path) -> None:
    result, out_dir = run_cli(stale_night(), tmp_path)
    assert result.exit_code == EXIT_OK, result.output
    warning = ("nothing to send: none of the 4 messages may be sent (hold 4, block 0, "
               "rejected 0); send.csv is empty")
    assert f"reconcile: warning: {warning}" in result.stderr.splitlines()
    assert f"  warning: {warning}" in result.stdout.splitlines()  # the summary, for cron mail
    assert summary(out_dir)["nothing_to_send"] is True
    assert read_csv_rows(out_dir / "send.csv") == []


@pytest.mark.slow
def test_quiet_still_warns_of_nothing_to_send_on_stderr(tmp_path: Path) -> None:
    result, _ = run_cli(stale_night(), tmp_path, "-q")
    assert result.exit_code == EXIT_OK, result.output
    assert result.stdout == ""
    assert "reconcile: warning: nothing to send:" in result.stderr


@pytest.mark.slow
def test_fail_on_empty_send_exits_6_with_every_output_written(tmp_path: Path) -> None:
    result, out_dir = run_cli(stale_night(), tmp_path, "--fail-on-empty-send", "-q")
    assert result.exit_code == EXIT_NOTHING_TO_SEND, result.output
    assert result.stderr.splitlines()[-1] == (
        "reconcile: error: --fail-on-empty-send: nothing to send: none of the 4 messages may "
        "be sent (hold 4, block 0, rejected 0) (outputs were written)")
    assert summary(out_dir)["nothing_to_send"] is True
    assert {p.name for p in out_dir.iterdir()} >= {"findings.csv", "hold.csv", "send.csv"}


@pytest.mark.slow
def test_an_all_blocked_night_is_nothing_to_send_too(tmp_path: Path) -> None:
    drop = Drop().loan("L1").installment("L1", 1, "2026-11-10", "100.00")
    drop.payment("P1", "L1", "100.00", posted_at="2026-11-22T20:00:00+08:00")
    drop.message("M1").message("M2", loan_id="LX")
    result, out_dir = run_cli(drop, tmp_path, "--fail-on-empty-send",
                              "--fail-on-block-rate", "0.5", "-q")
    # Both limits broken: nothing to send decides (6), and the message names the other.
    assert result.exit_code == EXIT_NOTHING_TO_SEND, result.output
    assert result.stderr.splitlines()[-1] == (
        "reconcile: error: --fail-on-empty-send: nothing to send: none of the 2 messages may "
        "be sent (hold 0, block 2, rejected 0); also block rate 100.0% is above 50.0% "
        "(outputs were written)")
    assert summary(out_dir)["verdicts"]["block"] == 2


@pytest.mark.slow
def test_a_night_with_messages_to_send_is_not_flagged(tmp_path: Path) -> None:
    result, out_dir = run_cli(mixed_night(), tmp_path, "--fail-on-empty-send",
                              "--fail-on-hold-rate", "0", "-q")
    assert result.exit_code == EXIT_OK, result.output
    assert result.stderr == ""
    assert summary(out_dir)["nothing_to_send"] is False
    assert summary(out_dir)["verdicts"] == {"send": 1, "hold": 0, "block": 3, "rejected": 0}


@pytest.mark.parametrize("limit", ["1.5", "-0.1"])
def test_a_hold_rate_outside_0_to_1_is_exit_2(tmp_path: Path, limit: str) -> None:
    result, out_dir = run_cli(stale_night(), tmp_path, "--fail-on-hold-rate", limit)
    assert result.exit_code == EXIT_BAD_INPUT
    assert not out_dir.exists()


def python_run(drop: Drop, tmp_path: Path, **extra: Any) -> RunResult:
    config_path = tmp_path / "reconcile.toml"
    config_path.write_text(CONTACT_OFF, encoding="utf-8")
    return run(drop.write(tmp_path / "in"), tmp_path / "out", as_of=AS_OF,
               settings=load_settings(config_path, None), **extra)


@pytest.mark.slow
def test_the_policy_is_a_library_function(tmp_path: Path) -> None:
    started: list[str] = []
    result = python_run(stale_night(), tmp_path, on_start=started.append)
    assert started == [result.run_id]
    assert result.nothing_to_send and result.hold_rate == 1.0
    assert nothing_to_send_warning(result) is not None
    assert ExitPolicy().breach(result) is None and ExitPolicy().exit_code(result) == EXIT_OK
    breach = ExitPolicy(fail_on_hold_rate=0.5).breach(result)
    assert breach is not None and breach.exit_code == EXIT_HOLD_RATE
    # A library message names the parameter, never a command-line flag.
    assert str(breach) == ("fail_on_hold_rate: hold rate 100.0% is above 50.0% "
                           "(outputs were written)")
    both = ExitPolicy(fail_on_hold_rate=0.5, fail_on_empty_send=True)
    assert both.exit_code(result) == EXIT_NOTHING_TO_SEND
    blocked = ExitPolicy(fail_on_block_rate=0.0).exit_code(result)
    assert blocked == EXIT_OK  # nothing blocked


@pytest.mark.slow
def test_block_rate_comes_before_hold_rate(tmp_path: Path) -> None:
    result = python_run(mixed_night(), tmp_path)  # 1 send, 3 blocked
    policy = ExitPolicy(fail_on_block_rate=0.5, fail_on_hold_rate=-1.0)
    breach = policy.breach(result)
    assert breach is not None and breach.exit_code == EXIT_BLOCK_RATE
    assert breach.message == ("block rate 75.0% is above 50.0%; also hold rate 0.0% is "
                              "above -100.0% (outputs were written)")


# ---------------------------------------------------------------------------------------
# --as-of: a date alone says which instant to write


@pytest.mark.parametrize(("timezone", "day", "instant"), [
    ("Asia/Shanghai", "2026-11-23", "2026-11-23T00:00:00+08:00"),
    ("America/New_York", "2026-11-23", "2026-11-23T00:00:00-05:00"),
    ("America/New_York", "2026-07-01", "2026-07-01T00:00:00-04:00"),
    ("Asia/Kathmandu", "2026-11-23", "2026-11-23T00:00:00+05:45"),
])
def test_a_date_only_as_of_says_what_to_write(tmp_path: Path, timezone: str, day: str,
                                              instant: str) -> None:
    data_dir = mixed_night().write(tmp_path / "in")
    config_path = tmp_path / "reconcile.toml"
    config_path.write_text(f'timezone = "{timezone}"\n', encoding="utf-8")
    result = invoke("run", data_dir, "--out", tmp_path / "out", "--as-of", day,
                    "--config", config_path)
    assert result.exit_code == EXIT_BAD_INPUT
    assert result.stderr.strip() == (
        f"reconcile: error: --as-of: '{day}' is a date, not an instant: write {instant} for "
        f"the start of that day in {timezone}")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------
# --log-format json: every stderr line one JSON object


def assert_local_time(stamp: str, timezone: str) -> None:
    assert ISO_INSTANT.match(stamp), stamp
    instant = dt.datetime.fromisoformat(stamp)
    assert instant.utcoffset() == instant.astimezone(ZoneInfo(timezone)).utcoffset(), stamp


@pytest.mark.slow
def test_json_logs_start_with_the_run_id_and_end_finished(tmp_path: Path) -> None:
    result, out_dir = run_cli(stale_night(), tmp_path, "--log-format", "json", "-q")
    assert result.exit_code == EXIT_OK, result.output
    assert result.stdout == ""
    lines = json_lines(result.stderr)
    start, finished = lines[0], lines[-1]
    run_id = summary(out_dir)["run_id"]
    assert start["event"] == "start" and start["run_id"] == run_id
    assert start["as_of"] == AS_OF
    assert start["data_dir"].endswith("in_csv") and start["out_dir"] == str(out_dir)
    assert {"reconcile_version", "pid", "host"} <= set(start)
    assert [line["event"] for line in lines] == [
        "start", "stage", "stage", "stage", "warning", "warning", "finished"]
    warnings = [line["message"] for line in lines if line["event"] == "warning"]
    assert warnings[0].startswith("STALE_FEED holds 4 messages: ")
    assert warnings[-1].startswith("nothing to send: none of the 4 messages")
    assert finished["nothing_to_send"] is True and finished["as_of"] == AS_OF
    assert {line["run_id"] for line in lines} == {run_id}
    for line in lines:
        assert_local_time(line["time"], "Asia/Shanghai")


@pytest.mark.slow
def test_json_policy_exit_is_an_error_event(tmp_path: Path) -> None:
    result, _ = run_cli(stale_night(), tmp_path, "--log-format", "json", "-q",
                        "--fail-on-empty-send")
    assert result.exit_code == EXIT_NOTHING_TO_SEND
    lines = json_lines(result.stderr)
    assert lines[0]["event"] == "start" and lines[-2]["event"] == "finished"
    error = lines[-1]
    assert error["event"] == "error" and error["exit_code"] == EXIT_NOTHING_TO_SEND
    assert error["message"].startswith("--fail-on-empty-send: nothing to send:")
    assert error["run_id"] == lines[0]["run_id"]


def test_json_bad_input_is_one_error_event(tmp_path: Path) -> None:
    result = invoke("run", tmp_path / "missing", "--out", tmp_path / "out", "--as-of", AS_OF,
                    "--log-format", "json")
    assert result.exit_code == EXIT_BAD_INPUT
    (error,) = json_lines(result.stderr)
    assert error["event"] == "error" and error["exit_code"] == EXIT_BAD_INPUT
    assert error["message"].endswith("missing: no such folder")
    assert ISO_INSTANT.match(error["time"])


def test_json_bad_as_of_comes_after_the_start_event(tmp_path: Path) -> None:
    data_dir = mixed_night().write(tmp_path / "in")
    result = invoke("run", data_dir, "--out", tmp_path / "out", "--as-of", "2026-11-23",
                    "--log-format", "json")
    assert result.exit_code == EXIT_BAD_INPUT
    start, error = json_lines(result.stderr)
    assert start["event"] == "start" and start["as_of"] == "2026-11-23"
    assert error["exit_code"] == EXIT_BAD_INPUT and error["run_id"] == start["run_id"]
    assert error["message"] == ("--as-of: '2026-11-23' is a date, not an instant: write "
                                "2026-11-23T00:00:00+08:00 for the start of that day in "
                                "Asia/Shanghai")


@pytest.mark.parametrize("args", [["--log-format", "json"], ["--log-format=json"]])
def test_json_unusable_option_is_an_error_event(tmp_path: Path, args: list[str]) -> None:
    data_dir = mixed_night().write(tmp_path / "in")
    result = invoke("run", data_dir, "--out", tmp_path / "out", *args,
                    "--fail-on-hold-rate", "2")
    assert result.exit_code == EXIT_BAD_INPUT
    (error,) = json_lines(result.stderr)
    assert error["event"] == "error" and error["exit_code"] == EXIT_BAD_INPUT
    assert "--fail-on-hold-rate" in error["message"]


def test_json_lock_refusal_is_an_error_event(tmp_path: Path) -> None:
    data_dir = mixed_night().write(tmp_path / "in")
    db = tmp_path / "history.duckdb"
    with locks.exclusive(db.with_name(db.name + ".lock"), "other-run", "history"):
        result = invoke("run", data_dir, "--out", tmp_path / "out", "--as-of", AS_OF,
                        "--db", db, "--log-format", "json")
    assert result.exit_code == EXIT_LOCKED
    lines = json_lines(result.stderr)
    assert lines[0]["event"] == "start"
    assert lines[-1]["event"] == "error" and lines[-1]["exit_code"] == EXIT_LOCKED
    assert "in use by run other-run" in lines[-1]["message"]


def test_json_interrupt_is_an_error_event(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: object, on_start: Any = None, **__: object) -> RunResult:
        on_start("20261123T000000Z-abcdef")
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run", interrupted)
    data_dir = mixed_night().write(tmp_path / "in")
    result = invoke("run", data_dir, "--out", tmp_path / "out", "--log-format", "json")
    assert result.exit_code == EXIT_INTERRUPTED
    start, error = json_lines(result.stderr)
    assert start["as_of"] is None  # not given: the run's start
    assert error == {"time": error["time"], "event": "error",
                     "run_id": "20261123T000000Z-abcdef", "exit_code": EXIT_INTERRUPTED,
                     "message": "interrupted; no output was written"}


def test_text_errors_stay_plain(tmp_path: Path) -> None:
    result = invoke("run", tmp_path / "missing", "--out", tmp_path / "out", "--as-of", AS_OF)
    assert result.exit_code == EXIT_BAD_INPUT
    assert result.stderr.startswith("reconcile: error: ")


# ---------------------------------------------------------------------------------------
# ISO 8601 instants in the run's time zone: summary.json, findings.csv, the split files


def timestamp_night() -> Drop:
    """Instants in November and July (on both sides of a DST change in New York), one
    with a fractional second."""
    drop = Drop().loan("L1").installment("L1", 1, "2026-11-10", "100.00",
                                         updated_at="2026-07-01T12:00:00+08:00")
    drop.payment("P1", "L1", "1.00", posted_at="2026-11-22T20:00:00+08:00")
    drop.message("M1", rule_evaluated_at="2026-11-22T22:00:00.5+08:00")
    drop.message("M2", scheduled_at="2026-07-23T09:00:00+08:00")
    return drop


# timezone: (M1 rule_evaluated_at, M1 scheduled_at, M2 scheduled_at, as_of)
PRINTED = {
    "Asia/Shanghai": ("2026-11-22T22:00:00.5+08:00", "2026-11-23T09:00:00+08:00",
                      "2026-07-23T09:00:00+08:00", "2026-11-23T02:00:00+08:00"),
    "America/New_York": ("2026-11-22T09:00:00.5-05:00", "2026-11-22T20:00:00-05:00",
                         "2026-07-22T21:00:00-04:00", "2026-11-22T13:00:00-05:00"),
    "Asia/Kathmandu": ("2026-11-22T19:45:00.5+05:45", "2026-11-23T06:45:00+05:45",
                       "2026-07-23T06:45:00+05:45", "2026-11-22T23:45:00+05:45"),
}


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("timezone", list(PRINTED))
def test_instants_are_iso_8601_in_the_run_time_zone(tmp_path: Path, timezone: str,
                                                    fmt: str) -> None:
    config = disabled_config(*CONTACT_POLICY_FLAGS, *FEED_FLAGS) + f'timezone = "{timezone}"\n'
    result, out_dir = run_cli(timestamp_night(), tmp_path, "-q", config=config, fmt=fmt)
    assert result.exit_code == EXIT_OK, result.output
    rule_evaluated, scheduled, july, as_of = PRINTED[timezone]
    rows = {row["message_id"]: row for row in read_csv_rows(out_dir / "findings.csv")}
    assert rows["M1"]["rule_evaluated_at"] == rule_evaluated
    assert rows["M1"]["scheduled_at"] == scheduled
    assert rows["M2"]["scheduled_at"] == july
    for row in rows.values():
        assert ISO_INSTANT.match(row["last_ledger_change_at"]), row
    facts = summary(out_dir)
    assert facts["as_of"] == as_of
    assert_local_time(facts["started_at"], timezone)
    if fmt == "parquet":  # typed instants in the drop are printed by reconcile too
        split = [row for outcome in ("send", "hold", "block", "rejected")
                 for row in read_csv_rows(out_dir / f"{outcome}.csv")]
        assert sorted(row["scheduled_at"] for row in split) == sorted([scheduled, july])


@pytest.mark.parametrize("timezone", ["Asia/Shanghai", "America/New_York", "Asia/Kathmandu",
                                      "America/St_Johns", "UTC"])
@pytest.mark.parametrize("values", [
    ["2026-11-23 01:00:00+08"],  # one offset: the fast path
    ["2026-11-23 01:00:00.5+08", "2026-07-23 01:00:00.123456+08", None],  # both sides of DST
    ["1800-07-23 01:00:00+08", "2026-11-23 01:00:00+08"],  # local mean time: seconds offset
    ["infinity", "2026-11-23 01:00:00+08"],
])
def test_both_csv_paths_print_what_iso_text_prints(timezone: str,
                                                    values: list[str | None]) -> None:
    """writer prints TIMESTAMPTZ as DuckDB does, rewritten by timestamps.iso_text, whether
    it takes its fixed-offset fast path or prints through ICU."""
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{timezone}'")
    con.execute("CREATE TABLE t (id INTEGER, stamp TIMESTAMPTZ)")
    con.executemany("INSERT INTO t VALUES (?, CAST(? AS TIMESTAMPTZ))",
                    [[i, v] for i, v in enumerate(values)])
    printed = writer._csv_values(con, "t", ("id", "stamp"))
    rows = con.execute(f"SELECT {printed['stamp']}, CAST(stamp AS VARCHAR) FROM t ORDER BY id")
    for iso, duckdb_text in rows.fetchall():
        assert iso == (None if duckdb_text is None else iso_text(duckdb_text))
        if duckdb_text not in (None, "infinity") and "BC" not in duckdb_text:
            assert "T" in iso and re.search(r"[+-]\d{2}:\d{2}(:\d{2})?$", iso), iso


@pytest.mark.parametrize(("duckdb_text", "iso"), [
    ("2026-11-23 01:00:00+08", "2026-11-23T01:00:00+08:00"),
    ("2026-11-23 01:00:00.5+08", "2026-11-23T01:00:00.5+08:00"),
    ("2026-11-22 22:45:00+05:45", "2026-11-22T22:45:00+05:45"),
    ("2026-11-22 13:30:00-03:30", "2026-11-22T13:30:00-03:30"),
    ("1800-07-23 01:05:43+08:05:43", "1800-07-23T01:05:43+08:05:43"),
    ("infinity", "infinity"),
    ("2026-11-23T01:00:00+08:00", "2026-11-23T01:00:00+08:00"),  # already ISO
])
def test_iso_text(duckdb_text: str, iso: str) -> None:
    assert iso_text(duckdb_text) == iso
