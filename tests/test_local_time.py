"""Naive timestamps that a clock change makes no instant (issue 10, section 3).

A naive timestamp is wall time in the configured `timezone`. Where clocks go forward, some
wall times never happen (America/New_York, 2026-03-08 02:00-03:00); where they go back, some
happen twice (2026-11-01 01:00-02:00). Neither names one instant, so neither is a usable
timestamp: a send_batch row with one is `rejected`, a ledger row with one is unusable (its
loan LEDGER_INVALID), any other table's row is unusable, and a naive --as-of with one is
exit 2. docs/interpretations.md, "Text shapes".
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from drops import LEDGER_ONLY_CONFIG, Drop, invoke, read_csv_rows, result, run_drop

from reconcile.errors import EXIT_BAD_INPUT
from reconcile.synth.reference import Settings, parse_timestamp, reference

AS_OF = "2026-11-23T02:00:00+08:00"
NEW_YORK = 'timezone = "America/New_York"\n'
SKIPPED = "2026-03-08 02:30:00"  # clocks went from 02:00 EST to 03:00 EDT
REPEATED = "2026-11-01 01:30:00"  # 01:00-02:00 happened in EDT, then again in EST
SKIPPED_REASON = "does not exist in America/New_York (skipped when clocks went forward)"
REPEATED_REASON = ("is ambiguous in America/New_York (repeated when clocks went back); "
                   "give an offset")

# A collection message on L1 (100.00 due 2026-11-01): with s = 2026-11-23T09:00+08:00,
# d(s) in New York is 2026-11-22, 21 days past due.
OVERDUE_SEND = ("send", "", "100.00", "21")
LEDGER_INVALID_HOLD = ("hold", "LEDGER_INVALID", "", "")


def two_loans() -> Drop:
    """L1 and L2, each owing 100.00 due 2026-11-01; M1 on L1 and M2 on L2."""
    drop = Drop()
    for loan_id in ("L1", "L2"):
        drop.loan(loan_id).installment(loan_id, 1, "2026-11-01", "100.00")
    return drop.message("M1").message("M2", loan_id="L2")


def oracle(drop: Drop, timezone: str = "America/New_York",
           **settings: object) -> dict[str, tuple[str, str]]:
    findings = reference(drop, dt.datetime.fromisoformat(AS_OF),
                         Settings(timezone=timezone, **settings))  # type: ignore[arg-type]
    return {str(f.message_id): (f.verdict, ";".join(f.flags)) for f in findings}


# --------------------------------------------------------------------------- send_batch


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        pytest.param("scheduled_at", SKIPPED, SKIPPED_REASON, id="scheduled_at-skipped"),
        pytest.param("scheduled_at", REPEATED, REPEATED_REASON, id="scheduled_at-repeated"),
        pytest.param("rule_evaluated_at", SKIPPED, SKIPPED_REASON, id="rule_evaluated-skipped"),
        pytest.param("rule_evaluated_at", REPEATED, REPEATED_REASON,
                     id="rule_evaluated-repeated"),
    ],
)
def test_a_message_at_a_skipped_or_repeated_wall_time_is_rejected(
        tmp_path: Path, fmt: str, column: str, value: str, reason: str) -> None:
    """Every value of the column is naive, so Parquet carries it as a typed naive TIMESTAMP."""
    drop = Drop()
    for loan_id in ("L1", "L2"):
        drop.loan(loan_id).installment(loan_id, 1, "2026-11-01", "100.00")
    stamps = {"rule_evaluated_at": "2026-11-22 08:00:00", "scheduled_at": "2026-11-22 20:00:00"}
    drop.message("M1", **stamps)
    drop.message("M2", loan_id="L2", **(stamps | {column: value}))
    findings = run_drop(drop, tmp_path, fmt=fmt, config=NEW_YORK)
    assert result(findings["M1"]) == OVERDUE_SEND
    assert findings["M2"]["verdict"] == "rejected"
    assert findings["M2"]["reason"] == f"{column} '{value}' {reason}"
    assert oracle(drop)["M2"] == ("rejected", "")


@pytest.mark.slow
def test_the_wall_times_just_around_a_change_are_instants(tmp_path: Path) -> None:
    drop = Drop().loan("L1").installment("L1", 1, "2026-11-01", "100.00")
    around = {"M1": "2026-03-08 01:59:59", "M2": "2026-03-08 03:00:00",
              "M3": "2026-11-01 00:59:59", "M4": "2026-11-01 02:00:00",
              "M5": "2026-03-08 02:00:00", "M6": "2026-11-01 01:00:00"}
    for message_id, stamp in around.items():
        drop.message(message_id, rule_evaluated_at=stamp)
    findings = run_drop(drop, tmp_path, config=NEW_YORK + "max_rule_age_hours = 100000\n")
    verdicts = {m: findings[m]["verdict"] for m in around}
    assert verdicts == {"M1": "send", "M2": "send", "M3": "send", "M4": "send",
                        "M5": "rejected", "M6": "rejected"}
    labels = oracle(drop, max_rule_age_hours=Decimal(100000))
    # (The oracle runs the contact checks too: only whether it rejects is compared.)
    assert {m: labels[m][0] == "rejected" for m in around} == {
        m: v == "rejected" for m, v in verdicts.items()}


@pytest.mark.slow
def test_an_offset_makes_a_repeated_wall_time_one_instant(tmp_path: Path) -> None:
    drop = two_loans()
    drop.tables["send_batch"][1]["rule_evaluated_at"] = "2026-11-01T01:30:00-05:00"
    findings = run_drop(drop, tmp_path, config=NEW_YORK)
    assert findings["M2"]["verdict"] == "hold"  # 3 weeks old: STALE_DATA, not rejected
    assert findings["M2"]["flags"] == "STALE_DATA"


@pytest.mark.slow
def test_the_default_zone_had_clock_changes_too(tmp_path: Path) -> None:
    """Asia/Shanghai kept daylight-saving time 1986-1991: 1988-04-17 02:30 never happened
    there, and 1988-09-11 01:30 happened twice."""
    drop = two_loans()
    drop.tables["send_batch"][0]["rule_evaluated_at"] = "1988-04-17 02:30:00"
    drop.tables["send_batch"][1]["rule_evaluated_at"] = "1988-09-11 01:30:00"
    findings = run_drop(drop, tmp_path)
    assert findings["M1"]["reason"] == (
        "rule_evaluated_at '1988-04-17 02:30:00' does not exist in Asia/Shanghai "
        "(skipped when clocks went forward)")
    assert findings["M2"]["reason"].startswith(
        "rule_evaluated_at '1988-09-11 01:30:00' is ambiguous in Asia/Shanghai")
    assert oracle(drop, "Asia/Shanghai") == {"M1": ("rejected", ""), "M2": ("rejected", "")}


# --------------------------------------------------------------------------- the ledger


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize(
    ("table", "column", "value", "reason"),
    [
        pytest.param("payments", "posted_at", SKIPPED, SKIPPED_REASON, id="posted_at-skipped"),
        pytest.param("payments", "paid_at", REPEATED, REPEATED_REASON, id="paid_at-repeated"),
        pytest.param("installments", "updated_at", REPEATED, REPEATED_REASON,
                     id="updated_at-repeated"),
    ],
)
def test_a_ledger_row_at_a_skipped_or_repeated_wall_time_makes_its_loan_invalid(
        tmp_path: Path, fmt: str, table: str, column: str, value: str, reason: str) -> None:
    drop = two_loans()
    if table == "payments":
        stamps = {"posted_at": "2026-10-01 09:00:00", "paid_at": "2026-10-01 09:00:00"}
        drop.payment("P1", "L1", "10.00", **stamps)
        drop.payment("P2", "L2", "10.00", **(stamps | {column: value}))
    else:
        for row in drop.tables["installments"]:
            row["updated_at"] = "2026-10-01 09:00:00"
        drop.tables["installments"][1]["updated_at"] = value
    findings = run_drop(drop, tmp_path, fmt=fmt, config=NEW_YORK)
    paid = "90.00" if table == "payments" else "100.00"
    assert result(findings["M1"]) == ("send", "", paid, "21")
    assert result(findings["M2"]) == LEDGER_INVALID_HOLD
    assert findings["M2"]["reason"] == (
        f"LEDGER_INVALID: {table}.{fmt} row 2: {column} '{value}' {reason}")
    issues = read_csv_rows(tmp_path / f"out_{fmt}" / "input_issues.csv")
    assert [(i["table"], i["loan_id"], i["reason"]) for i in issues] == [
        (table, "L2", f"{column} '{value}' {reason}")]
    assert oracle(drop)["M2"] == ("hold", "LEDGER_INVALID")


# --------------------------------------------------------------------------- other tables


@pytest.mark.slow
def test_a_contact_flag_at_a_skipped_wall_time_is_an_unusable_row(tmp_path: Path) -> None:
    drop = two_loans()
    drop.tables["send_batch"][1]["borrower_id"] = "B2"
    drop.tables["loans"][1]["borrower_id"] = "B2"
    data_dir = drop.write(tmp_path / "in")
    with (data_dir / "contact_flags.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["borrower_id", "flag", "since", "until"])
        writer.writerow(["B2", "opted_out", SKIPPED, ""])
    config = tmp_path / "reconcile.toml"
    config.write_text(NEW_YORK, encoding="utf-8")
    out = tmp_path / "out"
    run = invoke("run", str(data_dir), "--out", str(out), "--as-of", AS_OF,
                 "--config", str(config), "-q")
    assert run.exit_code == 0, run.output
    findings = {r["message_id"]: r for r in read_csv_rows(out / "findings.csv")}
    # (Only CONTACT_DATA_INVALID is asserted: every other check runs on this drop too.)
    assert "CONTACT_DATA_INVALID" not in findings["M1"]["flags"].split(";")
    assert "CONTACT_DATA_INVALID" in findings["M2"]["flags"].split(";")
    assert (f"CONTACT_DATA_INVALID: contact_flags.csv row 1: since '{SKIPPED}' {SKIPPED_REASON}"
            in findings["M2"]["reason"])


# --------------------------------------------------------------------------- --as-of


@pytest.mark.parametrize(("as_of", "reason"), [(SKIPPED, SKIPPED_REASON),
                                               (REPEATED, REPEATED_REASON)])
def test_a_naive_as_of_at_a_skipped_or_repeated_wall_time_is_exit_2(
        tmp_path: Path, as_of: str, reason: str) -> None:
    data_dir = two_loans().write(tmp_path / "in")
    config = tmp_path / "reconcile.toml"
    config.write_text(LEDGER_ONLY_CONFIG + NEW_YORK, encoding="utf-8")
    run = invoke("run", str(data_dir), "--out", str(tmp_path / "out"), "--as-of", as_of,
                 "--config", str(config))
    assert run.exit_code == EXIT_BAD_INPUT, run.output
    assert run.stderr.strip() == f"reconcile: error: --as-of: {as_of!r} {reason}"
    assert not (tmp_path / "out").exists()


def test_the_oracle_reads_no_instant_from_a_skipped_or_repeated_wall_time() -> None:
    zone = ZoneInfo("America/New_York")
    assert parse_timestamp(SKIPPED, zone) is None
    assert parse_timestamp(REPEATED, zone) is None
    assert parse_timestamp("2026-11-01 02:00:00", zone) == dt.datetime(
        2026, 11, 1, 7, tzinfo=dt.UTC)
