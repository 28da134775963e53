"""The oracle (reconcile.synth.reference) on the optional ledger facts of docs/inputs.md
("Pauses, a loan's own tolerance, amount components"): pause
periods (collection_pauses, COLLECTION_PAUSED and its STALE_DATA clause), a loan's own
min_overdue_amount, amount components of installments and payments (and the labelled
component amounts a text states), and payments' installment_no.

Every drop is written here as {table: [row of text cells]}, so what a test is about is in
the test. The base night: L1 owes 100.00 due 2026-11-01; the rule ran at 22:00 on the 22nd;
M1 (collection, T_COL) is scheduled 2026-11-23 09:00 Shanghai, so d(s) = 2026-11-23 and
M1 is 22 days past due; T is 02:00 on the 23rd.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from reconcile.synth.reference import (
    DEFAULT_POLICY,
    FLAGS,
    Settings,
    reference,
    stated_components,
)

AS_OF = dt.datetime.fromisoformat("2026-11-23T02:00:00+08:00")
RULE_RAN = "2026-11-22T22:00:00+08:00"
BEFORE_THE_RULE = "2026-11-20T10:00:00+08:00"

Tables = dict[str, list[dict[str, Any]]]


def night(loan: dict[str, str] | None = None, installment: dict[str, str] | None = None,
          template_id: str = "T_COL", text: str | None = None,
          pauses: list[dict[str, str]] | None = None) -> Tables:
    """The base night; the arguments add cells to L1's loan or installment row, choose M1's
    template and text, and give a collection_pauses table (None: the drop has none)."""
    tables: Tables = {
        "send_batch": [{
            "message_id": "M1", "borrower_id": "B1", "loan_id": "L1",
            "phone": "13800001234", "template_id": template_id, "rule_id": "R_DEL",
            "rule_evaluated_at": RULE_RAN, "scheduled_at": "2026-11-23T09:00:00+08:00",
            "message_text": text,
        }],
        "templates": [{"template_id": "T_COL", "kind": "collection"},
                      {"template_id": "T_REM", "kind": "reminder"}],
        "rules": [{"rule_id": "R_DEL", "category": "delinquency"}],
        "loans": [{"loan_id": "L1", "borrower_id": "B1", "status": "active", **(loan or {})}],
        "installments": [{"loan_id": "L1", "installment_no": "1", "due_date": "2026-11-01",
                          "amount_due": "100.00", **(installment or {})}],
        "payments": [],
    }
    if pauses is not None:
        tables["collection_pauses"] = pauses
    return tables


def pause(paused_from: str, paused_until: str = "", kind: str = "hardship_relief",
          recorded_at: str = BEFORE_THE_RULE, loan_id: str = "L1") -> dict[str, str]:
    return {"loan_id": loan_id, "kind": kind, "paused_from": paused_from,
            "paused_until": paused_until, "recorded_at": recorded_at}


def payment(amount: str, status: str = "settled", **cells: str) -> dict[str, str]:
    return {"payment_id": f"P{amount}{status}", "loan_id": "L1", "amount": amount,
            "status": status, "posted_at": "2026-11-10T10:00:00+08:00", **cells}


def flags(tables: Tables, **settings: Any) -> list[str]:
    """M1's flags (contact-policy flags play no part: one message, cn defaults)."""
    (finding,) = reference(tables, AS_OF, Settings(**settings))
    return finding.flags


def finding_of(tables: Tables) -> tuple[str, list[str], Decimal | None, int | None]:
    (finding,) = reference(tables, AS_OF)
    return finding.verdict, finding.flags, finding.overdue_amount, finding.days_past_due


# --------------------------------------------------------------------------- the flag


def test_collection_paused_sits_after_ledger_invalid_and_blocks() -> None:
    assert FLAGS[FLAGS.index("LEDGER_INVALID") + 1] == "COLLECTION_PAUSED"
    assert FLAGS[FLAGS.index("COLLECTION_PAUSED") + 1] == "CLOCK_SKEW"
    assert DEFAULT_POLICY["COLLECTION_PAUSED"] == "block"


@pytest.mark.parametrize(
    ("period", "paused"),
    [
        (pause("2026-11-01", "2026-11-22"), False),  # ends the day before d(s)
        (pause("2026-11-01", "2026-11-23"), True),  # ends on d(s): both ends inclusive
        (pause("2026-11-23", "2026-11-23"), True),  # one day, d(s) itself
        (pause("2026-11-24", "2026-12-31"), False),  # starts the day after d(s)
        (pause("2026-11-01"), True),  # open-ended
        (pause("2026-11-24"), False),  # open-ended, but not yet begun
    ],
)
def test_a_period_is_active_when_d_s_is_within_it(period: dict[str, str],
                                                  paused: bool) -> None:
    expected = ("block", ["COLLECTION_PAUSED"]) if paused else ("send", [])
    assert finding_of(night(pauses=[period]))[:2] == expected


