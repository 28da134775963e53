"""The night's feeds as a whole (docs/inputs.md): money no loan can take, tables that arrived
empty or short, a payment feed days behind, a rule that claims to have run after T.

Each case runs through the CLI, as the nightly job does, and reads the outputs it wrote.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from drops import LEDGER_ONLY_CONFIG, Drop, disabled_config, invoke, read_csv_rows

from reconcile.checks import CONTACT_POLICY_FLAGS
from reconcile.errors import EXIT_UNPLACED_PAYMENTS

# Every test here but one runs the CLI on a drop (about a second each). Left out by `pytest -m
# "not slow"`.
pytestmark = pytest.mark.slow

AS_OF = "2026-11-23T02:00:00+08:00"
# The contact checks are off: these drops send to one borrower several times.
CONTACT_OFF = disabled_config(*CONTACT_POLICY_FLAGS)


def night(payment_loan: str = "L1", amount: str = "3500.00") -> Drop:
    """L1 owes 3500.00 since 2026-11-10; one payment of it, posted the evening before; a
    collection message for L1 claiming 3500.00, and one for L2, which owes 700.00 after a
    part payment that morning."""
    drop = Drop()
    drop.loan("L1").installment("L1", 1, "2026-11-10", "3500.00")
    drop.loan("L2", borrower_id="B2").installment("L2", 1, "2026-11-01", "800.00")
    drop.payment("P1", payment_loan, amount, posted_at="2026-11-22T20:00:00+08:00")
    drop.payment("P0", "L2", "100.00", posted_at="2026-11-22T10:00:00+08:00")
    drop.message("M1", loan_id="L1", claimed_overdue_amount="3500.00")
    drop.message("M2", loan_id="L2", borrower_id="B2", claimed_overdue_amount="700.00")
    return drop


def run(drop: Drop, tmp_path: Path, config: str = "", *extra: str,
        fmt: str = "csv") -> tuple[object, Path]:
    data_dir = drop.write(tmp_path / f"drop_{fmt}", fmt)
    out_dir = tmp_path / "out"
    config_path = tmp_path / "reconcile.toml"
    config_path.write_text(CONTACT_OFF + config, encoding="utf-8")
    result = invoke("run", data_dir, "--out", out_dir, "--as-of", AS_OF,
                    "--config", config_path, *extra)
    return result, out_dir


def findings(out_dir: Path) -> dict[str, dict[str, str]]:
    return {row["message_id"]: row for row in read_csv_rows(out_dir / "findings.csv")}


def summary(out_dir: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((out_dir / "summary.json").read_text("utf-8"))
    return loaded


# ---------------------------------------------------------------------------------------
# Money that cannot be placed


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_padded_loan_id_on_a_payment_still_pays_the_loan(tmp_path: Path, fmt: str) -> None:
    """CHAR exports pad identifiers: 'L1   ' is L1, so the paid message is blocked."""
    result, out_dir = run(night(payment_loan="L1   "), tmp_path, fmt=fmt)
    assert result.exit_code == 0, result.output
    m1 = findings(out_dir)["M1"]
    assert (m1["verdict"], m1["flags"]) == ("block", "NOT_OVERDUE;RULE_MISMATCH")
    assert summary(out_dir)["unattributed_ledger_rows"] == 0


def test_a_payment_for_an_unknown_loan_is_listed_counted_warned_and_holds(
        tmp_path: Path) -> None:
    result, out_dir = run(night(payment_loan="L7"), tmp_path)
    assert result.exit_code == 0, result.output
    issues = read_csv_rows(out_dir / "input_issues.csv")
    assert [(i["table"], i["source_row"], i["loan_id"]) for i in issues] == [
        ("payments", "1", "L7")]
    assert "loan_id 'L7' is not in loans" in issues[0]["reason"]
    data = summary(out_dir)
    assert data["unattributed_ledger_rows"] == 1
    assert data["unplaced_payments"] == {
        "payments": 1, "amount": "3500.00",
        "first": ["payments row 1: settled P1 of 3500.00 for loan_id 'L7'"]}
    # First screen of the summary, and a warning on stderr.
    head = result.stdout.splitlines()[:3]
    assert any("ledger rows naming no loan of loans: 1 (payments 1)" in line for line in head)
    assert ("reconcile: warning: settled or pending payments that cannot be placed: 1, "
            "totalling 3500.00") in result.stderr
    # The message claiming the same amount is held, with the payment in its reason.
    by_id = findings(out_dir)
    assert (by_id["M1"]["verdict"], by_id["M1"]["flags"]) == ("hold", "UNPLACED_PAYMENT")
    assert "settled payment P1 of 3500.00 for loan_id 'L7', not in loans, has the same " \
           "claimed amount and ledger overdue amount" in by_id["M1"]["reason"]
    assert by_id["M2"]["verdict"] == "send"


def test_a_mistyped_loan_id_matches_the_loan_it_means(tmp_path: Path) -> None:
    """Case, punctuation and leading zeros aside, 'l-0001' is loan L1; the amount differs."""
    drop = night(payment_loan="l-01", amount="100.00")
    result, out_dir = run(drop, tmp_path)
    assert result.exit_code == 0, result.output
    by_id = findings(out_dir)
    assert by_id["M1"]["flags"] == "UNPLACED_PAYMENT"
    assert "has the same loan_id" in by_id["M1"]["reason"]
    assert by_id["M2"]["verdict"] == "send"


def test_a_payment_with_an_empty_loan_id_is_unplaced_money_too(tmp_path: Path) -> None:
    result, out_dir = run(night(payment_loan=" "), tmp_path)
    assert result.exit_code == 0, result.output
    assert findings(out_dir)["M1"]["flags"] == "UNPLACED_PAYMENT"
    assert summary(out_dir)["unattributed_ledger_rows"] == 1


def test_reversed_or_failed_money_and_installments_are_listed_but_hold_nothing(
        tmp_path: Path) -> None:
    drop = night()
    drop.payment("P2", "L9", "3500.00", status="reversed",
                 posted_at="2026-11-22T21:00:00+08:00")
    drop.installment("L9", 1, "2026-11-01", "50.00")
    result, out_dir = run(drop, tmp_path)
    assert result.exit_code == 0, result.output
    issues = read_csv_rows(out_dir / "input_issues.csv")
    assert sorted((i["table"], i["loan_id"]) for i in issues) == [
        ("installments", "L9"), ("payments", "L9")]
    data = summary(out_dir)
    assert data["unattributed_ledger_rows"] == 2
    assert data["unplaced_payments"]["payments"] == 0  # type: ignore[index]
    assert {m["verdict"] for m in findings(out_dir).values()} == {"block", "send"}


def test_too_many_unplaced_payments_hold_every_message(tmp_path: Path) -> None:
    drop = night()
    for n in range(3):
        drop.payment(f"X{n}", f"ZZ{n}", "1.00", posted_at="2026-11-22T20:00:00+08:00")
    result, out_dir = run(drop, tmp_path, "max_unplaced_payments = 2\n")
    assert result.exit_code == 0, result.output
    by_id = findings(out_dir)
    assert {m["verdict"] for m in by_id.values()} == {"hold", "block"}
    assert "UNPLACED_PAYMENT" in by_id["M2"]["flags"]
    assert "3 payments totalling 3.00 cannot be placed" in by_id["M2"]["reason"]
    assert "more than max_unplaced_payments (2)" in by_id["M2"]["reason"]


def test_policy_hold_all_holds_every_message_for_one_payment(tmp_path: Path) -> None:
    result, out_dir = run(night(payment_loan="L7", amount="1.00"), tmp_path,
                          'unplaced_payment_policy = "hold_all"\n')
    assert result.exit_code == 0, result.output
    by_id = findings(out_dir)
    assert [by_id[m]["flags"] for m in ("M1", "M2")] == ["UNPLACED_PAYMENT"] * 2
    assert "unplaced_payment_policy is hold_all" in by_id["M2"]["reason"]


def test_policy_fail_stops_the_night_with_exit_4_and_writes_nothing(tmp_path: Path) -> None:
    config = 'unplaced_payment_policy = "fail"\nmax_unplaced_payments = 0\n'
    result, out_dir = run(night(payment_loan="L7"), tmp_path, config)
    assert result.exit_code == EXIT_UNPLACED_PAYMENTS == 4
    assert not out_dir.exists()
    assert ("settled or pending payments that cannot be placed: 1, totalling 3500.00"
            in result.stderr)
    assert "payments row 1: settled P1" in result.stderr


def test_policy_fail_within_the_threshold_holds_the_matching_messages(tmp_path: Path) -> None:
    result, out_dir = run(night(payment_loan="L7"), tmp_path,
                          'unplaced_payment_policy = "fail"\n')
    assert result.exit_code == 0, result.output
    assert findings(out_dir)["M1"]["flags"] == "UNPLACED_PAYMENT"


def test_an_unknown_policy_is_bad_options(tmp_path: Path) -> None:
    result, _ = run(night(), tmp_path, 'unplaced_payment_policy = "ignore"\n')
    assert result.exit_code == 2
    assert "unplaced_payment_policy must be one of hold_matching, fail, hold_all" in \
        result.stderr


# ---------------------------------------------------------------------------------------
# Exports that arrived empty or short


def test_a_header_only_payments_file_holds_the_night(tmp_path: Path) -> None:
    """Without a history, an empty ledger table beside a non-empty batch is a failed feed;
    before, the paid borrower's message was sent."""
    drop = night()
    drop.tables["payments"] = []
    result, out_dir = run(drop, tmp_path)
    assert result.exit_code == 0, result.output
    by_id = findings(out_dir)
    assert {m["verdict"] for m in by_id.values()} == {"hold"}
    assert "INCOMPLETE_FEED: payments has no rows" in by_id["M1"]["reason"]
    assert "STALE_FEED: no payment posted by as-of" in by_id["M1"]["reason"]
    assert "INCOMPLETE_FEED holds 2 messages: payments has no rows" in result.stderr


