"""Every boundary of CONTRACT.md sections 2-4 (and of docs/interpretations.md), one small drop
per case.

The defaults of drops.py, which every case below leans on:

- a message is scheduled 2026-11-23T09:00+08:00, so d(s) is 2026-11-23;
- its rule was evaluated 2026-11-22T22:00+08:00, and the run's as-of T is
  2026-11-23T02:00+08:00, so the rule is 4 h old;
- template T_COL is a collection template without a dpd range, T_REM a reminder;
- rule R_DEL is a delinquency rule, R_RISK a risk_control rule.

Each case asserts the exact (verdict, flags, overdue_amount, days_past_due) of its message.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from drops import Drop, run_drop

# Every test here runs the CLI on a drop (about a second each); their check-level boundaries run
# fast in tests/test_checks_unit.py. Left out by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

AS_OF = "2026-11-23T02:00:00+08:00"
RULE_EVALUATED = "2026-11-22T22:00:00+08:00"
AFTER_RULE = "2026-11-22T23:00:00+08:00"  # after the rule looked, before T
AFTER_T = "2026-11-23T02:00:01+08:00"  # one second after T: not yet known to the run

# (verdict, flags, overdue_amount, days_past_due)
Expect = tuple[str, str, str, str]

# The loan of overdue_loan(): 100.00 due 2026-11-01, so 22 days past due on 2026-11-23.
OVERDUE_SEND: Expect = ("send", "", "100.00", "22")
# A collection message on a loan that owes nothing yet.
NOT_OVERDUE_BLOCK: Expect = ("block", "NOT_OVERDUE", "0.00", "0")
# Truth unknown: overdue_amount and days_past_due are empty.
LEDGER_INVALID_HOLD: Expect = ("hold", "LEDGER_INVALID", "", "")


def result(row: dict[str, str]) -> Expect:
    return (row["verdict"], row["flags"], row["overdue_amount"], row["days_past_due"])


def run_m1(drop: Drop, tmp_path: Path, **kwargs: object) -> Expect:
    """Run the drop and return message M1's result."""
    return result(run_drop(drop, tmp_path, **kwargs)["M1"])  # type: ignore[arg-type]


def overdue_loan(drop: Drop | None = None, loan_id: str = "L1", **loan: object) -> Drop:
    """loan_id (borrower B1) owes one installment of 100.00 due 2026-11-01."""
    drop = Drop() if drop is None else drop
    return drop.loan(loan_id, **loan).installment(loan_id, 1, "2026-11-01", "100.00")


def not_due_loan(drop: Drop | None = None, loan_id: str = "L1", **loan: object) -> Drop:
    """loan_id (borrower B1) owes one installment of 100.00 due 2026-12-01: nothing is due yet."""
    drop = Drop() if drop is None else drop
    return drop.loan(loan_id, **loan).installment(loan_id, 1, "2026-12-01", "100.00")


# --------------------------------------------------------------------------- grace days


@pytest.mark.parametrize(
    ("grace_days", "config", "due_date", "expected"),
    [
        # d(s) = 2026-11-23; past due when d(s) > due_date + g.
        pytest.param("3", None, "2026-11-20", NOT_OVERDUE_BLOCK, id="loan-g3-due+3-in-grace"),
        pytest.param("3", None, "2026-11-19", ("send", "", "100.00", "4"),
                     id="loan-g3-due+4-past-due"),
        pytest.param(None, "grace_days = 3", "2026-11-20", NOT_OVERDUE_BLOCK,
                     id="config-g3-due+3-in-grace"),
        pytest.param(None, "grace_days = 3", "2026-11-19", ("send", "", "100.00", "4"),
                     id="config-g3-due+4-past-due"),
        pytest.param("0", "grace_days = 3", "2026-11-22", ("send", "", "100.00", "1"),
                     id="loan-g0-overrides-config-g3"),
        pytest.param("0", "grace_days = 3", "2026-11-23", NOT_OVERDUE_BLOCK,
                     id="loan-g0-due-today-not-past-due"),
        pytest.param(None, None, "2026-11-22", ("send", "", "100.00", "1"),
                     id="default-g0-due-yesterday"),
        pytest.param(None, None, "2026-11-23", NOT_OVERDUE_BLOCK, id="default-g0-due-today"),
    ],
)
def test_grace_days(tmp_path: Path, grace_days: str | None, config: str | None, due_date: str,
                    expected: Expect) -> None:
    drop = (Drop().loan("L1", grace_days=grace_days)
            .installment("L1", 1, due_date, "100.00")
            .message("M1"))
    assert run_m1(drop, tmp_path, config=config) == expected


# --------------------------------------------------------------------------- local midnight


@pytest.mark.parametrize(
    ("scheduled_at", "config", "expected"),
    [
        # 16:30Z is 2026-11-23 00:30 in Shanghai: d(s) = 23rd > due 22nd.
        pytest.param("2026-11-22T16:30:00Z", None, ("send", "", "50.00", "1"),
                     id="shanghai-00:30-on-the-23rd"),
        # 15:30Z is 2026-11-22 23:30 in Shanghai: d(s) = 22nd, the due date itself.
        pytest.param("2026-11-22T15:30:00Z", None, NOT_OVERDUE_BLOCK,
                     id="shanghai-23:30-on-the-22nd"),
        # The same instants with timezone UTC are both on the 22nd.
        pytest.param("2026-11-22T16:30:00Z", 'timezone = "UTC"', NOT_OVERDUE_BLOCK,
                     id="utc-16:30-on-the-22nd"),
        pytest.param("2026-11-22T15:30:00Z", 'timezone = "UTC"', NOT_OVERDUE_BLOCK,
                     id="utc-15:30-on-the-22nd"),
        pytest.param("2026-11-22T23:59:59Z", 'timezone = "UTC"', NOT_OVERDUE_BLOCK,
                     id="utc-last-second-of-the-22nd"),
        pytest.param("2026-11-23T00:00:00Z", 'timezone = "UTC"', ("send", "", "50.00", "1"),
                     id="utc-midnight-of-the-23rd"),
    ],
)
def test_local_date_of_scheduled_at(tmp_path: Path, scheduled_at: str, config: str | None,
                                    expected: Expect) -> None:
    drop = (Drop().loan("L1")
            .installment("L1", 1, "2026-11-22", "50.00")
            .message("M1", scheduled_at=scheduled_at))
    assert run_m1(drop, tmp_path, config=config) == expected


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        # 2026-11-23 01:00 Shanghai is before T: the payment counts, and it is news to the rule.
        pytest.param(None, ("block", "NOT_OVERDUE;STALE_DATA", "0.00", "0"), id="shanghai"),
        # 2026-11-23 01:00 UTC is 09:00 Shanghai, after T: invisible, so neither paid nor stale.
        pytest.param('timezone = "UTC"', OVERDUE_SEND, id="utc"),
    ],
)
def test_naive_timestamp_is_local_time_in_the_configured_timezone(
        tmp_path: Path, config: str | None, expected: Expect) -> None:
    drop = (overdue_loan()
            .payment("P1", "L1", "100.00", posted_at="2026-11-23 01:00:00")
            .message("M1"))
    assert run_m1(drop, tmp_path, config=config) == expected