def test_d_s_is_the_local_date_in_the_configured_timezone() -> None:
    # 09:00 Shanghai on the 23rd is 20:00 on the 22nd in New York: a pause ending on the
    # 22nd is active there.
    tables = night(pauses=[pause("2026-11-01", "2026-11-22")])
    assert "COLLECTION_PAUSED" not in flags(tables)
    assert "COLLECTION_PAUSED" in flags(tables, timezone="America/New_York")


@pytest.mark.parametrize("kind", ["collection_stop", "collection_delay", "hardship_relief",
                                  "payment_holiday", "repayment_plan"])
def test_every_kind_pauses(kind: str) -> None:
    assert flags(night(pauses=[pause("2026-11-01", kind=kind)])) == ["COLLECTION_PAUSED"]


def test_a_reminder_inside_a_pause_is_not_flagged() -> None:
    assert flags(night(template_id="T_REM", pauses=[pause("2026-11-01")])) == []


def test_an_escalation_inside_a_pause_is_flagged() -> None:
    tables = night(template_id="T_ESC", pauses=[pause("2026-11-01")])
    tables["templates"].append({"template_id": "T_ESC", "kind": "escalation"})
    assert flags(tables) == ["COLLECTION_PAUSED"]


def test_an_unknown_template_is_not_paused() -> None:
    tables = night(template_id="T_NONE", pauses=[pause("2026-11-01")])
    assert flags(tables) == ["UNKNOWN_TEMPLATE"]


def test_a_pause_of_another_loan_does_not_pause() -> None:
    assert flags(night(pauses=[pause("2026-11-01", loan_id="L2")])) == []


def test_without_the_table_nothing_is_paused_and_an_empty_table_pauses_nothing() -> None:
    assert flags(night()) == []
    assert flags(night(pauses=[])) == []


def test_a_pause_of_an_unknown_loan_pauses_its_messages() -> None:
    # Nothing but the period's own row is needed.
    tables = night(pauses=[pause("2026-11-01")])
    tables["loans"] = []
    assert flags(tables) == ["UNKNOWN_LOAN", "COLLECTION_PAUSED"]


def test_a_usable_period_pauses_even_when_another_row_makes_the_ledger_invalid() -> None:
    tables = night(pauses=[pause("2026-11-01"), pause("2026-11-01", kind="vacation")])
    assert flags(tables) == ["LEDGER_INVALID", "COLLECTION_PAUSED"]


# --------------------------------------------------------------------------- known at T


def test_a_pause_recorded_one_second_after_the_rule_ran_is_stale_data() -> None:
    late = pause("2026-11-01", recorded_at="2026-11-22T22:00:01+08:00")
    assert flags(night(pauses=[late])) == ["STALE_DATA", "COLLECTION_PAUSED"]


def test_a_pause_recorded_when_the_rule_ran_is_not_stale() -> None:
    on_time = pause("2026-11-01", recorded_at=RULE_RAN)
    assert flags(night(pauses=[on_time])) == ["COLLECTION_PAUSED"]


def test_a_pause_recorded_after_t_does_not_exist_for_the_run() -> None:
    after_t = pause("2026-11-01", recorded_at="2026-11-23T02:00:01+08:00")
    assert flags(night(pauses=[after_t])) == []


def test_a_pause_recorded_at_t_exists() -> None:
    at_t = pause("2026-11-01", recorded_at="2026-11-23T02:00:00+08:00")
    assert flags(night(pauses=[at_t])) == ["STALE_DATA", "COLLECTION_PAUSED"]


def test_a_recent_pause_of_an_invalid_ledger_is_not_stale_data() -> None:
    # The STALE_DATA ledger clauses are not evaluated on an unusable ledger.
    late = pause("2026-11-24", recorded_at="2026-11-22T23:00:00+08:00")
    assert flags(night(loan={"grace_days": "x"}, pauses=[late])) == ["LEDGER_INVALID"]


# --------------------------------------------------------------------------- unusable rows


@pytest.mark.parametrize(
    "row",
    [
        pause("2026-11-24", kind="vacation"),  # not one of the kinds
        pause("2026-11-24", kind=""),
        pause(""),
        pause("2026-11-31"),  # not a calendar day
        pause("2026-11-24", recorded_at=""),
        pause("2026-11-24", recorded_at="yesterday"),
        pause("2026-11-24", "2026-12-xx"),
        pause("2026-11-24", "2026-11-23"),  # paused_until is before paused_from
    ],
)
def test_an_unusable_pause_row_makes_the_ledger_invalid(row: dict[str, str]) -> None:
    assert finding_of(night(pauses=[row])) == ("hold", ["LEDGER_INVALID"], None, None)


