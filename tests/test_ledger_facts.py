"""The ledger facts beyond the contract's tables (docs/inputs.md, "Pauses, a loan's own
tolerance, amount components"): collection pauses, a loan's own min_overdue_amount, amount
components stated in a text, and payments that name an installment. Each boundary is one
small drop run through the CLI; the defaults are those of tests/test_flags.py (d(s) is
2026-11-23, the rule ran 2026-11-22 22:00 +08, T is 2026-11-23 02:00 +08).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from drops import Drop, result, run_drop

# Every test here runs the CLI on a drop (about a second each). Left out by `pytest -m "not
# slow"`.
pytestmark = pytest.mark.slow

Expect = tuple[str, str, str, str]
OVERDUE_SEND: Expect = ("send", "", "100.00", "22")
PAUSED_BLOCK: Expect = ("block", "COLLECTION_PAUSED", "100.00", "22")
LEDGER_INVALID_HOLD: Expect = ("hold", "LEDGER_INVALID", "", "")


def overdue_loan(**loan: object) -> Drop:
    """L1 owes one installment of 100.00 due 2026-11-01: 22 days past due on d(s)."""
    return Drop().loan("L1", **loan).installment("L1", 1, "2026-11-01", "100.00")


def run_m1(drop: Drop, tmp_path: Path, **kwargs: object) -> dict[str, str]:
    return run_drop(drop, tmp_path, **kwargs)["M1"]  # type: ignore[arg-type]


# --------------------------------------------------------------------------- COLLECTION_PAUSED


@pytest.mark.parametrize(
    ("paused_from", "paused_until", "expected"),
    [
        pytest.param("2026-11-01", "2026-11-22", OVERDUE_SEND, id="ends-the-day-before"),
        pytest.param("2026-11-01", "2026-11-23", PAUSED_BLOCK, id="ends-the-day-of"),
        pytest.param("2026-11-01", "2026-11-24", PAUSED_BLOCK, id="ends-the-day-after"),
        pytest.param("2026-11-23", "2026-11-23", PAUSED_BLOCK, id="one-day-period"),
        pytest.param("2026-11-24", None, OVERDUE_SEND, id="starts-the-day-after"),
        pytest.param("2026-11-23", None, PAUSED_BLOCK, id="open-ended-from-the-day"),
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_pause_in_force_on_the_send_date(tmp_path: Path, fmt: str, paused_from: str,
                                         paused_until: str | None, expected: Expect) -> None:
    drop = overdue_loan().pause("L1", paused_from, paused_until).message("M1")
    assert result(run_m1(drop, tmp_path, fmt=fmt)) == expected


@pytest.mark.parametrize(
    ("scheduled_at", "expected"),
    [
        # 23:59:59 on 11-22 in Shanghai: d(s) is the last day of the pause.
        pytest.param("2026-11-22T15:59:59Z", ("block", "COLLECTION_PAUSED", "100.00", "21"),
                     id="last-second-of-the-local-day"),
        # 00:00 on 11-23 in Shanghai although still 11-22 in UTC: the pause is over.
        pytest.param("2026-11-22T16:00:00Z", OVERDUE_SEND, id="local-midnight"),
    ],
)
def test_pause_ends_at_local_midnight(tmp_path: Path, scheduled_at: str,
                                      expected: Expect) -> None:
    drop = (overdue_loan().pause("L1", "2026-11-10", "2026-11-22")
            .message("M1", scheduled_at=scheduled_at))
    assert result(run_m1(drop, tmp_path)) == expected


def test_reminders_and_other_loans_are_not_paused(tmp_path: Path) -> None:
    drop = (overdue_loan().loan("L2").installment("L2", 1, "2026-11-01", "100.00")
            .pause("L1", "2026-11-01", None, kind="collection_stop")
            .message("M1", template_id="T_REM").message("M2", loan_id="L2"))
    findings = run_drop(drop, tmp_path)
    assert result(findings["M1"]) == OVERDUE_SEND
    assert result(findings["M2"]) == OVERDUE_SEND


@pytest.mark.parametrize(
    ("recorded_at", "expected"),
    [
        pytest.param("2026-11-22T22:00:00+08:00", PAUSED_BLOCK, id="when-the-rule-ran"),
        pytest.param("2026-11-22T22:00:01+08:00",
                     ("block", "STALE_DATA;COLLECTION_PAUSED", "100.00", "22"),
                     id="one-second-after-the-rule-ran"),
        pytest.param("2026-11-23T02:00:00+08:00",
                     ("block", "STALE_DATA;COLLECTION_PAUSED", "100.00", "22"), id="at-T"),
        pytest.param("2026-11-23T02:00:01+08:00", OVERDUE_SEND, id="after-T-not-yet-known"),
    ],
)
def test_pause_recorded_after_the_rule_ran_is_stale_data(tmp_path: Path, recorded_at: str,
                                                         expected: Expect) -> None:
    drop = (overdue_loan().pause("L1", "2026-11-20", "2026-12-31", recorded_at=recorded_at)
            .message("M1"))
    row = run_m1(drop, tmp_path)
    assert result(row) == expected
    if "STALE_DATA" in expected[1]:
        assert "collection pause repayment_plan from 2026-11-20 recorded" in row["reason"]


def test_pause_reason_names_every_period_in_force(tmp_path: Path) -> None:
    drop = (overdue_loan().pause("L1", "2026-11-20", "2026-11-30", kind="payment_holiday")
            .pause("L1", "2026-11-01", None, kind="hardship_relief").message("M1"))
    assert run_m1(drop, tmp_path)["reason"] == (
        "COLLECTION_PAUSED: collection paused: hardship_relief from 2026-11-01 (recorded "
        "2026-11-01 10:00:00+08); payment_holiday 2026-11-20..2026-11-30 (recorded "
        "2026-11-01 10:00:00+08)")


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        pytest.param({"paused_until": "2026-11-01"}, "paused_until is before paused_from",
                     id="until-before-from"),
        pytest.param({"kind": "goodwill"}, "kind 'goodwill' is not one of", id="unknown-kind"),
        pytest.param({"paused_from": "2026/11/20"}, "is not a date", id="bad-date"),
        pytest.param({"recorded_at": ""}, "recorded_at is empty", id="no-recorded-at"),
    ],
)
def test_unusable_pause_row_makes_the_ledger_invalid(tmp_path: Path, row: dict[str, str],
                                                     problem: str) -> None:
    drop = overdue_loan().pause("L1", "2026-11-20", "2026-12-31").message("M1")
    drop.tables["collection_pauses"][0].update(row)
    found = run_m1(drop, tmp_path)
    assert result(found) == LEDGER_INVALID_HOLD
    assert problem in found["reason"]


def test_absent_pauses_skip_only_their_flag(tmp_path: Path) -> None:
    drop = overdue_loan().message("M1")
    data_dir = drop.write(tmp_path / "drop")
    out = tmp_path / "out"
    from drops import invoke

    assert invoke("run", data_dir, "--out", out, "--as-of", "2026-11-23T02:00:00+08:00"
                  ).exit_code == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["skipped_checks"]["COLLECTION_PAUSED"] == "no collection_pauses input"
    assert "CONTENT_MISMATCH" not in summary["skipped_checks"]
    assert "installments and payments give no amount components" in (
        summary["partial_checks"]["CONTENT_MISMATCH"])


def test_pause_of_an_unknown_loan_is_unattributed(tmp_path: Path) -> None:
    drop = overdue_loan().pause("L9", "2026-11-20").message("M1")
    run_m1(drop, tmp_path)
    issues = (tmp_path / "out_csv" / "input_issues.csv").read_text(encoding="utf-8")
    assert "collection_pauses" in issues and "loan_id 'L9' is not in loans" in issues


# --------------------------------------------------------------------------- own tolerance


@pytest.mark.parametrize(
    ("own", "paid", "expected"),
    [
        pytest.param("30.00", "70.00", ("send", "", "30.00", "22"), id="equal-is-overdue"),
        pytest.param("30.01", "70.00", ("block", "NOT_OVERDUE", "30.00", "0"),
                     id="a-cent-above-is-not-overdue"),
        pytest.param("0.01", "99.99", ("send", "", "0.01", "22"), id="the-smallest"),
        pytest.param("0.00", "70.00", LEDGER_INVALID_HOLD, id="zero-is-unusable"),
        pytest.param("", "99.50", ("block", "NOT_OVERDUE", "0.50", "0"),
                     id="empty-uses-the-setting"),
    ],
)
def test_loan_min_overdue_amount(tmp_path: Path, own: str, paid: str, expected: Expect) -> None:
    drop = overdue_loan(min_overdue_amount=own).payment("P1", "L1", paid).message("M1")
    found = run_m1(drop, tmp_path, config="min_overdue_amount = 0.60\n")
    assert result(found) == expected
    if own == "30.01":
        assert found["reason"] == (
            "NOT_OVERDUE: overdue 30.00 is below the loan's own min_overdue_amount 30.01")
    if own == "":
        assert found["reason"] == "NOT_OVERDUE: overdue 0.50 is below min_overdue_amount 0.60"


def test_loan_min_overdue_amount_decides_days_past_due_and_pending(tmp_path: Path) -> None:
    # 100.00 due Nov 1 and Nov 10, 160.00 paid: 40.00 left of the first two installments.
    # With the loan's own 50.00, k* is the first installment leaving >= 50.00 unpaid: Nov 10.
    drop = (Drop().loan("L1", min_overdue_amount="30.00")
            .installment("L1", 1, "2026-11-01", "100.00")
            .installment("L1", 2, "2026-11-10", "100.00")
            .payment("P1", "L1", "160.00")
            .payment("P2", "L1", "15.00", status="pending").message("M1"))
    # 40.00 >= 30.00 is overdue; a pending 15.00 would leave 25.00 < 30.00: PAYMENT_PENDING.
    assert result(run_m1(drop, tmp_path)) == ("hold", "PAYMENT_PENDING", "40.00", "13")


# --------------------------------------------------------------------------- components


def component_loan(**installment: str) -> Drop:
    """L1: 100.00 due Nov 1 = 80.00 principal + 15.00 interest + 5.00 penalty."""
    parts = {"principal_due": "80.00", "interest_due": "15.00", "penalty_due": "5.00",
             **installment}
    return Drop().loan("L1").installment("L1", 1, "2026-11-01", "100.00", **parts)


def content_run(drop: Drop, text: str, tmp_path: Path, config: str = "") -> dict[str, str]:
    drop.message("M1", message_text=text)
    return run_m1(drop, tmp_path, config=config + 'disabled_checks = ["QUIET_HOURS"]\n',
                  ledger_only=False)


@pytest.mark.parametrize(
    ("text", "flags"),
    [
        pytest.param("本金80.00元，利息15.00元，罚息5.00元", "", id="all-right"),
        pytest.param("本金 80.01 元，罚息：5.00元", "", id="a-cent-off"),
        pytest.param("本金80.02元", "CONTENT_MISMATCH", id="two-cents-off"),
        pytest.param("including a late fee of 5.00 and principal of ¥80.00", "",
                     id="english-labels"),
        pytest.param("Penalty interest: RMB 5.01", "", id="penalty-interest-a-cent-off"),
        pytest.param("服务费 3.00 元", "CONTENT_MISMATCH", id="fee-on-a-ledger-with-none"),
        pytest.param("服务费 0.00 元", "", id="no-fee-stated-as-none"),
        pytest.param("年利率 24%，利息 24% 不变，应还100.00元", "", id="a-rate-is-no-amount"),
        pytest.param("共欠100.00元，其中本金80.00元", "", id="total-and-a-component"),
        pytest.param("本金100.00元", "CONTENT_MISMATCH",
                     id="a-labelled-amount-is-not-the-total"),
    ],
)
def test_stated_components(tmp_path: Path, text: str, flags: str) -> None:
    found = content_run(component_loan(), f"您的借款已逾期22天，{text}", tmp_path)
    assert result(found) == ("hold" if flags else "send", flags, "100.00", "22")


def test_component_tolerance_is_the_amount_tolerance(tmp_path: Path) -> None:
    found = content_run(component_loan(), "本金80.50元，利息14.49元", tmp_path,
                        config="amount_tolerance = 0.50\n")
    assert result(found) == ("hold", "CONTENT_MISMATCH", "100.00", "22")
    assert found["reason"] == ("CONTENT_MISMATCH: text states interest 14.49 but the "
                               "ledger's overdue interest is 15.00")


def test_payment_allocation_pays_components(tmp_path: Path) -> None:
    drop = component_loan().payment("P1", "L1", "20.00", principal_paid="5.00",
                                    interest_paid="15.00")
    found = content_run(drop, "欠款80.00元（本金75.00元，罚息5.00元，利息0.00元）", tmp_path)
    assert result(found) == ("send", "", "80.00", "22")


@pytest.mark.parametrize(
    ("table", "row", "problem"),
    [
        pytest.param("installments", {"principal_due": "81.00"},
                     "principal_due + interest_due + fee_due + penalty_due is 101.00, "
                     "not amount_due 100.00", id="installment-parts"),
        pytest.param("payments", {"principal_paid": "10.00"},
                     "principal_paid + interest_paid + fee_paid + penalty_paid is 10.00, "
                     "not amount 20.00", id="payment-parts"),
        pytest.param("installments", {"penalty_due": "-1.00"}, "penalty_due -1.00 must be ≥ 0",
                     id="negative-part"),
    ],
)
def test_components_that_do_not_add_up_make_the_row_unusable(
        tmp_path: Path, table: str, row: dict[str, str], problem: str) -> None:
    drop = component_loan().payment("P1", "L1", "20.00").message("M1")
    drop.tables[table][0].update(row)
    found = run_m1(drop, tmp_path)
    assert result(found) == LEDGER_INVALID_HOLD
    assert problem in found["reason"]


def test_components_with_a_part_that_does_not_parse_report_only_that(tmp_path: Path) -> None:
    drop = component_loan(interest_due="15,00").message("M1")
    found = run_m1(drop, tmp_path)
    assert result(found) == LEDGER_INVALID_HOLD
    assert "interest_due '15,00' is not an amount" in found["reason"]
    assert "add" not in found["reason"] and "not amount_due" not in found["reason"]


# --------------------------------------------------------------------------- named installment
# docs/interpretations.md, "Payments that name an installment": both readings' consequences.


def test_payment_for_a_future_installment_still_covers_the_oldest(tmp_path: Path) -> None:
    """Allocation-following would call Nov 1 unpaid and send collection; the cumulative
    truth sees everything due paid, and says which installment the payment named."""
    drop = (Drop().loan("L1").installment("L1", 1, "2026-11-01", "100.00")
            .installment("L1", 2, "2026-12-01", "100.00")
            .payment("P1", "L1", "100.00", installment_no="2").message("M1"))
    found = run_m1(drop, tmp_path)
    assert result(found) == ("block", "NOT_OVERDUE", "0.00", "0")
    assert found["reason"] == (
        "NOT_OVERDUE: paid 100.00 of 100.00 due by 2026-11-23 (counted oldest first; "
        "payments name their installment: P1 for installment 2)")


def test_only_settled_payments_known_at_the_run_are_cited_for_their_installment(
        tmp_path: Path) -> None:
    """A pending payment, and a settled one posted after the run's T, name an installment
    too: neither has paid anything at T, so neither is cited."""
    drop = (Drop().loan("L1").installment("L1", 1, "2026-11-01", "100.00")
            .installment("L1", 2, "2026-12-01", "100.00")
            .payment("P1", "L1", "100.00", installment_no="2")
            .payment("P2", "L1", "5.00", status="pending", installment_no="1")
            .payment("P3", "L1", "5.00", posted_at="2026-11-23T03:00:00+08:00",
                     installment_no="1")
            .message("M1"))
    found = run_m1(drop, tmp_path)
    assert result(found) == ("block", "NOT_OVERDUE", "0.00", "0")
    assert found["reason"].endswith("payments name their installment: P1 for installment 2)")


def test_payment_for_a_later_installment_keeps_the_cumulative_days(tmp_path: Path) -> None:
    """Oct 10 and Nov 10 due, Nov 10 paid "for installment 2": 13 days oldest first, 44 by
    the allocation. A rule claiming 44 is held, with the allocation as evidence."""
    drop = (Drop().loan("L1").installment("L1", 1, "2026-10-10", "100.00")
            .installment("L1", 2, "2026-11-10", "100.00")
            .payment("P1", "L1", "100.00", posted_at="2026-11-10T09:00:00+08:00",
                     installment_no="2"))
    drop.message("M1", claimed_days_past_due="13").message("M2", claimed_days_past_due="44")
    findings = run_drop(drop, tmp_path)
    assert result(findings["M1"]) == ("send", "", "100.00", "13")
    assert result(findings["M2"]) == ("hold", "RULE_MISMATCH", "100.00", "13")
    assert findings["M2"]["reason"] == (
        "RULE_MISMATCH: claimed 44 days past due vs ledger 13, ledger counted oldest first; "
        "payments name their installment: P1 for installment 2")


def test_installment_no_on_a_payment_must_be_an_integer(tmp_path: Path) -> None:
    drop = overdue_loan().payment("P1", "L1", "10.00", installment_no="1.5").message("M1")
    found = run_m1(drop, tmp_path)
    assert result(found) == LEDGER_INVALID_HOLD
    assert "installment_no '1.5' is not an integer" in found["reason"]
