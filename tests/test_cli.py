"""The command line as a scheduler sees it: exit codes, one-line errors, all-or-nothing output."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from drops import Drop, invoke, read_csv_rows

from reconcile.checks import FLAGS
from reconcile.errors import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK
from reconcile.nightly import writer
from reconcile.nightly.out_dir import OUTPUT_INSIDE, OutputClaim
from reconcile.schema import FINDINGS_COLUMNS, FINDINGS_PARQUET_COLUMNS, OUTCOMES

AS_OF = "2026-11-23T02:00:00+08:00"
OUTPUT_FILES = {
    "findings.csv", "findings.parquet", "send.csv", "hold.csv", "block.csv", "rejected.csv",
    "input_issues.csv", "summary.json", "reconcile-manifest.json",
}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Four messages: one to send, one paid (block), one unknown loan (block), one rejected."""
    drop = Drop().loan("L1").installment("L1", 1, "2026-11-01", "100.00")
    drop.loan("L2", "B2").installment("L2", 1, "2026-11-01", "80.00")
    # Paid the morning before the run: a payment feed that is up to date (STALE_FEED).
    drop.payment("P1", "L2", "80.00", posted_at="2026-11-22T10:00:00+08:00")
    drop.message("M1").message("M2", loan_id="L2", borrower_id="B2").message("M3", loan_id="LX")
    drop.message("M4", scheduled_at="not a time")
    return drop.write(tmp_path / "in")


def run_cli(data_dir: Path, out_dir: Path, *extra: str):  # type: ignore[no-untyped-def]
    return invoke("run", data_dir, "--out", out_dir, "--as-of", AS_OF, *extra)


def test_run_prints_a_summary_and_exits_0(data_dir: Path, tmp_path: Path) -> None:
    result = run_cli(data_dir, tmp_path / "out")
    assert result.exit_code == EXIT_OK, result.output
    assert "4 messages: send 1 (25.0%)  hold 0 (0.0%)  block 2 (50.0%)  rejected 1" in result.stdout
    assert "NOT_OVERDUE" in result.stdout and "UNKNOWN_LOAN" in result.stdout
    assert result.stderr == ""
    assert {p.name for p in (tmp_path / "out").iterdir()} == OUTPUT_FILES


@pytest.mark.slow
def test_quiet_prints_nothing(data_dir: Path, tmp_path: Path) -> None:
    result = run_cli(data_dir, tmp_path / "out", "--quiet")
    assert result.exit_code == EXIT_OK, result.output
    assert result.output == ""


@pytest.mark.slow
def test_summary_json(data_dir: Path, tmp_path: Path) -> None:
    assert run_cli(data_dir, tmp_path / "out").exit_code == EXIT_OK
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["as_of"] == "2026-11-23T02:00:00+08:00"
    assert summary["verdicts"] == {"send": 1, "hold": 0, "block": 2, "rejected": 1}
    assert set(summary["flags"]) == set(FLAGS)
    assert summary["flags"]["NOT_OVERDUE"] == 1 and summary["flags"]["UNKNOWN_LOAN"] == 1
    assert summary["inputs"]["send_batch"]["rows"] == 4
    assert summary["inputs"]["rules"]["file"] == "rules.csv"
    assert len(summary["inputs"]["payments"]["sha256"]) == 64
    assert summary["run_id"] and summary["duration_seconds"] >= 0
    assert summary["settings"]["min_overdue_amount"] == "0.01"