def test_a_one_day_period_is_usable() -> None:
    assert flags(night(pauses=[pause("2026-11-24", "2026-11-24")])) == []


def test_kind_and_loan_id_are_trimmed() -> None:
    row = pause("2026-11-01", kind=" payment_holiday\u3000", loan_id=" L1 ")
    assert flags(night(pauses=[row])) == ["COLLECTION_PAUSED"]


# --------------------------------------------------------------------------- min_overdue_amount


def test_a_loan_tolerance_equal_to_the_overdue_amount_is_overdue() -> None:
    assert finding_of(night(loan={"min_overdue_amount": "100.00"})) == (
        "send", [], Decimal("100.00"), 22)


def test_a_loan_tolerance_one_cent_above_the_overdue_amount_is_not_overdue() -> None:
    assert finding_of(night(loan={"min_overdue_amount": "100.01"})) == (
        "block", ["NOT_OVERDUE"], Decimal("100.00"), 0)


def test_the_loan_tolerance_replaces_the_setting_both_ways() -> None:
    assert flags(night(loan={"min_overdue_amount": "0.01"}),
                 min_overdue_amount=Decimal("500")) == []
    assert flags(night(), min_overdue_amount=Decimal("500")) == ["NOT_OVERDUE"]


@pytest.mark.parametrize("value", ["0.00", "0", "-5.00", "abc", "0.001"])
def test_a_loan_tolerance_below_one_cent_or_unreadable_makes_the_loan_unusable(
        value: str) -> None:
    assert finding_of(night(loan={"min_overdue_amount": value})) == (
        "hold", ["LEDGER_INVALID"], None, None)


def test_an_empty_loan_tolerance_is_the_setting() -> None:
    assert flags(night(loan={"min_overdue_amount": " "})) == []


def test_the_loan_tolerance_chooses_k_star() -> None:
    # 50.00 due 2026-10-01 and 50.00 due 2026-11-01: with 100.00 needed, the first
    # installment with C_k - P >= 100 is the second, 22 days past due (not 53).
    tables = night(loan={"min_overdue_amount": "100.00"},
                   installment={"amount_due": "50.00"})
    tables["installments"].insert(0, {"loan_id": "L1", "installment_no": "0",
                                      "due_date": "2026-10-01", "amount_due": "50.00"})
    assert finding_of(tables)[2:] == (Decimal("100.00"), 22)
    tables["loans"][0]["min_overdue_amount"] = ""
    assert finding_of(tables)[2:] == (Decimal("100.00"), 53)


def test_the_loan_tolerance_decides_payment_pending() -> None:
    # A pending 60.00 would leave 40.00 overdue: below the loan's 50.00, not below 0.01.
    tables = night(loan={"min_overdue_amount": "50.00"})
    tables["payments"].append(payment("60.00", "pending"))
    assert flags(tables) == ["PAYMENT_PENDING"]
    tables["loans"][0]["min_overdue_amount"] = ""
    assert flags(tables) == []


# --------------------------------------------------------------------------- components

SPLIT = {"principal_due": "80.00", "interest_due": "15.00", "penalty_due": "5.00"}


@pytest.mark.parametrize(
    ("text", "mismatch"),
    [
        ("本金80元，利息15元，罚息5元，共¥100", False),
        ("利息15.01元", False),  # one cent off: within amount_tolerance 0.01
        ("利息14.99元", False),
        ("利息15.02元", True),  # two cents off
        ("principal: RMB 80.00, interest of $15, late fee 5", False),
        ("Principal 81", True),
        ("服务费0元", False),  # no fee is due: 0 is right
        ("service fee ¥1", True),
    ],
)
def test_a_stated_component_is_compared_with_the_overdue_component(
        text: str, mismatch: bool) -> None:
    assert flags(night(installment=SPLIT, text=text)) == (
        ["CONTENT_MISMATCH"] if mismatch else [])


def test_a_penalty_stated_on_a_ledger_without_components_mismatches() -> None:
    assert flags(night(text="逾期22天，罚息5元")) == ["CONTENT_MISMATCH"]
    assert flags(night(text="逾期22天，罚息0元")) == []


def test_a_penalty_stated_on_a_ledger_with_none_mismatches() -> None:
    split = {"principal_due": "90.00", "interest_due": "10.00"}
    assert flags(night(installment=split, text="滞纳金: ¥5")) == ["CONTENT_MISMATCH"]


def test_settled_payments_known_at_t_reduce_their_components() -> None:
    tables = night(installment=SPLIT, text="本金50元，利息15元")
    tables["payments"] += [
        payment("30.00", principal_paid="30.00"),
        payment("10.00", "pending", principal_paid="10.00"),  # not settled: not paid
        {**payment("7.00", interest_paid="7.00"), "posted_at": "2026-11-23T03:00:00+08:00"},
    ]
    assert flags(tables) == []


