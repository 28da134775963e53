"""The boundaries of single checks, each run over hand-written message_context rows
(tests/check_harness.py) in milliseconds.

The ledger truth a check reads (is_overdue, overdue_amount, the last changes) is given here
as message_context carries it; how the truth steps work it out of the ledger is tested
through the CLI in tests/test_flags.py and tests/test_contact_flags.py, whose cases and
wording these follow. The harness's default row is the ordinary message of those files:
scheduled 2026-11-23T09:00+08:00, its rule run 4 h before T, on a loan 100.00 and 22 days
overdue.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from check_harness import connect_night, run_check

from reconcile.checks import load_checks
from reconcile.config import Settings, settings_from_mapping

US_REG_F = settings_from_mapping({"profile": "us_reg_f"})
# A loan that owes nothing on the send date: its due is all paid.
PAID_UP: dict[str, Any] = {"is_overdue": False, "overdue_amount": "0.00", "days_past_due": 0,
                           "paid": "100.00", "due_by_send_date": "100.00"}

# The hits of each (flag, table of cases, settings): see case_hits.
_RUNS: dict[tuple[str, int, int], list[tuple[int, str]]] = {}


def case_hits(flag: str, cases: list[Any], request: pytest.FixtureRequest,
              column: str | None = None) -> list[str]:
    """The details flag's check gives the running case, one of `cases`: pytest.params of
    (message_context row, settings or None, expected); with `column`, the row is that
    column's value alone. The cases of a table with
    the same settings are the rows of one run_check, one message each, so a table costs a
    connection per settings rather than per case; the checks here judge each message by its
    own row alone."""
    index = [case.id for case in cases].index(request.node.callspec.id)
    settings = cases[index].values[1]
    key = (flag, id(cases), id(settings))
    if key not in _RUNS:
        rows = [{**({column: case.values[0]} if column else case.values[0]), "source_row": n}
                for n, case in enumerate(cases, start=1) if case.values[1] is settings]
        _RUNS[key] = run_check(flag, rows, settings)
    return [detail for source_row, detail in _RUNS[key] if source_row == index + 1]


def expected_hits(expected: str | None) -> list[str]:
    return [expected] if expected else []


@pytest.mark.parametrize("flag", list(load_checks()))
def test_the_ordinary_message_flags_nothing(flag: str) -> None:
    # Also: every check runs over what the night holds when the checks run.
    assert ordinary_message_hits()[flag] == []


@cache
def ordinary_message_hits() -> dict[str, list[tuple[Any, ...]]]:
    with connect_night([{}]) as con:
        return {flag: con.execute(check.sql).fetchall() for flag, check in load_checks().items()}


def test_a_column_message_context_does_not_have_is_refused() -> None:
    with pytest.raises(KeyError, match="no column overdue"):
        run_check("NOT_OVERDUE", [{"overdue": "0.00"}])


# --------------------------------------------------------------------------- NOT_OVERDUE


NOT_OVERDUE_PAID: list[Any] = [
    pytest.param(PAID_UP, None, "paid 100.00 of 100.00 due by 2026-11-23",
                 id="paid-exactly-the-due"),
    pytest.param({**PAID_UP, "paid": "150.00"}, None,
                 "paid 150.00 of 100.00 due by 2026-11-23", id="overpaid"),
    # One cent short is overdue by the default min_overdue_amount 0.01: no flag.
    pytest.param({"paid": "99.99", "overdue_amount": "0.01"}, None, None,
                 id="one-cent-short-is-overdue"),
    # Under min_overdue_amount 1.00 it is not overdue, and the reason says why.
    pytest.param({**PAID_UP, "paid": "99.99", "overdue_amount": "0.01"},
                 Settings(min_overdue_amount=Decimal("1.00")),
                 "overdue 0.01 is below min_overdue_amount 1.00",
                 id="one-cent-short-below-min-1.00"),
    pytest.param({**PAID_UP, "paid": "99.99", "overdue_amount": "0.01",
                  "min_overdue_amount": "1.00", "loan_sets_min_overdue": True}, None,
                 "overdue 0.01 is below the loan's own min_overdue_amount 1.00",
                 id="one-cent-short-below-the-loans-own-min"),
    pytest.param({**PAID_UP, "payment_allocation": "payments name their installment: P1 1"},
                 None, "paid 100.00 of 100.00 due by 2026-11-23 (counted oldest first; "
                 "payments name their installment: P1 1)", id="allocation-named"),
    pytest.param({**PAID_UP, "loan_status": "closed"}, None, "loan L1 is closed",
                 id="closed"),
]


@pytest.mark.parametrize(("row", "settings", "expected"), NOT_OVERDUE_PAID)
def test_not_overdue_paid(row: dict[str, Any], settings: Settings | None, expected: str | None,
                          request: pytest.FixtureRequest) -> None:
    assert case_hits("NOT_OVERDUE", NOT_OVERDUE_PAID, request) == expected_hits(expected)


NOT_OVERDUE_GRACE: list[Any] = [
    # Due 2026-11-20 with grace 3: nothing is past due on 2026-11-23 yet.
    pytest.param({**PAID_UP, "paid": "0.00", "due_by_send_date": "0.00", "grace_days": 3,
                  "first_unpaid_due_date": "2026-11-20"}, None,
                 "nothing past due on 2026-11-23 (grace 3 days)", id="last-day-of-grace"),
    # Due 2026-11-19 with grace 3: past due by one day.
    pytest.param({"grace_days": 3, "days_past_due": 1, "first_unpaid_due_date": "2026-11-19"},
                 None, None, id="first-day-after-grace"),
    # The send date named is the message's local date.
    pytest.param({**PAID_UP, "due_by_send_date": "0.00", "paid": "0.00",
                  "scheduled_at": "2026-11-22T16:30:00Z"}, None,
                 "nothing past due on 2026-11-23 (grace 0 days)", id="local-send-date"),
    # Not evaluated at all: a reminder, an unusable ledger, an unknown template.
    pytest.param({**PAID_UP, "template_kind": "reminder"}, None, None, id="reminder"),
    pytest.param({**PAID_UP, "truth_known": False,
                  "ledger_problem": "installments.csv row 2: ..."}, None, None,
                 id="ledger-unusable"),
    pytest.param({**PAID_UP, "template_usable": False, "template_kind": None}, None, None,
                 id="unknown-template"),
    pytest.param({**PAID_UP, "template_kind": "escalation"}, None,
                 "paid 100.00 of 100.00 due by 2026-11-23", id="escalation-is-collection-wording"),
]


@pytest.mark.parametrize(("row", "settings", "expected"), NOT_OVERDUE_GRACE)
def test_not_overdue_grace_and_scope(row: dict[str, Any], settings: Settings | None,
                                     expected: str | None, request: pytest.FixtureRequest) -> None:
    assert case_hits("NOT_OVERDUE", NOT_OVERDUE_GRACE, request) == expected_hits(expected)


# --------------------------------------------------------------------------- RULE_MISMATCH


RULE_MISMATCH_CASES: list[Any] = [
    # Truth: 100.00 overdue, 22 days past due.
    pytest.param({"claimed_overdue_amount": "100.00"}, None, None, id="amount-exact"),
    pytest.param({"claimed_overdue_amount": "100.01"}, None, None, id="amount+0.01"),
    pytest.param({"claimed_overdue_amount": "99.99"}, None, None, id="amount-0.01"),
    pytest.param({"claimed_overdue_amount": "100.02"}, None,
                 "claimed overdue 100.02 vs ledger 100.00", id="amount+0.02"),
    pytest.param({"claimed_overdue_amount": "99.98"}, None,
                 "claimed overdue 99.98 vs ledger 100.00", id="amount-0.02"),
    pytest.param({"claimed_overdue_amount": "100.50"},
                 Settings(amount_tolerance=Decimal("0.50")), None,
                 id="tolerance-0.50-off-by-0.50"),
    pytest.param({"claimed_overdue_amount": "99.49"},
                 Settings(amount_tolerance=Decimal("0.50")),
                 "claimed overdue 99.49 vs ledger 100.00", id="tolerance-0.50-off-by-0.51"),
    pytest.param({"claimed_days_past_due": 23}, None, None, id="dpd+1"),
    pytest.param({"claimed_days_past_due": 24}, None,
                 "claimed 24 days past due vs ledger 22", id="dpd+2"),
    pytest.param({"claimed_days_past_due": 23}, Settings(dpd_tolerance=0),
                 "claimed 23 days past due vs ledger 22", id="dpd-tolerance-0-off-by-1"),
    pytest.param({"min_dpd": 23}, None, "template T_COL is for 23.. days past due vs ledger 22",
                 id="dpd-one-below-min"),
    pytest.param({"min_dpd": 22, "max_dpd": 22}, None, None, id="dpd-on-both-bounds"),
    pytest.param({"claimed_overdue_amount": "100.02",
                  "payment_allocation": "payments name their installment: P1 1"}, None,
                 "claimed overdue 100.02 vs ledger 100.00, ledger counted oldest first; "
                 "payments name their installment: P1 1", id="allocation-named"),
    pytest.param({"claimed_overdue_amount": "5.00", "truth_known": False,
                  "overdue_amount": None}, None, None, id="truth-unknown"),
]


@pytest.mark.parametrize(("claims", "settings", "expected"), RULE_MISMATCH_CASES)
def test_rule_mismatch(claims: dict[str, Any], settings: Settings | None, expected: str | None,
                       request: pytest.FixtureRequest) -> None:
    assert case_hits("RULE_MISMATCH", RULE_MISMATCH_CASES, request) == expected_hits(expected)


# --------------------------------------------------------------------------- STALE_DATA

RULE_RAN = "2026-11-22T22:00:00+08:00"
AFTER_RULE = "2026-11-22T23:00:00+08:00"


STALE_DATA_CASES: list[Any] = [
    # T is 2026-11-23T02:00+08:00.
    pytest.param({"rule_evaluated_at": "2026-11-22T02:00:00+08:00"}, None, None,
                 id="rule-age-exactly-24h"),
    pytest.param({"rule_evaluated_at": "2026-11-22T01:59:59+08:00"}, None,
                 "rule data is 24.0 h old (limit 24 h)", id="rule-age-24h+1s"),
    pytest.param({}, Settings(max_rule_age_hours=Decimal(4)), None, id="max-4h-age-4h"),
    pytest.param({}, Settings(max_rule_age_hours=Decimal(3)),
                 "rule data is 4.0 h old (limit 3 h)", id="max-3h-age-4h"),
    pytest.param({"last_payment_change_at": RULE_RAN, "last_payment_id": "P1"}, None, None,
                 id="payment-at-rule-time"),
    pytest.param({"last_payment_change_at": AFTER_RULE, "last_payment_id": "P1"}, None,
                 "payment P1 posted 2026-11-22 23:00:00+08 after the rule ran at "
                 "2026-11-22 22:00:00+08", id="payment-after-rule"),
    pytest.param({"last_installment_change_at": AFTER_RULE, "last_installment_no": 7}, None,
                 "installment 7 updated 2026-11-22 23:00:00+08 after the rule ran at "
                 "2026-11-22 22:00:00+08", id="installment-after-rule"),
    pytest.param({"last_pause_change_at": AFTER_RULE,
                  "last_pause": "repayment_plan from 2026-11-20"}, None,
                 "collection pause repayment_plan from 2026-11-20 recorded "
                 "2026-11-22 23:00:00+08 after the rule ran at 2026-11-22 22:00:00+08",
                 id="pause-after-rule"),
    # An unusable ledger's changes are not read; the rule's age still is.
    pytest.param({"last_payment_change_at": AFTER_RULE, "last_payment_id": "P1",
                  "truth_known": False, "ledger_problem": "payments.csv row 2: ..."},
                 None, None, id="unusable-ledger-change"),
    pytest.param({"rule_evaluated_at": "2026-11-21T02:00:00+08:00", "truth_known": False,
                  "ledger_problem": "payments.csv row 2: ..."},
                 None, "rule data is 48.0 h old (limit 24 h)", id="unusable-ledger-old-rule"),
]


@pytest.mark.parametrize(("row", "settings", "expected"), STALE_DATA_CASES)
def test_stale_data(row: dict[str, Any], settings: Settings | None, expected: str | None,
                    request: pytest.FixtureRequest) -> None:
    assert case_hits("STALE_DATA", STALE_DATA_CASES, request) == expected_hits(expected)


def test_stale_data_names_every_reason() -> None:
    row = {"rule_evaluated_at": "2026-11-21T22:00:00+08:00",
           "last_payment_change_at": "2026-11-22T23:00:00+08:00", "last_payment_id": "P1"}
    assert run_check("STALE_DATA", [row]) == [(1, (
        "payment P1 posted 2026-11-22 23:00:00+08 after the rule ran at "
        "2026-11-21 22:00:00+08, rule data is 28.0 h old (limit 24 h)"))]


# --------------------------------------------------------------------------- QUIET_HOURS

CN_WINDOW = "(Asia/Shanghai), outside 08:00-22:00"


QUIET_HOURS_CASES: list[Any] = [
    pytest.param("2026-11-23T21:59:00+08:00", None, None, id="cn-21:59-allowed"),
    pytest.param("2026-11-23T21:59:59+08:00", None, None, id="cn-21:59:59-allowed"),
    pytest.param("2026-11-23T22:00:00+08:00", None, f"scheduled 22:00 local time {CN_WINDOW}",
                 id="cn-22:00-quiet"),
    pytest.param("2026-11-23T07:59:59+08:00", None, f"scheduled 07:59 local time {CN_WINDOW}",
                 id="cn-07:59:59-quiet"),
    pytest.param("2026-11-23T08:00:00+08:00", None, None, id="cn-08:00-allowed"),
    pytest.param("2026-11-23T14:00:00Z", None, f"scheduled 22:00 local time {CN_WINDOW}",
                 id="14:00Z-is-22:00-local"),
    pytest.param("2026-11-23T13:59:00Z", None, None, id="13:59Z-is-21:59-local"),
    pytest.param("2026-11-23T20:59:00+08:00", US_REG_F, None, id="us_reg_f-20:59-allowed"),
    pytest.param("2026-11-23T21:00:00+08:00", US_REG_F,
                 "scheduled 21:00 local time (Asia/Shanghai), outside 08:00-21:00",
                 id="us_reg_f-21:00-quiet"),
    pytest.param("2026-11-23T23:59:00+08:00", Settings(allowed_hours_end="24:00"), None,
                 id="end-24:00-at-23:59"),
    pytest.param("2026-11-23T08:59:00+08:00", Settings(allowed_hours_start="09:00"),
                 "scheduled 08:59 local time (Asia/Shanghai), outside 09:00-22:00",
                 id="start-09:00-at-08:59"),
]


@pytest.mark.parametrize(("scheduled_at", "settings", "expected"), QUIET_HOURS_CASES)
def test_quiet_hours_window(scheduled_at: str, settings: Settings | None, expected: str | None,
                            request: pytest.FixtureRequest) -> None:
    found = case_hits("QUIET_HOURS", QUIET_HOURS_CASES, request, column="scheduled_at")
    assert found == expected_hits(expected)


def test_quiet_hours_in_the_borrowers_time_zone() -> None:
    # 15:00 in Shanghai is 23:00 the evening before in Los Angeles.
    rows = [{"scheduled_at": "2026-11-23T15:00:00+08:00"},
            {"scheduled_at": "2026-11-23T15:00:00+08:00", "borrower_id": "B2"}]
    borrowers = [{"borrower_id": "B1", "timezone": "America/Los_Angeles"}]
    assert run_check("QUIET_HOURS", rows, tables={"borrowers": borrowers}) == [
        (1, "scheduled 23:00 local time (America/Los_Angeles), outside 08:00-22:00")]


def test_quiet_hours_for_every_template_kind() -> None:
    rows = [{"scheduled_at": "2026-11-23T22:00:00+08:00", "template_kind": kind}
            for kind in ("collection", "escalation", "reminder", None)]
    assert [row for row, _ in run_check("QUIET_HOURS", rows)] == [1, 2, 3, 4]


# --------------------------------------------------------------------------- MISSING_OPT_OUT

NO_OPT_OUT = 'no opt-out instruction in the text (e.g. "Reply STOP to opt out")'


OPT_OUT_CASES: list[Any] = [
    pytest.param("Your payment is past due. Reply STOP to opt out", US_REG_F, False,
                 id="reply-stop"),
    pytest.param("Your payment is past due.", US_REG_F, True, id="no-opt-out"),
    pytest.param("Your payment is past due. reply stop to end", US_REG_F, False,
                 id="lower-case"),
    pytest.param("Past due. UNSUBSCRIBE: example.com", US_REG_F, False,
                 id="unsubscribe-upper"),
    pytest.param("Past due. Stop by our office", US_REG_F, True,
                 id="stop-alone-is-no-instruction"),
    pytest.param("请尽快还款，回复TD退订", US_REG_F, False, id="chinese-tuiding"),
    pytest.param("", US_REG_F, False, id="no-text-not-evaluated"),
    pytest.param("   ", US_REG_F, False, id="blank-text-not-evaluated"),
    pytest.param(None, US_REG_F, False, id="null-text-not-evaluated"),
    pytest.param("Your payment is past due.", None, False, id="cn-never"),
    pytest.param("Your payment is past due.", Settings(require_opt_out=True), True,
                 id="cn-with-require_opt_out"),
    pytest.param("Past due. Send QUIT",
                 settings_from_mapping({"profile": "us_reg_f",
                                        "opt_out_phrases": ["send quit"]}),
                 False, id="custom-phrase"),
    pytest.param("Past due. Reply STOP to opt out",
                 settings_from_mapping({"profile": "us_reg_f",
                                        "opt_out_phrases": ["send quit"]}),
                 True, id="custom-phrases-replace-defaults"),
]


@pytest.mark.parametrize(("text", "settings", "flagged"), OPT_OUT_CASES)
def test_missing_opt_out(text: str | None, settings: Settings | None, flagged: bool,
                         request: pytest.FixtureRequest) -> None:
    found = case_hits("MISSING_OPT_OUT", OPT_OUT_CASES, request, column="message_text")
    assert found == ([NO_OPT_OUT] if flagged else [])
