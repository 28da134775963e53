"""One row never stops the night (issue 10, section 3): amounts at the edge of what staging
accepts, and message texts that say nothing.

- Every amount is a DECIMAL(18, 2), below 10^16. A loan whose usable installments, settled
  payments or pending payments add up to 10^16 or more (a 16-digit legacy sentinel such as
  9999999999999999.99 beside a real row, or rows each legal whose total is not) has a ledger
  that means nothing: LEDGER_INVALID (hold), its largest row named; every other message is
  judged as usual and the run exits 0. Sums are taken wide enough never to overflow.
- A blank message_text (empty or only white space) is no text: no content check reads it.

docs/interpretations.md, "Reference tables" and "Which flags are evaluated".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from drops import Drop, read_csv_rows, result, run_drop

from reconcile.synth.reference import Settings, reference

AS_OF = "2026-11-23T02:00:00+08:00"
SENTINEL = "9999999999999999.99"
LARGEST_AMOUNT = "beyond the largest amount, 9999999999999999.99"

# (verdict, flags, overdue_amount, days_past_due)
OVERDUE_SEND = ("send", "", "100.00", "22")
NOT_OVERDUE_BLOCK = ("block", "NOT_OVERDUE", "0.00", "0")
LEDGER_INVALID_HOLD = ("hold", "LEDGER_INVALID", "", "")


def night() -> Drop:
    """M1 on L1 (100.00 overdue), M2 on L2 (paid: not overdue), M3 on L3 (the test's)."""
    drop = Drop()
    drop.loan("L1").installment("L1", 1, "2026-11-01", "100.00")
    drop.loan("L2").installment("L2", 1, "2026-11-01", "100.00").payment("P0", "L2", "100.00")
    drop.loan("L3")
    return drop.message("M1").message("M2", loan_id="L2").message("M3", loan_id="L3")


def oracle(drop: Drop, **settings: object) -> dict[str, tuple[str, str, str, str]]:
    findings = reference(drop, dt.datetime.fromisoformat(AS_OF),
                         Settings(**settings))  # type: ignore[arg-type]
    return {str(f.message_id): (
        f.verdict, ";".join(f.flags),
        "" if f.overdue_amount is None else f"{f.overdue_amount:.2f}",
        "" if f.days_past_due is None else str(f.days_past_due)) for f in findings}


# --------------------------------------------------------------------------- amounts


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_sentinel_amount_due_beside_a_real_one_holds_its_loan_only(
        tmp_path: Path, fmt: str) -> None:
    drop = night()
    drop.installment("L3", 1, "2026-10-01", "100.00").installment("L3", 2, "2026-11-01", SENTINEL)
    findings = run_drop(drop, tmp_path, fmt=fmt)
    assert result(findings["M1"]) == OVERDUE_SEND
    assert result(findings["M2"]) == NOT_OVERDUE_BLOCK
    assert result(findings["M3"]) == LEDGER_INVALID_HOLD
    assert findings["M3"]["reason"] == (
        f"LEDGER_INVALID: installments.{fmt} row 4: amount_due {SENTINEL} brings the loan's "
        f"2 installments to 10000000000000099.99, {LARGEST_AMOUNT}")
    issues = read_csv_rows(tmp_path / f"out_{fmt}" / "input_issues.csv")
    assert [(i["table"], i["source_row"], i["loan_id"]) for i in issues] == [
        ("installments", "4", "L3")]
    assert oracle(drop) == {m: result(r) for m, r in findings.items()}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("amounts", "expected"),
    [
        pytest.param(["6000000000000000.00", "4000000000000000.00"], LEDGER_INVALID_HOLD,
                     id="total-exactly-1e16"),
        pytest.param(["6000000000000000.00", "6000000000000000.00"], LEDGER_INVALID_HOLD,
                     id="total-1.2e16"),
        pytest.param(["6000000000000000.00", "3999999999999999.99"],
                     ("send", "", "9999999999999999.99", "22"), id="total-largest-amount"),
    ],
)
def test_installments_each_legal_whose_total_is_no_amount(
        tmp_path: Path, amounts: list[str], expected: tuple[str, ...]) -> None:
    drop = night()
    for number, amount in enumerate(amounts, start=1):
        drop.installment("L3", number, "2026-11-01", amount)
    findings = run_drop(drop, tmp_path)
    assert (result(findings["M1"]), result(findings["M2"])) == (OVERDUE_SEND, NOT_OVERDUE_BLOCK)
    assert result(findings["M3"]) == expected
    assert oracle(drop)["M3"] == expected