def test_an_overdue_component_is_never_below_zero() -> None:
    tables = night(installment=SPLIT, text="罚息0元")
    tables["payments"].append(payment("20.00", principal_paid="10.00", penalty_paid="10.00"))
    assert flags(tables) == []


def test_components_of_installments_not_yet_past_due_do_not_count() -> None:
    tables = night(installment=SPLIT, text="本金80元")
    tables["installments"].append({"loan_id": "L1", "installment_no": "2",
                                   "due_date": "2026-12-01", "amount_due": "100.00",
                                   "principal_due": "100.00"})
    assert flags(tables) == []


def test_components_are_read_only_in_collection_texts() -> None:
    assert flags(night(template_id="T_REM", text="罚息5元")) == []


def test_a_too_large_stated_component_mismatches() -> None:
    assert flags(night(text="本金 99999999999999999元")) == ["CONTENT_MISMATCH"]
    assert flags(night(text="本金 10000000000000000元")) == ["CONTENT_MISMATCH"]


def test_a_labelled_amount_is_not_also_a_plain_amount() -> None:
    # 80元 read as a plain amount would be 20.00 off the overdue 100.00.
    assert flags(night(installment=SPLIT, text="本金80元")) == []
    assert flags(night(installment=SPLIT, text="共80元")) == ["CONTENT_MISMATCH"]


def test_a_percentage_is_no_amount() -> None:
    assert stated_components("interest 5%") == []
    assert stated_components("利息5％") == []
    assert flags(night(text="interest 5%, total ¥100")) == []


@pytest.mark.parametrize(
    ("text", "components"),
    [
        ("本金500元", [("principal", Decimal("500"))]),
        ("Penalty Interest 为 1,234.5", [("penalty", Decimal("1234.5"))]),
        ("LATE\tFEE of ￥3", [("penalty", Decimal("3"))]),
        ("违约金是 2.00 元, 罚息：CNY 1", [("penalty", Decimal("2.00")),
                                        ("penalty", Decimal("1"))]),
        ("xinterest 5元", []),  # no ASCII word boundary before the label
        ("interest\u3000 5元", []),  # U+3000 is not ASCII white space
        ("利息 1.234元", []),  # digits run on: not an amount shape
        ("利息 1,23元", []),
        ("interest is 5", []),  # "is" is no gap
        ("penalty\u3000interest 5", [("interest", Decimal("5"))]),
        # Case folds as RE2's (?i) has them: ſ is an s, but İ is no i; and ſ, not an ASCII
        # word character, starts a label only after one (RE2's \b).
        ("x\u017fervice fee 5", [("fee", Decimal("5"))]),
        ("\u017fervice fee 5", []),
        ("PR\u0130NCIPAL 5", []),
    ],
)
def test_stated_components(text: str, components: list[tuple[str, Decimal]]) -> None:
    assert stated_components(text) == components


def test_a_labelled_run_that_states_nothing_is_still_removed() -> None:
    # 1.234 after 利息 is no amount, and is not read again as a plain 1.234元 either.
    assert flags(night(text="利息 1.234元")) == []


def test_stated_days_are_still_read_on_the_whole_text() -> None:
    assert flags(night(text="本金逾期30天")) == ["CONTENT_MISMATCH"]


# --------------------------------------------------------------------------- row rules


@pytest.mark.parametrize(
    "cells",
    [
        {"principal_due": "80.00", "interest_due": "15.00"},  # 95.00, not 100.00
        {"principal_due": "100.01"},
        {"principal_due": "110.00", "interest_due": "-10.00"},  # negative component
        {"fee_due": "ten"},
    ],
)
def test_installment_components_that_do_not_add_up_make_the_ledger_invalid(
        cells: dict[str, str]) -> None:
    assert finding_of(night(installment=cells)) == ("hold", ["LEDGER_INVALID"], None, None)


def test_installment_components_adding_up_with_empty_cells_are_usable() -> None:
    assert flags(night(installment={"principal_due": "100", "fee_due": " "})) == []


@pytest.mark.parametrize(
    "cells",
    [
        {"principal_paid": "20.00"},  # 20.00, not amount 30.00
        {"principal_paid": "20.00", "interest_paid": "x"},
        {"installment_no": "first"},
    ],
)
def test_unusable_payment_cells_make_the_ledger_invalid(cells: dict[str, str]) -> None:
    tables = night()
    tables["payments"].append(payment("30.00", **cells))
    assert finding_of(tables) == ("hold", ["LEDGER_INVALID"], None, None)


def test_installment_no_of_a_payment_changes_no_truth() -> None:
    # Naming the second installment still pays oldest first: 70.00 overdue, 22 days.
    tables = night()
    tables["payments"].append(payment("30.00", installment_no="2",
                                      principal_paid="30.00"))
    assert finding_of(tables) == ("send", [], Decimal("70.00"), 22)