# --------------------------------------------------------------------------- min overdue amount


@pytest.mark.parametrize(
    ("paid", "config", "expected"),
    [
        pytest.param("99.99", None, ("send", "", "0.01", "22"), id="0.01-left-is-overdue"),
        pytest.param("100.00", None, NOT_OVERDUE_BLOCK, id="0.00-left-is-not-overdue"),
        pytest.param("150.00", None, NOT_OVERDUE_BLOCK, id="overpaid-overdue-is-0"),
        pytest.param("99.01", "min_overdue_amount = 1.00", ("block", "NOT_OVERDUE", "0.99", "0"),
                     id="min-1.00-with-0.99-left"),
        pytest.param("99.00", "min_overdue_amount = 1.00", ("send", "", "1.00", "22"),
                     id="min-1.00-with-1.00-left"),
    ],
)
def test_min_overdue_amount(tmp_path: Path, paid: str, config: str | None,
                            expected: Expect) -> None:
    drop = overdue_loan().payment("P1", "L1", paid).message("M1")
    assert run_m1(drop, tmp_path, config=config) == expected


# --------------------------------------------------------------------------- RULE_MISMATCH


@pytest.mark.parametrize(
    ("claims", "config", "expected_flags"),
    [
        # Truth: 100.00 overdue, 22 days past due.
        pytest.param({"claimed_overdue_amount": "100.00"}, None, "", id="amount-exact"),
        pytest.param({"claimed_overdue_amount": "100.01"}, None, "", id="amount+0.01"),
        pytest.param({"claimed_overdue_amount": "99.99"}, None, "", id="amount-0.01"),
        pytest.param({"claimed_overdue_amount": "100.02"}, None, "RULE_MISMATCH",
                     id="amount+0.02"),
        pytest.param({"claimed_overdue_amount": "99.98"}, None, "RULE_MISMATCH",
                     id="amount-0.02"),
        pytest.param({"claimed_overdue_amount": "100.50"}, "amount_tolerance = 0.50", "",
                     id="config-tolerance-0.50-off-by-0.50"),
        pytest.param({"claimed_overdue_amount": "99.49"}, "amount_tolerance = 0.50",
                     "RULE_MISMATCH", id="config-tolerance-0.50-off-by-0.51"),
        pytest.param({"claimed_days_past_due": "22"}, None, "", id="dpd-exact"),
        pytest.param({"claimed_days_past_due": "23"}, None, "", id="dpd+1"),
        pytest.param({"claimed_days_past_due": "21"}, None, "", id="dpd-1"),
        pytest.param({"claimed_days_past_due": "24"}, None, "RULE_MISMATCH", id="dpd+2"),
        pytest.param({"claimed_days_past_due": "20"}, None, "RULE_MISMATCH", id="dpd-2"),
        pytest.param({"claimed_days_past_due": "22"}, "dpd_tolerance = 0", "",
                     id="config-dpd-tolerance-0-exact"),
        pytest.param({"claimed_days_past_due": "23"}, "dpd_tolerance = 0", "RULE_MISMATCH",
                     id="config-dpd-tolerance-0-off-by-1"),
        pytest.param({"claimed_overdue_amount": "100.01", "claimed_days_past_due": "24"}, None,
                     "RULE_MISMATCH", id="amount-ok-dpd-off"),
    ],
)
def test_claim_tolerances(tmp_path: Path, claims: dict[str, str], config: str | None,
                          expected_flags: str) -> None:
    drop = overdue_loan().message("M1", **claims)
    verdict = "hold" if expected_flags else "send"
    assert run_m1(drop, tmp_path, config=config) == (verdict, expected_flags, "100.00", "22")


@pytest.mark.parametrize(
    ("min_dpd", "max_dpd", "expected_flags"),
    [
        # Truth: 22 days past due. Bounds are inclusive; a null bound is unbounded.
        pytest.param("22", "22", "", id="min=max=dpd"),
        pytest.param("22", "30", "", id="dpd-equals-min"),
        pytest.param("10", "22", "", id="dpd-equals-max"),
        pytest.param("23", "30", "RULE_MISMATCH", id="dpd-one-below-min"),
        pytest.param("10", "21", "RULE_MISMATCH", id="dpd-one-above-max"),
        pytest.param("22", None, "", id="min-only-equal"),
        pytest.param("23", None, "RULE_MISMATCH", id="min-only-above"),
        pytest.param(None, "22", "", id="max-only-equal"),
        pytest.param(None, "21", "RULE_MISMATCH", id="max-only-below"),
        pytest.param(None, None, "", id="unbounded"),
    ],
)
def test_template_dpd_range(tmp_path: Path, min_dpd: str | None, max_dpd: str | None,
                            expected_flags: str) -> None:
    drop = (overdue_loan()
            .template("T_RANGE", "collection", min_dpd=min_dpd, max_dpd=max_dpd)
            .message("M1", template_id="T_RANGE"))
    verdict = "hold" if expected_flags else "send"
    assert run_m1(drop, tmp_path) == (verdict, expected_flags, "100.00", "22")