@pytest.mark.slow
def test_findings_csv_and_parquet_agree(data_dir: Path, tmp_path: Path) -> None:
    assert run_cli(data_dir, tmp_path / "out").exit_code == EXIT_OK
    csv_rows = read_csv_rows(tmp_path / "out" / "findings.csv")
    parquet = pl.read_parquet(tmp_path / "out" / "findings.parquet")
    assert list(csv_rows[0]) == list(FINDINGS_COLUMNS)
    assert parquet.columns == list(FINDINGS_PARQUET_COLUMNS) == [*FINDINGS_COLUMNS, "details"]
    assert [r["message_id"] for r in csv_rows] == parquet["message_id"].to_list()
    assert [r["flags"] for r in csv_rows] == [";".join(f) for f in parquet["flags"].to_list()]
    # details is the evidence reason spells out: one {flag, detail} per flag, in order.
    for row, details in zip(csv_rows, parquet["details"].to_list(), strict=True):
        assert [d["flag"] for d in details] == (row["flags"].split(";") if row["flags"] else [])
        if details:
            assert row["reason"] == "; ".join(f"{d['flag']}: {d['detail']}" for d in details)
    assert [r["verdict"] for r in csv_rows] == parquet["verdict"].to_list()
    assert [r["overdue_amount"] for r in csv_rows] == [
        "" if v is None else f"{v:.2f}" for v in parquet["overdue_amount"].to_list()]


@pytest.mark.slow
def test_split_files_hold_every_row_once(data_dir: Path, tmp_path: Path) -> None:
    assert run_cli(data_dir, tmp_path / "out").exit_code == EXIT_OK
    original = read_csv_rows(data_dir / "send_batch.csv")
    split = {o: read_csv_rows(tmp_path / "out" / f"{o}.csv") for o in OUTCOMES}
    assert sorted(r["message_id"] for rows in split.values() for r in rows) == sorted(
        r["message_id"] for r in original)
    assert split["send"] == [original[0]]  # the dispatcher gets the original row, untouched
    header = (data_dir / "send_batch.csv").read_text().splitlines()[0]
    for outcome in OUTCOMES:
        assert (tmp_path / "out" / f"{outcome}.csv").read_text().splitlines()[0] == header


@pytest.mark.slow
def test_rerun_replaces_the_whole_output(data_dir: Path, tmp_path: Path) -> None:
    """An earlier run's output is replaced; one with a file someone added is not (exit 2,
    tests/test_out_dir.py). The lock file `.out.lock` stays beside it."""
    out = tmp_path / "out"
    assert run_cli(data_dir, out).exit_code == EXIT_OK
    first = (out / "findings.csv").read_bytes()
    (out / "findings.csv").write_bytes(b"x" * len(first))  # same size: still replaced
    assert run_cli(data_dir, out).exit_code == EXIT_OK
    assert (out / "findings.csv").read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "in", "out"]


@pytest.mark.slow
def test_crash_while_writing_leaves_previous_output(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert run_cli(data_dir, out).exit_code == EXIT_OK
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def explode(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer, "write_summary", explode)
    result = run_cli(data_dir, out)
    assert result.exit_code == EXIT_FAILURE
    assert "No space left on device" in result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "in", "out"]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_an_input_replaced_during_the_run_is_exit_2_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    drop = Drop().loan("L1").installment("L1", 1, "2026-11-01", "100.00").message("M1")
    data_dir = drop.write(tmp_path / "in", fmt)
    out = tmp_path / "out"
    assert run_cli(data_dir, out).exit_code == EXIT_OK
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    write_tables = writer.write_tables

    def write_while_the_drop_is_replaced(*args: object) -> None:
        write_tables(*args)  # type: ignore[arg-type]
        # A delivery job replacing the file by a new one (same bytes, new inode).
        installments = data_dir / f"installments.{fmt}"
        replacement = installments.with_suffix(".new")
        replacement.write_bytes(installments.read_bytes())
        replacement.replace(installments)

    monkeypatch.setattr(writer, "write_tables", write_while_the_drop_is_replaced)
    result = run_cli(data_dir, out)
    assert result.exit_code == EXIT_BAD_INPUT
    assert f"installments.{fmt}: changed while it was being reconciled" in result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_refuses_to_replace_a_foreign_folder(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    (out / "q3.xlsx").write_text("someone's work")
    result = run_cli(data_dir, out)
    assert result.exit_code == EXIT_BAD_INPUT
    assert "not empty" in result.stderr
    assert (out / "q3.xlsx").read_text() == "someone's work"


def test_out_is_a_file(data_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "out").write_text("x")
    result = run_cli(data_dir, tmp_path / "out")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "not a folder" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("as_of", "instant"),
    [("2026-11-23T02:00:00+08:00", "2026-11-23T02:00:00+08:00"),
     ("2026-11-22T18:00:00Z", "2026-11-23T02:00:00+08:00"),
     ("2026-11-23 02:00:00", "2026-11-23T02:00:00+08:00"),
     ("2026-11-23T02:00", "2026-11-23T02:00:00+08:00")],
)
def test_as_of_forms(data_dir: Path, tmp_path: Path, as_of: str, instant: str) -> None:
    result = invoke("run", data_dir, "--out", tmp_path / "out", "--as-of", as_of, "-q")
    assert result.exit_code == EXIT_OK, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["as_of"] == instant