def test_a_header_only_contact_flags_file_holds_the_night(tmp_path: Path) -> None:
    drop = night()
    data_dir = drop.write(tmp_path / "drop")
    (data_dir / "contact_flags.csv").write_text("borrower_id,flag,since,until\n", "utf-8")
    result = invoke("run", data_dir, "--out", tmp_path / "out", "--as-of", AS_OF,
                    "--config", _config(tmp_path, CONTACT_OFF))
    assert result.exit_code == 0, result.output
    reasons = [m["reason"] for m in findings(tmp_path / "out").values()]
    assert all("INCOMPLETE_FEED: contact_flags has no rows" in r for r in reasons)


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "night.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _two_nights(tmp_path: Path, second: Drop, config: str = "") -> tuple[object, Path]:
    """Night one (2026-11-22) with 10 payments, recorded in a history; then `second`."""
    first = night()
    for n in range(8):
        first.payment(f"Q{n}", "L2", "1.00", posted_at="2026-11-21T20:00:00+08:00")
    db = tmp_path / "history.duckdb"
    config_path = _config(tmp_path, CONTACT_OFF + config)
    one = invoke("run", first.write(tmp_path / "one"), "--out", tmp_path / "out1",
                 "--as-of", "2026-11-22T02:00:00+08:00", "--config", config_path, "--db", db)
    assert one.exit_code == 0, one.output
    out_dir = tmp_path / "out2"
    two = invoke("run", second.write(tmp_path / "two"), "--out", out_dir, "--as-of", AS_OF,
                 "--config", config_path, "--db", db)
    return two, out_dir