def test_template_dpd_range_applies_to_a_loan_that_is_not_overdue(tmp_path: Path) -> None:
    # days_past_due is 0 when not overdue, and 0 lies outside [1, unbounded).
    drop = (not_due_loan()
            .template("T_RANGE", "collection", min_dpd="1")
            .message("M1", template_id="T_RANGE"))
    assert run_m1(drop, tmp_path) == ("block", "NOT_OVERDUE;RULE_MISMATCH", "0.00", "0")


# --------------------------------------------------------------------------- days_past_due


@pytest.mark.parametrize(
    ("installments", "paid", "config", "expected"),
    [
        # (installment_no, due_date, amount_due); payments are settled.
        pytest.param([(1, "2026-11-01", "100.00"), (2, "2026-11-10", "100.00")], "100.00", None,
                     ("send", "", "100.00", "13"), id="first-paid-dpd-from-second"),
        pytest.param([(1, "2026-11-01", "100.00"), (2, "2026-11-10", "100.00")], "60.00", None,
                     ("send", "", "140.00", "22"), id="first-part-paid-dpd-from-first"),
        pytest.param([(1, "2026-11-01", "100.00"), (2, "2026-11-10", "100.00")], "99.99", None,
                     ("send", "", "100.01", "22"), id="first-0.01-short-dpd-from-first"),
        pytest.param([(1, "2026-11-01", "100.00"), (2, "2026-11-10", "100.00")], "99.01",
                     "min_overdue_amount = 1.00", ("send", "", "100.99", "13"),
                     id="min-1.00-first-0.99-short-dpd-from-second"),
        # Ordered by (due_date, installment_no): no 2 (due 11-01) comes before no 1.
        pytest.param([(1, "2026-11-10", "50.00"), (2, "2026-11-01", "100.00")], "100.00", None,
                     ("send", "", "50.00", "13"), id="ordered-by-due-date-not-number"),
        # Only installments past due at s count towards overdue_amount.
        pytest.param([(1, "2026-11-01", "100.00"), (2, "2026-12-01", "100.00")], None, None,
                     OVERDUE_SEND, id="later-installment-not-yet-due"),
        pytest.param([(1, "2026-11-01", "100.00"), (2, "2026-12-01", "100.00")], "100.00", None,
                     NOT_OVERDUE_BLOCK, id="past-due-paid-future-unpaid"),
    ],
)
def test_days_past_due_counts_from_first_unpaid_installment(
        tmp_path: Path, installments: list[tuple[int, str, str]], paid: str | None,
        config: str | None, expected: Expect) -> None:
    drop = Drop().loan("L1")
    for number, due_date, amount in installments:
        drop.installment("L1", number, due_date, amount)
    if paid is not None:
        drop.payment("P1", "L1", paid)
    drop.message("M1")
    assert run_m1(drop, tmp_path, config=config) == expected


# --------------------------------------------------------------------------- payments


@pytest.mark.parametrize(
    ("status", "posted_at", "expected"),
    [
        # One payment of 100.00 against 100.00 overdue.
        pytest.param("settled", "2026-11-01T10:00:00+08:00", NOT_OVERDUE_BLOCK,
                     id="settled-pays"),
        pytest.param("settled", AFTER_T, OVERDUE_SEND, id="settled-after-T-invisible-not-stale"),
        # Posted exactly at T: counted (and, being after the rule looked, stale).
        pytest.param("settled", AS_OF, ("block", "NOT_OVERDUE;STALE_DATA", "0.00", "0"),
                     id="settled-exactly-at-T-counts"),
        pytest.param("pending", "2026-11-01T10:00:00+08:00",
                     ("hold", "PAYMENT_PENDING", "100.00", "22"), id="pending-pays-nothing"),
        pytest.param("reversed", "2026-11-01T10:00:00+08:00", OVERDUE_SEND,
                     id="reversed-pays-nothing"),
        pytest.param("failed", "2026-11-01T10:00:00+08:00", OVERDUE_SEND,
                     id="failed-pays-nothing"),
    ],
)
def test_payment_status_and_visibility(tmp_path: Path, status: str, posted_at: str,
                                       expected: Expect) -> None:
    drop = (overdue_loan()
            .payment("P1", "L1", "100.00", status=status, posted_at=posted_at)
            .message("M1"))
    assert run_m1(drop, tmp_path) == expected


def test_payment_exactly_at_T_counts_without_being_stale(tmp_path: Path) -> None:
    # The rule looked at T itself, so a payment posted at T is not news to it.
    drop = (overdue_loan()
            .payment("P1", "L1", "100.00", posted_at=AS_OF)
            .message("M1", rule_evaluated_at=AS_OF))
    assert run_m1(drop, tmp_path) == NOT_OVERDUE_BLOCK


@pytest.mark.parametrize(
    ("payments", "config", "expected"),
    [
        # (amount, status, posted_at) against 100.00 overdue.
        pytest.param([("100.00", "pending", None)], None,
                     ("hold", "PAYMENT_PENDING", "100.00", "22"), id="pending-clears-exactly"),
        pytest.param([("150.00", "pending", None)], None,
                     ("hold", "PAYMENT_PENDING", "100.00", "22"), id="pending-more-than-owed"),
        pytest.param([("99.99", "pending", None)], None, OVERDUE_SEND,
                     id="pending-leaves-0.01"),
        pytest.param([("99.01", "pending", None)], "min_overdue_amount = 1.00",
                     ("hold", "PAYMENT_PENDING", "100.00", "22"),
                     id="min-1.00-pending-leaves-0.99"),
        pytest.param([("50.00", "settled", None), ("50.00", "pending", None)], None,
                     ("hold", "PAYMENT_PENDING", "50.00", "22"), id="settled-plus-pending"),
        pytest.param([("50.00", "pending", None), ("50.00", "pending", None)], None,
                     ("hold", "PAYMENT_PENDING", "100.00", "22"), id="two-pendings-add-up"),
        pytest.param([("100.00", "pending", AFTER_T)], None, OVERDUE_SEND,
                     id="pending-posted-after-T"),
        pytest.param([("100.00", "reversed", None)], None, OVERDUE_SEND,
                     id="reversed-is-not-pending"),
        pytest.param([("100.00", "settled", None), ("10.00", "pending", None)], None,
                     NOT_OVERDUE_BLOCK, id="not-overdue-no-pending-flag"),
    ],
)
def test_payment_pending(tmp_path: Path, payments: list[tuple[str, str, str | None]],
                         config: str | None, expected: Expect) -> None:
    drop = overdue_loan()
    for i, (amount, status, posted_at) in enumerate(payments):
        drop.payment(f"P{i}", "L1", amount, status=status,
                     posted_at=posted_at or "2026-11-01T10:00:00+08:00")
    drop.message("M1")
    assert run_m1(drop, tmp_path, config=config) == expected