@pytest.mark.parametrize("as_of", ["yesterday", "2026-11-23", "2026-13-01T00:00:00"])
def test_bad_as_of_is_exit_2(data_dir: Path, tmp_path: Path, as_of: str) -> None:
    result = invoke("run", data_dir, "--out", tmp_path / "out", "--as-of", as_of)
    assert result.exit_code == EXIT_BAD_INPUT
    if as_of == "2026-11-23":  # a date alone: the message says which instant to write
        assert result.stderr.strip() == (
            "reconcile: error: --as-of: '2026-11-23' is a date, not an instant: write "
            "2026-11-23T00:00:00+08:00 for the start of that day in Asia/Shanghai")
        return
    assert result.stderr.strip() == (
        f"reconcile: error: --as-of: {as_of!r} is not a timestamp "
        "(ISO 8601, e.g. 2026-11-23T02:00:00+08:00)")


BAD_CONFIGS = [
    ("grace_day = 3\n", "unknown setting 'grace_day'"),
    ("grace_days = -1\n", "grace_days must be a whole number"),
    ("grace_days = 1.5\n", "grace_days must be a whole number"),
    ("min_overdue_amount = 0\n", "min_overdue_amount must be at least 0.01"),
    ("amount_tolerance = 0.001\n", "more than 2 decimal places"),
    ("amount_tolerance = \"lots\"\n", "amount_tolerance must be a number"),
    ("timezone = \"Mars/Olympus\"\n", "timezone 'Mars/Olympus' is not a known IANA time zone"),
    ("[verdicts]\nSTALE = \"block\"\n", "unknown flag 'STALE'"),
    ("[verdicts]\nSTALE_DATA = \"drop\"\n", "'drop' is not one of send, hold, block"),
    ("timezone = \n", "not valid TOML"),
    ("memory_limit = \"lots\"\n", "resource setting refused by DuckDB"),
    ("threads = -2\n", "threads must be a whole number"),
]


