"""Failure mode of collection pauses (停催, 缓催, hardship relief, an agreed repayment plan):
a collection or escalation message planned inside a period the ledger records, beside near
misses that must not be flagged (a period that ended the day before d(s) or starts the day
after, a reminder, a period recorded after T). See RATE_HELP for what the mode does."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import NamedTuple

from reconcile.schema import PAUSE_KINDS
from reconcile.synth.generator.builder import CaseBuilder
from reconcile.synth.generator.clean_cases import reminder
from reconcile.synth.generator.ledger import Loan
from reconcile.synth.generator.messages import collection_row


class Period(NamedTuple):
    """Where a pause period lies: its first and last day as ranges of days from d(s) (last
    None: open-ended), and when the ledger recorded it: before the rule ran, between the
    rule run and T, or after T."""

    start: tuple[int, int]
    until: tuple[int, int] | None
    recorded: str


AROUND = Period((-30, 0), (0, 30), "before_rule")
# The variants of the mode; the message is a collection or escalation one on an overdue
# loan unless the variant is "reminder", and its loan is not in loans for "unknown_loan".
PERIODS: dict[str, Period] = {
    "ended_the_day_before": Period((-60, -5), (-1, -1), "before_rule"),
    "ends_on_send_day": Period((-60, 0), (0, 0), "before_rule"),
    "starts_on_send_day": Period((0, 0), (0, 60), "before_rule"),
    "starts_the_day_after": Period((1, 1), (1, 60), "before_rule"),
    "open_ended": Period((-90, 0), None, "before_rule"),
    "recorded_after_the_rule": AROUND._replace(recorded="after_rule"),
    "cut_short_after_the_rule": Period((-60, -10), (-5, -1), "after_rule"),
    "recorded_after_as_of": AROUND._replace(recorded="after_as_of"),
    "reminder": AROUND,
    "unknown_loan": AROUND._replace(until=None),
}
VARIANTS = tuple(PERIODS)


def paused(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    variant = rng.choice(VARIANTS)
    if variant == "reminder":
        r = values.rule_runs["RULE_REM_D3"]
        reminder(case)
    else:
        r = values.dq_run
        loan, _ = case.overdue_loan(r)
        case.add(collection_row(values, loan, r, case.s))
    loan = case.loans[-1]
    start, until = period_days(case, PERIODS[variant])
    case.pauses.append(case.pause_row(loan.loan_id, rng.choice(PAUSE_KINDS), start, until,
                                      recorded_at(case, PERIODS[variant], start, r)))
    if rng.random() < 0.3:  # an earlier period, long over
        earlier = Period((-150, -90), (-60, -20), "before_rule")
        start, until = period_days(case, earlier)
        case.pauses.append(case.pause_row(loan.loan_id, rng.choice(PAUSE_KINDS), start,
                                          until, recorded_at(case, earlier, start, r)))
    if variant == "unknown_loan":  # the pauses feed knows the loan, the loans extract not
        case.loans.remove(loan)


def period_days(case: CaseBuilder, period: Period) -> tuple[date, date | None]:
    """The first and last day of `period` around the case's send date."""
    rng = case.rng
    start = case.d_s + timedelta(days=rng.randint(*period.start))
    if period.until is None:
        return start, None
    return start, case.d_s + timedelta(days=rng.randint(*period.until))


def recorded_at(case: CaseBuilder, period: Period, start: date, r: datetime) -> datetime:
    """When the ledger recorded the period: agreed up to a week before its first day and
    before the rule ran at r; after r and by T (some exactly at T); or after T."""
    values, rng = case.values, case.rng
    if period.recorded == "after_as_of":
        return values.as_of + values.minutes(1, 600)
    if period.recorded == "after_rule":
        window = int((values.as_of - r).total_seconds())
        return values.as_of if rng.random() < 0.1 else \
            r + timedelta(seconds=rng.randint(1, window))
    return min(values.at(start - timedelta(days=rng.randint(0, 7))),
               r - values.minutes(30, 3000))


def unusable_pause(case: CaseBuilder, loan: Loan) -> None:
    """An unusable collection_pauses row of the loan (it makes the loan's ledger unusable):
    paused_until before paused_from, an unknown kind, an empty or unreadable paused_from, no
    recorded_at; now and then beside a usable period in force at d(s)."""
    values, rng = case.values, case.rng
    start = case.d_s - timedelta(days=rng.randint(0, 30))
    recorded = values.dq_run - values.minutes(60, 6000)
    row = case.pause_row(loan.loan_id, rng.choice(PAUSE_KINDS), start,
                         start + timedelta(days=rng.randint(0, 30)), recorded)
    fault = rng.randrange(5)
    if fault == 0:
        row["paused_until"] = (start - timedelta(days=rng.randint(1, 30))).isoformat()
    elif fault == 1:
        row["kind"] = rng.choice(("collection_hold", "STOP", "hardship"))
    elif fault == 2:
        row["paused_from"] = None
    elif fault == 3:
        row["paused_from"] = f"{start:%Y/%m/%d}"
    else:
        row["recorded_at"] = None
    case.pauses.append(row)
    if rng.random() < 0.4:
        case.pauses.append(case.pause_row(loan.loan_id, rng.choice(PAUSE_KINDS), start, None,
                                          recorded))