# --------------------------------------------------------------------------- closed loans


@pytest.mark.parametrize(
    ("template_id", "expected"),
    [
        # Closed is not overdue, but overdue_amount is still reported; dpd is 0.
        pytest.param("T_COL", ("block", "NOT_OVERDUE", "100.00", "0"), id="collection"),
        pytest.param("T_REM", ("send", "", "100.00", "0"), id="reminder"),
    ],
)
def test_closed_loan_with_a_balance(tmp_path: Path, template_id: str,
                                    expected: Expect) -> None:
    drop = overdue_loan(status="closed").message("M1", template_id=template_id)
    assert run_m1(drop, tmp_path) == expected


# --------------------------------------------------------------------------- PRE_DUE_TARGETING


@pytest.mark.parametrize(
    ("loan_id", "template_id", "rule_id", "claims", "expected"),
    [
        # L1 owes nothing yet; L2 is 100.00 overdue, 22 days past due.
        pytest.param("L1", "T_COL", "R_RISK", {},
                     ("block", "NOT_OVERDUE;PRE_DUE_TARGETING", "0.00", "0"),
                     id="risk-control-rule"),
        pytest.param("L1", "T_COL", "R_DEL", {"claimed_days_past_due": "0"},
                     ("block", "NOT_OVERDUE;PRE_DUE_TARGETING", "0.00", "0"), id="claim-0"),
        # -3 is also 3 days from the truth (0): RULE_MISMATCH too.
        pytest.param("L1", "T_COL", "R_DEL", {"claimed_days_past_due": "-3"},
                     ("block", "NOT_OVERDUE;PRE_DUE_TARGETING;RULE_MISMATCH", "0.00", "0"),
                     id="claim-minus-3"),
        pytest.param("L1", "T_COL", "R_DEL", {"claimed_days_past_due": "1"}, NOT_OVERDUE_BLOCK,
                     id="claim-1"),
        pytest.param("L1", "T_COL", "R_DEL", {}, NOT_OVERDUE_BLOCK, id="no-claim"),
        # A rule not in `rules` has no category: the risk_control clause is not evaluated.
        pytest.param("L1", "T_COL", "R_NOWHERE", {}, NOT_OVERDUE_BLOCK, id="rule-not-in-rules"),
        pytest.param("L1", "T_ESC", "R_RISK", {},
                     ("block", "NOT_OVERDUE;PRE_DUE_TARGETING", "0.00", "0"),
                     id="escalation-template"),
        pytest.param("L1", "T_REM", "R_DEL", {}, ("send", "", "0.00", "0"),
                     id="reminder-not-overdue"),
        pytest.param("L1", "T_REM", "R_RISK", {"claimed_days_past_due": "0"},
                     ("send", "", "0.00", "0"), id="reminder-risk-rule-claim-0"),
        pytest.param("L2", "T_COL", "R_RISK", {}, OVERDUE_SEND, id="risk-rule-on-overdue-loan"),
        pytest.param("L2", "T_COL", "R_DEL", {"claimed_days_past_due": "0"},
                     ("hold", "RULE_MISMATCH", "100.00", "22"), id="claim-0-on-overdue-loan"),
    ],
)
def test_pre_due_targeting(tmp_path: Path, loan_id: str, template_id: str, rule_id: str,
                           claims: dict[str, str], expected: Expect) -> None:
    drop = not_due_loan(loan_id="L1")
    overdue_loan(drop, loan_id="L2")
    drop.template("T_ESC", "escalation")
    drop.message("M1", loan_id=loan_id, template_id=template_id, rule_id=rule_id, **claims)
    assert run_m1(drop, tmp_path) == expected


# --------------------------------------------------------------------------- STALE_DATA

STALE_HOLD: Expect = ("hold", "STALE_DATA", "100.00", "22")