@pytest.mark.parametrize(("text", "message"), BAD_CONFIGS)
def test_bad_config_is_exit_2(data_dir: Path, tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "reconcile.toml"
    config.write_text(text, encoding="utf-8")
    result = run_cli(data_dir, tmp_path / "out", "--config", config)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_config_file_is_exit_2(data_dir: Path, tmp_path: Path) -> None:
    result = run_cli(data_dir, tmp_path / "out", "--config", tmp_path / "nope.toml")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "cannot be read" in result.stderr


@pytest.mark.slow
def test_config_with_every_setting(data_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "reconcile.toml"
    config.write_text(
        'timezone = "UTC"\ngrace_days = 3\nmin_overdue_amount = "1.00"\n'
        "amount_tolerance = 0.05\ndpd_tolerance = 2\nmax_rule_age_hours = 12.5\n"
        # In UTC the messages are scheduled at 01:00: inside this window, so no QUIET_HOURS.
        'profile = "us_reg_f"\nallowed_hours_start = "00:30"\nallowed_hours_end = "24:00"\n'
        "max_messages_per_day = 2\nmax_messages_per_7_days = 9\n"
        'frequency_scope = "borrower"\nrequire_opt_out = false\nphone_country_code = "44"\n'
        'restricting_contact_flags = ["deceased"]\nprohibited_terms = ["bailiff"]\n'
        'prohibited_term_exceptions = ["bailiffs act"]\nopt_out_phrases = ["stop"]\n'
        'disabled_checks = ["NAME_MISMATCH"]\n'
        '[verdicts]\nUNKNOWN_LOAN = "hold"\n', encoding="utf-8")
    result = run_cli(data_dir, tmp_path / "out", "--config", config, "-q")
    assert result.exit_code == EXIT_OK, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    settings = summary["settings"]
    assert settings["timezone"] == "UTC" and settings["grace_days"] == 3
    assert settings["min_overdue_amount"] == "1.00" and settings["amount_tolerance"] == "0.05"
    assert settings["dpd_tolerance"] == 2 and settings["max_rule_age_hours"] == "12.5"
    assert settings["verdicts"]["UNKNOWN_LOAN"] == "hold"
    assert settings["profile"] == "us_reg_f" and settings["frequency_scope"] == "borrower"
    assert (settings["allowed_hours_start"], settings["allowed_hours_end"]) == ("00:30", "24:00")
    assert (settings["max_messages_per_day"], settings["max_messages_per_7_days"]) == (2, 9)
    assert settings["require_opt_out"] is False and settings["phone_country_code"] == "44"
    assert settings["restricting_contact_flags"] == ["deceased"]
    assert settings["prohibited_terms"] == ["bailiff"]
    assert settings["prohibited_term_exceptions"] == ["bailiffs act"]
    assert settings["opt_out_phrases"] == ["stop"]
    assert summary["skipped_checks"]["NAME_MISMATCH"] == "off: disabled_checks"
    assert summary["verdicts"] == {"send": 1, "hold": 1, "block": 1, "rejected": 1}


def test_unexpected_failure_is_exit_1_in_one_line(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("reconcile.cli.main.run", broken)
    result = run_cli(data_dir, tmp_path / "out")
    assert result.exit_code == EXIT_FAILURE
    assert result.stderr.strip().splitlines() == [
        "reconcile: error: unexpected RuntimeError: disk on fire "
        "(run again with --debug for a traceback)"]
    with pytest.raises(RuntimeError, match="disk on fire"):
        run_cli(data_dir, tmp_path / "out", "--debug")


def test_usage_errors_are_exit_2(tmp_path: Path) -> None:
    result = invoke("run", tmp_path)
    assert result.exit_code == EXIT_BAD_INPUT
    assert "--out" in result.output


def test_help_lists_every_option() -> None:
    result = invoke("run", "--help")
    assert result.exit_code == EXIT_OK
    for option in ("--out", "--as-of", "--config", "--quiet", "--debug"):
        assert option in result.output
    assert "2 unusable input" in result.output


@pytest.mark.slow
def test_a_killed_runs_leftovers_are_healed(data_dir: Path, tmp_path: Path) -> None:
    """Killed between its two renames, a run leaves the old output parked in its owned
    `.previous` and no out/; the next run puts it back before replacing it, and removes its
    half-written folders (more in tests/test_out_dir.py)."""
    out = tmp_path / "out"
    assert run_cli(data_dir, out).exit_code == EXIT_OK
    killed = OutputClaim(out.resolve(), "20261123T000000Z-aaaaaa")
    out.rename(killed.working_folder("previous") / OUTPUT_INSIDE)
    (killed.working_folder("partial") / OUTPUT_INSIDE).mkdir()
    (killed.spill_folder() / "duckdb_temp_storage-0.tmp").write_bytes(b"spilled")
    result = run_cli(data_dir, out)
    assert result.exit_code == EXIT_OK, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "in", "out"]
    assert (out / "findings.csv").exists()