@pytest.mark.slow
@pytest.mark.parametrize(
    ("status", "expected"),
    [
        pytest.param("settled", LEDGER_INVALID_HOLD, id="settled"),
        pytest.param("pending", LEDGER_INVALID_HOLD, id="pending"),
        # Reversed and failed payments pay nothing and are never summed.
        pytest.param("reversed", OVERDUE_SEND, id="reversed"),
    ],
)
def test_payments_whose_total_is_no_amount(tmp_path: Path, status: str,
                                           expected: tuple[str, ...]) -> None:
    drop = night()
    drop.installment("L3", 1, "2026-11-01", "100.00")
    drop.payment("P1", "L3", SENTINEL, status).payment("P2", "L3", "0.01", status)
    findings = run_drop(drop, tmp_path)
    assert (result(findings["M1"]), result(findings["M2"])) == (OVERDUE_SEND, NOT_OVERDUE_BLOCK)
    assert result(findings["M3"]) == expected
    if expected == LEDGER_INVALID_HOLD:
        assert findings["M3"]["reason"] == (
            f"LEDGER_INVALID: payments.csv row 2: amount {SENTINEL} brings the loan's "
            f"2 {status} payments to 10000000000000000.00, {LARGEST_AMOUNT}")
    assert oracle(drop)["M3"] == expected


@pytest.mark.slow
def test_many_loans_at_the_largest_amount_do_not_overflow_a_sum(tmp_path: Path) -> None:
    """Each loan is legal; the column's total is far beyond DECIMAL(18, 2)."""
    drop = night()
    drop.installment("L3", 1, "2026-11-01", SENTINEL)
    for n in range(4, 24):
        drop.loan(f"L{n}").installment(f"L{n}", 1, "2026-11-01", SENTINEL)
        drop.payment(f"P{n}", f"L{n}", "9999999999999999.00")
        drop.message(f"M{n}", loan_id=f"L{n}")
    findings = run_drop(drop, tmp_path)
    assert result(findings["M3"]) == ("send", "", SENTINEL, "22")
    assert {result(findings[f"M{n}"]) for n in range(4, 24)} == {("send", "", "0.99", "22")}


# --------------------------------------------------------------------------- blank texts

US_REG_F = 'profile = "us_reg_f"\n'


@pytest.mark.slow
@pytest.mark.parametrize("text", [
    pytest.param("   ", id="spaces"),
    pytest.param("\t \n", id="tab-newline"),
    pytest.param("\u3000\u00a0", id="ideographic-and-no-break-space"),
])
def test_a_blank_message_text_is_not_read_by_the_content_checks(tmp_path: Path,
                                                                text: str) -> None:
    drop = night()
    drop.installment("L3", 1, "2026-11-01", "100.00")
    drop.tables["send_batch"][2]["message_text"] = text
    drop.tables["send_batch"][0]["message_text"] = "Pay today"  # read: no opt-out
    findings = run_drop(drop, tmp_path, config=US_REG_F, ledger_only=False)
    assert result(findings["M3"]) == OVERDUE_SEND
    assert result(findings["M1"]) == ("hold", "MISSING_OPT_OUT", "100.00", "22")
    us_reg_f = Settings.for_profile("us_reg_f")
    assert oracle(drop, **us_reg_f.__dict__) == {m: result(r) for m, r in findings.items()}


@pytest.mark.slow
def test_an_absent_and_a_blank_text_are_judged_alike(tmp_path: Path) -> None:
    drop = night()
    drop.installment("L3", 1, "2026-11-01", "100.00")
    drop.loan("L4").installment("L4", 1, "2026-11-01", "100.00").message("M4", loan_id="L4")
    drop.tables["send_batch"][2]["message_text"] = " "
    findings = run_drop(drop, tmp_path, config=US_REG_F, ledger_only=False)
    assert result(findings["M3"]) == result(findings["M4"]) == OVERDUE_SEND


def test_the_oracle_limits_ledger_totals_like_the_engine() -> None:
    drop = night().installment("L3", 1, "2026-11-01", "5000000000000000.00")
    drop.installment("L3", 2, "2026-11-02", "5000000000000000.00")
    assert oracle(drop, max_rule_age_hours=Decimal(24))["M3"] == LEDGER_INVALID_HOLD