@pytest.mark.parametrize(
    ("change", "message", "config", "expected"),
    [
        # change(drop) adds rows to the overdue loan L1 (100.00 due 2026-11-01).
        pytest.param(lambda d: d.payment("P1", "L1", "10.00", "settled", AFTER_RULE), {}, None,
                     ("hold", "STALE_DATA", "90.00", "22"), id="settled-after-rule"),
        pytest.param(lambda d: d.payment("P1", "L1", "10.00", "pending", AFTER_RULE), {}, None,
                     STALE_HOLD, id="pending-after-rule"),
        pytest.param(lambda d: d.payment("P1", "L1", "10.00", "reversed", AFTER_RULE), {}, None,
                     STALE_HOLD, id="reversed-after-rule"),
        pytest.param(lambda d: d.payment("P1", "L1", "10.00", "failed", AFTER_RULE), {}, None,
                     STALE_HOLD, id="failed-after-rule"),
        pytest.param(lambda d: d.payment("P1", "L1", "10.00", "settled", RULE_EVALUATED), {},
                     None, ("send", "", "90.00", "22"), id="payment-at-rule-time"),
        pytest.param(lambda d: d.payment("P1", "L1", "10.00", "settled", AFTER_T), {}, None,
                     OVERDUE_SEND, id="payment-after-T"),
        pytest.param(lambda d: d.loan("L2").payment("P1", "L2", "10.00", "settled", AFTER_RULE),
                     {}, None, OVERDUE_SEND, id="payment-on-another-loan"),
        pytest.param(lambda d: d.installment("L1", 2, "2026-12-01", "50.00", AFTER_RULE), {},
                     None, STALE_HOLD, id="installment-updated-after-rule"),
        pytest.param(lambda d: d.installment("L1", 2, "2026-12-01", "50.00", RULE_EVALUATED),
                     {}, None, OVERDUE_SEND, id="installment-updated-at-rule-time"),
        # Updated after T: not stale, yet the installment counts whatever its updated_at.
        pytest.param(lambda d: d.installment("L1", 2, "2026-11-10", "50.00", AFTER_T), {}, None,
                     ("send", "", "150.00", "22"), id="installment-updated-after-T"),
        pytest.param(lambda d: d, {"rule_evaluated_at": "2026-11-22T02:00:00+08:00"}, None,
                     OVERDUE_SEND, id="rule-age-exactly-24h"),
        pytest.param(lambda d: d, {"rule_evaluated_at": "2026-11-22T01:59:59+08:00"}, None,
                     STALE_HOLD, id="rule-age-24h+1s"),
        pytest.param(lambda d: d, {}, "max_rule_age_hours = 4", OVERDUE_SEND,
                     id="config-max-4h-age-exactly-4h"),
        pytest.param(lambda d: d, {}, "max_rule_age_hours = 3", STALE_HOLD,
                     id="config-max-3h-age-4h"),
    ],
)
def test_stale_data(tmp_path: Path, change: Callable[[Drop], Drop], message: dict[str, str],
                    config: str | None, expected: Expect) -> None:
    drop = overdue_loan()
    change(drop)
    drop.message("M1", **message)
    assert run_m1(drop, tmp_path, config=config) == expected


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_stale_data_names_the_highest_installment_updated_last(tmp_path: Path, fmt: str) -> None:
    # Equal updated_at: the tie goes to the highest installment_no, negative numbers included
    # (loan_ledger orders (updated_at, installment_no) as one number).
    drop = overdue_loan().installment("L1", -999999999, "2026-12-01", "5.00", AFTER_RULE)
    drop.installment("L1", 7, "2026-12-02", "5.00", AFTER_RULE)
    drop.installment("L1", 3, "2026-12-03", "5.00", "2026-11-22T22:59:59+08:00")
    drop.message("M1")
    reason = run_drop(drop, tmp_path, fmt=fmt)["M1"]["reason"]
    assert "STALE_DATA: installment 7 updated 2026-11-22 23:00:00+08 after the rule" in reason


# --------------------------------------------------------------------------- unknown / mismatch


@pytest.mark.parametrize(
    ("setup", "message", "expected"),
    [
        pytest.param(overdue_loan, {"loan_id": "L9", "claimed_overdue_amount": "5.00",
                                    "claimed_days_past_due": "7"},
                     ("block", "UNKNOWN_LOAN", "", ""), id="unknown-loan"),
        # The ledger clauses of STALE_DATA need no loans row.
        pytest.param(lambda: Drop().payment("P1", "L9", "10.00", posted_at=AFTER_RULE),
                     {"loan_id": "L9"}, ("block", "STALE_DATA;UNKNOWN_LOAN", "", ""),
                     id="unknown-loan-with-fresh-payment"),
        pytest.param(overdue_loan, {"loan_id": "L9",
                                    "rule_evaluated_at": "2026-11-21T00:00:00+08:00"},
                     ("block", "STALE_DATA;UNKNOWN_LOAN", "", ""), id="unknown-loan-old-rule"),
        pytest.param(overdue_loan, {"borrower_id": "B2"},
                     ("block", "BORROWER_MISMATCH", "100.00", "22"), id="borrower-mismatch"),
        pytest.param(not_due_loan, {"borrower_id": "B2"},
                     ("block", "NOT_OVERDUE;BORROWER_MISMATCH", "0.00", "0"),
                     id="borrower-mismatch-not-overdue"),
        pytest.param(overdue_loan, {"template_id": "T_NOWHERE"},
                     ("hold", "UNKNOWN_TEMPLATE", "100.00", "22"), id="unknown-template"),
        # Without a template, NOT_OVERDUE and PRE_DUE_TARGETING are not evaluated.
        pytest.param(not_due_loan, {"template_id": "T_NOWHERE", "rule_id": "R_RISK"},
                     ("hold", "UNKNOWN_TEMPLATE", "0.00", "0"),
                     id="unknown-template-not-overdue"),
        # The claim clauses of RULE_MISMATCH need no template.
        pytest.param(overdue_loan, {"template_id": "T_NOWHERE", "claimed_overdue_amount": "5.00"},
                     ("hold", "RULE_MISMATCH;UNKNOWN_TEMPLATE", "100.00", "22"),
                     id="unknown-template-claim-mismatch"),
        pytest.param(lambda: not_due_loan().template("T_BAD", "sms"), {"template_id": "T_BAD"},
                     ("hold", "UNKNOWN_TEMPLATE", "0.00", "0"), id="template-kind-unknown"),
        pytest.param(lambda: overdue_loan().template("T_BAD", "collection", min_dpd="1.5"),
                     {"template_id": "T_BAD"}, ("hold", "UNKNOWN_TEMPLATE", "100.00", "22"),
                     id="template-min-dpd-not-integer"),
        pytest.param(lambda: not_due_loan().template("T_COL", "reminder"), {},
                     ("hold", "UNKNOWN_TEMPLATE", "0.00", "0"), id="template-id-twice"),
    ],
)
def test_unknown_and_mismatched_references(tmp_path: Path, setup: Callable[[], Drop],
                                           message: dict[str, str], expected: Expect) -> None:
    drop = setup().message("M1", **message)
    assert run_m1(drop, tmp_path) == expected