def test_a_table_that_lost_more_than_half_its_rows_holds_the_night(tmp_path: Path) -> None:
    second = night()
    for n in range(2):  # 4 payments where the last night had 10: 60% fewer
        second.payment(f"Q{n}", "L2", "1.00", posted_at="2026-11-21T20:00:00+08:00")
    result, out_dir = _two_nights(tmp_path, second)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    by_id = findings(out_dir)
    assert all("INCOMPLETE_FEED" in m["flags"] for m in by_id.values())
    assert by_id["M2"]["verdict"] == "hold"
    assert ("INCOMPLETE_FEED: payments has 4 rows, 60.0% fewer than the 10 of the run as of "
            "2026-11-22T02:00:00+08:00") in by_id["M2"]["reason"]
    assert summary(out_dir)["previous_run"]["as_of"] == "2026-11-22T02:00:00+08:00"  # type: ignore[index]


def test_a_table_that_lost_less_than_the_share_is_fine(tmp_path: Path) -> None:
    second = night()
    for n in range(4):  # 6 of 10: 40% fewer, within max_feed_shrink 0.5
        second.payment(f"Q{n}", "L2", "1.00", posted_at="2026-11-21T20:00:00+08:00")
    result, out_dir = _two_nights(tmp_path, second)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "INCOMPLETE_FEED" not in {m["flags"] for m in findings(out_dir).values()}