@pytest.mark.parametrize(("setup", "template_id", "said"), [
    pytest.param(overdue_loan, "T_NOWHERE", "UNKNOWN_TEMPLATE: template_id T_NOWHERE is not in "
                 "templates", id="absent"),
    pytest.param(lambda: overdue_loan().template("T_BAD", "sms"), "T_BAD",
                 "UNKNOWN_TEMPLATE: templates row 3: kind 'sms' is not one of", id="unusable"),
])
def test_unknown_template_says_why(tmp_path: Path, setup: Callable[[], Drop], template_id: str,
                                   said: str) -> None:
    """The evidence is the templates row's problem, or that no row has the template_id; a
    usable template has none to give (message_inputs makes it for the others only)."""
    findings = run_drop(setup().message("M1", template_id=template_id).message("M2"), tmp_path)
    assert findings["M1"]["reason"].startswith(said), findings["M1"]["reason"]
    assert "UNKNOWN_TEMPLATE" not in findings["M2"]["reason"]


# --------------------------------------------------------------------------- LEDGER_INVALID


@pytest.mark.parametrize(
    ("loan", "bad_row", "expected"),
    [
        # Without a bad row this message is NOT_OVERDUE, PRE_DUE_TARGETING and RULE_MISMATCH:
        pytest.param({}, None,
                     ("block", "NOT_OVERDUE;PRE_DUE_TARGETING;RULE_MISMATCH", "0.00", "0"),
                     id="control-no-bad-row"),
        # ... with one, none of those is evaluated and the truth is unknown.
        pytest.param({}, lambda d: d.installment("L1", 2, "2026-12-10", "-1.00"),
                     LEDGER_INVALID_HOLD, id="negative-amount-due"),
        pytest.param({}, lambda d: d.installment("L1", 2, "2026-12-10", "1.001"),
                     LEDGER_INVALID_HOLD, id="amount-due-3-decimals"),
        pytest.param({}, lambda d: d.installment("L1", 2, "2026-12-10", None),
                     LEDGER_INVALID_HOLD, id="amount-due-empty"),
        pytest.param({}, lambda d: d.installment("L1", 2, "2026/11/01", "1.00"),
                     LEDGER_INVALID_HOLD, id="due-date-slashes"),
        pytest.param({}, lambda d: d.installment("L1", 2, "2026-11-31", "1.00"),
                     LEDGER_INVALID_HOLD, id="due-date-not-a-day"),
        pytest.param({}, lambda d: d.installment("L1", "3.5", "2026-12-10", "1.00"),
                     LEDGER_INVALID_HOLD, id="installment-no-3.5"),
        pytest.param({}, lambda d: d.installment("L1", 2, "2026-12-10", "1.00",
                                                 updated_at="2026-11-31 09:00:00"),
                     LEDGER_INVALID_HOLD, id="updated-at-unparseable"),
        pytest.param({}, lambda d: d.installment("L1", 1, "2026-12-01", "100.00"),
                     LEDGER_INVALID_HOLD, id="installment-no-twice"),
        pytest.param({}, lambda d: d.payment("P1", "L1", "0"),
                     LEDGER_INVALID_HOLD, id="payment-amount-0"),
        pytest.param({}, lambda d: d.payment("P1", "L1", "-5.00"),
                     LEDGER_INVALID_HOLD, id="payment-amount-negative"),
        pytest.param({}, lambda d: d.payment("P1", "L1", "5.00", status="cancelled"),
                     LEDGER_INVALID_HOLD, id="payment-status-unknown"),
        pytest.param({}, lambda d: d.payment("P1", "L1", "5.00", status=""),
                     LEDGER_INVALID_HOLD, id="payment-status-empty"),
        pytest.param({}, lambda d: d.payment("P1", "L1", "5.00", posted_at="2026/11/01 10:00"),
                     LEDGER_INVALID_HOLD, id="posted-at-unparseable"),
        pytest.param({}, lambda d: d.payment("P1", "L1", "5.00", posted_at="2026-11-01"),
                     LEDGER_INVALID_HOLD, id="posted-at-date-only"),
        pytest.param({}, lambda d: d.payment("P1", "L1", "5.00", paid_at="11/20/2026 09:00"),
                     LEDGER_INVALID_HOLD, id="paid-at-unparseable"),
        pytest.param({}, lambda d: d.payment("P0", "L1", "10.00"),
                     LEDGER_INVALID_HOLD, id="payment-id-twice-same-loan"),
        # A fresh bad payment: the ledger clauses of STALE_DATA are not evaluated either.
        pytest.param({}, lambda d: d.payment("P1", "L1", "0", posted_at=AFTER_RULE),
                     LEDGER_INVALID_HOLD, id="bad-payment-after-rule-not-stale"),
        pytest.param({"status": "open"}, None, LEDGER_INVALID_HOLD, id="loan-status-open"),
        pytest.param({"grace_days": "-1"}, None, LEDGER_INVALID_HOLD, id="loan-grace-negative"),
        pytest.param({"grace_days": "1.5"}, None, LEDGER_INVALID_HOLD,
                     id="loan-grace-not-integer"),
        pytest.param({}, lambda d: d.loan("L1"), LEDGER_INVALID_HOLD, id="loan-id-twice"),
    ],
)
def test_ledger_invalid(tmp_path: Path, loan: dict[str, str],
                        bad_row: Callable[[Drop], Drop] | None, expected: Expect) -> None:
    drop = (not_due_loan(**loan)
            .payment("P0", "L1", "10.00")
            .message("M1", rule_id="R_RISK", claimed_overdue_amount="5.00",
                     claimed_days_past_due="7"))
    if bad_row is not None:
        bad_row(drop)
    assert run_m1(drop, tmp_path) == expected


def test_ledger_invalid_keeps_the_rule_age_clause_of_stale_data(tmp_path: Path) -> None:
    drop = (overdue_loan()
            .payment("P1", "L1", "0")
            .message("M1", rule_evaluated_at="2026-11-21T00:00:00+08:00"))
    assert run_m1(drop, tmp_path) == ("hold", "STALE_DATA;LEDGER_INVALID", "", "")