def test_the_shrink_share_is_a_setting(tmp_path: Path) -> None:
    second = night()
    for n in range(4):
        second.payment(f"Q{n}", "L2", "1.00", posted_at="2026-11-21T20:00:00+08:00")
    result, out_dir = _two_nights(tmp_path, second, "max_feed_shrink = 0.3\n")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "payments has 6 rows, 40.0% fewer than the 10" in findings(out_dir)["M2"]["reason"]


def test_an_optional_table_absent_after_a_night_that_had_it_holds(tmp_path: Path) -> None:
    first = night()
    data_one = first.write(tmp_path / "one")
    (data_one / "contact_flags.csv").write_text(
        "borrower_id,flag,since,until\nB9,opted_out,2026-01-01 00:00:00,\n", "utf-8")
    db = tmp_path / "history.duckdb"
    config_path = _config(tmp_path, CONTACT_OFF)
    one = invoke("run", data_one, "--out", tmp_path / "out1", "--as-of",
                 "2026-11-22T02:00:00+08:00", "--config", config_path, "--db", db)
    assert one.exit_code == 0, one.output
    two = invoke("run", night().write(tmp_path / "two"), "--out", tmp_path / "out2",
                 "--as-of", AS_OF, "--config", config_path, "--db", db)
    assert two.exit_code == 0, two.output
    reason = findings(tmp_path / "out2")["M1"]["reason"]
    assert "INCOMPLETE_FEED: contact_flags is absent (1 rows in the run as of " \
           "2026-11-22T02:00:00+08:00)" in reason


# ---------------------------------------------------------------------------------------
# A payment feed days behind (STALE_FEED, on by default)


@pytest.mark.parametrize(("posted_at", "stale"), [
    ("2026-11-21T02:00:00+08:00", False),  # exactly 48 h before T: not behind
    ("2026-11-21T01:59:59+08:00", True),
])
def test_a_payment_feed_two_days_behind_holds_by_default(tmp_path: Path, posted_at: str,
                                                         stale: bool) -> None:
    drop = night()
    drop.tables["payments"] = []
    drop.payment("P1", "L1", "10.00", posted_at=posted_at)
    result, out_dir = run(drop, tmp_path)
    assert result.exit_code == 0, result.output
    flags = findings(out_dir)["M2"]["flags"]
    assert ("STALE_FEED" in flags) is stale
    assert summary(out_dir)["settings"]["max_feed_lag_hours"] == "48"  # type: ignore[index]


# ---------------------------------------------------------------------------------------
# A rule that claims to have run after T


@pytest.mark.parametrize(("evaluated_at", "skewed"), [
    ("2026-11-23T02:00:00+08:00", False),  # at T exactly
    ("2026-11-23T02:00:00.000001+08:00", True),
    ("2026-11-24T09:00:00+08:00", True),
])
def test_a_rule_evaluated_after_as_of_is_held(tmp_path: Path, evaluated_at: str,
                                              skewed: bool) -> None:
    drop = Drop()
    drop.loan("L1").installment("L1", 1, "2026-11-01", "100.00")
    drop.message("M1", rule_evaluated_at=evaluated_at)
    data_dir = drop.write(tmp_path / "drop")
    result = invoke("run", data_dir, "--out", tmp_path / "out", "--as-of", AS_OF,
                    "--config", _config(tmp_path, LEDGER_ONLY_CONFIG))
    assert result.exit_code == 0, result.output
    m1 = findings(tmp_path / "out")["M1"]
    assert (m1["flags"] == "CLOCK_SKEW") is skewed
    assert m1["verdict"] == ("hold" if skewed else "send")
    if skewed:
        assert "after as-of 2026-11-23 02:00:00+08" in m1["reason"]


@pytest.mark.parametrize("output_format", ["text", "markdown", "html", "json"])
def test_the_morning_report_shows_the_warnings_first(tmp_path: Path,
                                                     output_format: str) -> None:
    db = tmp_path / "history.duckdb"
    result, _ = run(night(payment_loan="L7"), tmp_path, "", "--db", db)
    assert result.exit_code == 0, result.output
    report = invoke("report", "--db", db, "--format", output_format, "--lang", "en")
    assert report.exit_code == 0, report.output
    warning = "ledger rows naming no loan of loans: 1 (payments 1)"
    assert warning in report.stdout
    # Before the verdicts (in JSON) and the glance (elsewhere): on the first screen.
    shown = report.stdout.lower()
    first = min(i for i in (shown.find("at a glance"), shown.find('"verdicts"')) if i >= 0)
    assert report.stdout.index(warning) < first