@pytest.mark.parametrize(
    ("loan", "bad_row", "expected"),
    [
        # A bad ledger row leaves the loan row usable: its borrower is still checked.
        pytest.param({}, lambda d: d.payment("P1", "L1", "0"),
                     ("block", "BORROWER_MISMATCH;LEDGER_INVALID", "", ""), id="bad-payment"),
        # An unusable loan row: BORROWER_MISMATCH is not evaluated.
        pytest.param({"status": "open"}, None, LEDGER_INVALID_HOLD, id="bad-loan-row"),
    ],
)
def test_ledger_invalid_and_borrower_mismatch(tmp_path: Path, loan: dict[str, str],
                                              bad_row: Callable[[Drop], Drop] | None,
                                              expected: Expect) -> None:
    drop = overdue_loan(**loan).message("M1", borrower_id="B2")
    if bad_row is not None:
        bad_row(drop)
    assert run_m1(drop, tmp_path) == expected


def test_payment_id_used_on_two_loans_flags_both(tmp_path: Path) -> None:
    drop = Drop()
    for loan_id in ("L1", "L2", "L3"):
        overdue_loan(drop, loan_id=loan_id)
    drop.payment("P9", "L1", "10.00").payment("P9", "L2", "10.00")
    drop.payment("P3", "L3", "10.00")
    drop.message("M1", loan_id="L1").message("M2", loan_id="L2").message("M3", loan_id="L3")
    findings = run_drop(drop, tmp_path)
    assert {m: result(row) for m, row in findings.items()} == {
        "M1": LEDGER_INVALID_HOLD,
        "M2": LEDGER_INVALID_HOLD,
        "M3": ("send", "", "90.00", "22"),
    }


# --------------------------------------------------------------------------- timestamp forms

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _stamp(local: str, form: str) -> str:
    """The Shanghai wall-clock time `local` ('YYYY-MM-DD HH:MM:SS') written in `form`."""
    instant = dt.datetime.fromisoformat(local).replace(tzinfo=SHANGHAI)
    if form == "naive":
        return local
    if form == "+08:00":
        return instant.isoformat()
    if form == "+0800":
        return instant.strftime("%Y-%m-%dT%H:%M:%S%z")
    assert form == "Z"
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


TIMED_EXPECTED: dict[str, Expect] = {
    "M1": ("hold", "STALE_DATA", "70.00", "22"),  # paid 30.00 exactly at T, after the rule
    "M2": OVERDUE_SEND,  # paid 100.00 one second after T
    "M3": ("send", "", "100.00", "1"),  # scheduled 00:30 on the 23rd, due the 22nd
    "M4": NOT_OVERDUE_BLOCK,  # scheduled 23:59:59 on the 22nd, due the 22nd
    "M5": STALE_HOLD,  # installment updated one second after the rule looked
    "M6": OVERDUE_SEND,  # rule exactly 24 h old
    "M7": STALE_HOLD,  # rule 24 h + 1 s old
    "M8": OVERDUE_SEND,  # rule looked exactly when the installment was updated
}


@pytest.mark.parametrize("form", ["naive", "+08:00", "+0800", "Z"])
def test_timestamp_forms_of_the_same_instant_agree(tmp_path: Path, form: str) -> None:
    def ts(local: str) -> str:
        return _stamp(local, form)

    drop = Drop()
    overdue_loan(drop, "L1").payment("P1", "L1", "30.00", posted_at=ts("2026-11-23 02:00:00"))
    overdue_loan(drop, "L2").payment("P2", "L2", "100.00", posted_at=ts("2026-11-23 02:00:01"))
    drop.loan("L3").installment("L3", 1, "2026-11-22", "100.00")
    drop.loan("L4").installment("L4", 1, "2026-11-01", "100.00",
                                updated_at=ts("2026-11-22 22:00:01"))
    for message_id, loan_id, evaluated, scheduled in [
        ("M1", "L1", "2026-11-22 22:00:00", "2026-11-23 09:00:00"),
        ("M2", "L2", "2026-11-22 22:00:00", "2026-11-23 09:00:00"),
        ("M3", "L3", "2026-11-22 22:00:00", "2026-11-23 00:30:00"),
        ("M4", "L3", "2026-11-22 22:00:00", "2026-11-22 23:59:59"),
        ("M5", "L4", "2026-11-22 22:00:00", "2026-11-23 09:00:00"),
        ("M6", "L2", "2026-11-22 02:00:00", "2026-11-23 09:00:00"),
        ("M7", "L2", "2026-11-22 01:59:59", "2026-11-23 09:00:00"),
        ("M8", "L4", "2026-11-22 22:00:01", "2026-11-23 09:00:00"),
    ]:
        drop.message(message_id, loan_id=loan_id, rule_evaluated_at=ts(evaluated),
                     scheduled_at=ts(scheduled))
    findings = run_drop(drop, tmp_path, as_of=ts("2026-11-23 02:00:00"))
    assert {m: result(row) for m, row in findings.items()} == TIMED_EXPECTED


# --------------------------------------------------------------------------- a drop with most flags


def busy_drop() -> Drop:
    """Most flags, each on its own message, with typed-friendly columns for Parquet."""
    drop = Drop().template("T_RANGE", "collection", min_dpd="30")
    overdue_loan(drop, "L1").payment("P1", "L1", "40.00", posted_at="2026-11-05 10:00:00")
    not_due_loan(drop, "L2")
    overdue_loan(drop, "L3").payment("P3", "L3", "10.00", posted_at="2026-11-22 23:00:00")
    overdue_loan(drop, "L4").payment("P4", "L4", "100.00", status="pending",
                                     posted_at="2026-11-20 10:00:00")
    overdue_loan(drop, "L5").installment("L5", 2, "2026-12-01", "-1.00")
    overdue_loan(drop, "L6", status="closed")
    drop.loan("L7", grace_days="3").installment("L7", 1, "2026-11-20", "100.00")
    drop.loan("L8").installment("L8", 1, "2026-11-10", "100.00", updated_at=AFTER_RULE)
    (drop
     .message("S01", "L1", claimed_overdue_amount="60.00", claimed_days_past_due="22")
     .message("S02", "L2")
     .message("S03", "L2", rule_id="R_RISK")
     .message("S04", "L3")
     .message("S05", "L1", claimed_overdue_amount="100.00")
     .message("S06", "L4")
     .message("S07", "L9")
     .message("S08", "L1", borrower_id="B2")
     .message("S09", "L1", template_id="T_NOWHERE")
     .message("S10", "L5")
     .message("S11", "L6")
     .message("S12", "L7")
     .message("S13", "L8")
     .message("S14", "L1", template_id="T_REM")
     .message("S15", "L1", template_id="T_RANGE")
     .message("S16", "L2", claimed_days_past_due="-3",
              rule_evaluated_at="2026-11-21T00:00:00+08:00"))
    return drop


BUSY_EXPECTED: dict[str, Expect] = {
    "S01": ("send", "", "60.00", "22"),
    "S02": NOT_OVERDUE_BLOCK,
    "S03": ("block", "NOT_OVERDUE;PRE_DUE_TARGETING", "0.00", "0"),
    "S04": ("hold", "STALE_DATA", "90.00", "22"),
    "S05": ("hold", "RULE_MISMATCH", "60.00", "22"),
    "S06": ("hold", "PAYMENT_PENDING", "100.00", "22"),
    "S07": ("block", "UNKNOWN_LOAN", "", ""),
    "S08": ("block", "BORROWER_MISMATCH", "60.00", "22"),
    "S09": ("hold", "UNKNOWN_TEMPLATE", "60.00", "22"),
    "S10": LEDGER_INVALID_HOLD,
    "S11": ("block", "NOT_OVERDUE", "100.00", "0"),
    "S12": NOT_OVERDUE_BLOCK,
    "S13": ("hold", "STALE_DATA", "100.00", "13"),
    "S14": ("send", "", "60.00", "22"),
    "S15": ("hold", "RULE_MISMATCH", "60.00", "22"),
    "S16": ("block", "NOT_OVERDUE;PRE_DUE_TARGETING;STALE_DATA;RULE_MISMATCH", "0.00", "0"),
}


def test_busy_drop_findings(tmp_path: Path) -> None:
    findings = run_drop(busy_drop(), tmp_path)
    assert {m: result(row) for m, row in findings.items()} == BUSY_EXPECTED


_PARQUET_FILE = re.compile(r"\b([a-z_]+)\.parquet\b")


def test_csv_and_parquet_inputs_give_identical_findings(tmp_path: Path) -> None:
    drop = busy_drop()
    run_drop(drop, tmp_path, fmt="csv")
    from_parquet = run_drop(drop, tmp_path, fmt="parquet")
    assert {m: result(row) for m, row in from_parquet.items()} == BUSY_EXPECTED
    csv_text = (tmp_path / "out_csv" / "findings.csv").read_text(encoding="utf-8")
    parquet_text = (tmp_path / "out_parquet" / "findings.csv").read_text(encoding="utf-8")
    # A reason may name the input file it quotes ("installments.parquet row 6: ..."): that
    # file name is the one difference the format may make.
    assert _PARQUET_FILE.sub(r"\1.csv", parquet_text) == csv_text


def test_reason_names_every_flag(tmp_path: Path) -> None:
    findings = run_drop(busy_drop(), tmp_path)
    flagged = {m: row for m, row in findings.items() if row["flags"]}
    assert len(flagged) == 14
    for message_id, row in flagged.items():
        assert row["reason"].strip(), message_id
        for flag in row["flags"].split(";"):
            assert flag in row["reason"], (message_id, flag, row["reason"])


# --------------------------------------------------------------------------- verdict policy


def policy_drop() -> Drop:
    drop = overdue_loan(loan_id="L1").payment("P1", "L1", "10.00", posted_at=AFTER_RULE)
    drop.loan("L2").installment("L2", 1, "2026-12-01", "100.00", updated_at=AFTER_RULE)
    overdue_loan(drop, loan_id="L3")
    return (drop
            .message("STALE", "L1")
            .message("STALE+MISMATCH", "L1", claimed_overdue_amount="100.00")
            .message("NOT_OVERDUE+STALE", "L2")
            .message("MISMATCH", "L3", claimed_overdue_amount="50.00")
            .message("CLEAN", "L3"))


POLICY_FLAGS = {
    "STALE": "STALE_DATA",
    "STALE+MISMATCH": "STALE_DATA;RULE_MISMATCH",
    "NOT_OVERDUE+STALE": "NOT_OVERDUE;STALE_DATA",
    "MISMATCH": "RULE_MISMATCH",
    "CLEAN": "",
}


@pytest.mark.parametrize(
    ("config", "verdicts"),
    [
        # verdicts of: STALE, STALE+MISMATCH, NOT_OVERDUE+STALE, MISMATCH, CLEAN
        pytest.param(None, ("hold", "hold", "block", "hold", "send"), id="default"),
        pytest.param('[verdicts]\nSTALE_DATA = "block"',
                     ("block", "block", "block", "hold", "send"), id="stale-blocks"),
        pytest.param('[verdicts]\nSTALE_DATA = "send"',
                     ("send", "hold", "block", "hold", "send"), id="stale-sends"),
        pytest.param('[verdicts]\nNOT_OVERDUE = "hold"',
                     ("hold", "hold", "hold", "hold", "send"), id="not-overdue-holds"),
        pytest.param('[verdicts]\nNOT_OVERDUE = "send"\nSTALE_DATA = "send"',
                     ("send", "hold", "send", "hold", "send"), id="both-send"),
        pytest.param('[verdicts]\nRULE_MISMATCH = "block"',
                     ("hold", "block", "block", "block", "send"), id="mismatch-blocks"),
        pytest.param('grace_days = 0\n[verdicts]\nRULE_MISMATCH = "send"',
                     ("hold", "hold", "block", "send", "send"), id="mismatch-sends"),
    ],
)
def test_verdict_policy_and_precedence(tmp_path: Path, config: str | None,
                                       verdicts: tuple[str, ...]) -> None:
    findings = run_drop(policy_drop(), tmp_path, config=config)
    expected = dict(zip(POLICY_FLAGS, verdicts, strict=True))
    assert {m: row["verdict"] for m, row in findings.items()} == expected
    # The policy changes verdicts only, never which flags hold.
    assert {m: row["flags"] for m, row in findings.items()} == POLICY_FLAGS
