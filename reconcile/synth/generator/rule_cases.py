"""Failure modes of the rule and its message: the rule ran too long ago or "after" as-of,
picked a loan not overdue, misread grace days, claimed a wrong amount, days or stage, named
another borrower or an unknown template; and malformed or repeated send_batch rows. See
RATE_HELP for what each mode does."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from reconcile.synth.generator.builder import CaseBuilder
from reconcile.synth.generator.ledger import ZERO, upcoming
from reconcile.synth.generator.lender import MISSING_TEMPLATE
from reconcile.synth.generator.messages import collection_row, message_row


def old_rule(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    if rng.random() < 0.25:
        r = values.as_of - timedelta(hours=24)  # exactly 24 h: still fresh
    else:
        r = values.as_of - timedelta(hours=24) - timedelta(seconds=rng.randint(1, 48 * 3600))
    loan, _ = case.overdue_loan(r)
    case.add(collection_row(values, loan, r, case.s))


def clock_skew(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    r = values.as_of if rng.random() < 0.25 else values.as_of + timedelta(
        seconds=rng.randint(1, 12 * 3600))
    loan, _ = case.overdue_loan(values.dq_run)
    case.add(collection_row(values, loan, r, case.s))


def not_due(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    rule = rng.choice(("RULE_DPD_M1", "RULE_DPD_GEN"))
    r = values.rule_runs[rule]
    days_to_due = 0 if rng.random() < 0.3 else rng.randint(1, 20)
    loan, k = case.new_loan(-days_to_due, r, partial=0.1)
    s = case.s
    template = "TPL_COL_M1" if rule == "RULE_DPD_M1" else "TPL_COL_GEN"
    amount = upcoming(loan, k)
    if rng.random() < 0.05:  # a new loan whose schedule is not in the extract yet
        loan.insts, loan.pays = [], []
    variant = rng.random()
    days: int | None
    if variant < 0.4:
        claimed: Decimal | None
        claimed, days = amount, -days_to_due
    elif variant < 0.7:
        claimed, days = None, None
    else:
        claimed, days = amount, 1  # the rule's off-by-one
    case.add(message_row(values, loan.loan_id, loan.borrower, template, rule, r, s, claimed, days,
                         "pre_due", stated=(amount, days or 0)))


def grace(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    grace_days = rng.choice((3, 5, 7, 10))
    rule = "RULE_DPD_M1"
    r = values.rule_runs[rule]
    loan, _ = case.new_loan(grace_days if rng.random() < 0.3 else rng.randint(1, grace_days), r,
                            grace=grace_days, partial=0.1)
    case.add(collection_row(values, loan, r, case.s, grace=0, rule=rule,
                            template=rng.choice(("TPL_COL_M1", "TPL_COL_GEN"))))


def risk_control(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    rule = rng.choice(("RULE_RC_PREDUE", "RULE_RC_SCORE"))
    r = values.rule_runs[rule]
    days_to_due = rng.randint(0, 25)
    loan, k = case.new_loan(-days_to_due, r, partial=0.15)
    amount = upcoming(loan, k)
    template = "TPL_COL_GEN" if rng.random() < 0.6 else "TPL_COL_M1"
    claims = rng.random()
    claimed = amount if claims < 0.5 else None
    days = 0 if claims < 0.3 else None
    case.add(message_row(values, loan.loan_id, loan.borrower, template, rule, r, case.s,
                         claimed, days, "pre_due", stated=(amount, 0)))


def wrong_amount(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    r = values.dq_run
    loan, k = case.overdue_loan(r)
    message = collection_row(values, loan, r, case.s)
    claimed = Decimal(message["claimed_overdue_amount"] or "0")
    delta = rng.choice((Decimal("0.02"), Decimal("-0.02"), Decimal("50.00"),
                        loan.insts[k - 1].amount, Decimal(rng.randint(3, 99999)) / 100))
    message["claimed_overdue_amount"] = f"{max(ZERO, claimed + delta):.2f}"
    if claimed + delta < 0:
        message["claimed_overdue_amount"] = f"{claimed + abs(delta):.2f}"
    case.add(message)


def wrong_days(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    r = values.dq_run
    loan, _ = case.overdue_loan(r)
    message = collection_row(values, loan, r, case.s, template="TPL_COL_GEN")
    days = int(message["claimed_days_past_due"] or 0)
    delta = rng.choice((2, -2, 30, 31, -30, rng.randint(3, 200)))
    if days + delta < 0:
        delta = abs(delta)
    message["claimed_days_past_due"] = str(days + delta)
    case.add(message)


def wrong_stage(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    r = values.dq_run
    loan, _ = case.overdue_loan(r)
    s = case.s
    template, rule, _ = case.staged(r, s, loan)
    others = [t for t in ("TPL_COL_M1", "TPL_COL_M2", "TPL_COL_M3", "TPL_ESC_M4",
                          "TPL_REM_PRE") if t != template]
    case.add(collection_row(values, loan, r, s, rule=rule, template=rng.choice(others)))


def borrower_mismatch(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    r = values.dq_run
    loan, _ = case.overdue_loan(r)
    message = collection_row(values, loan, r, case.s)
    other = values.borrower()
    message["borrower_id"] = other.borrower_id
    if rng.random() < 0.5:  # the other person's name and phone too
        message["borrower_name"] = other.name
        message["phone"] = other.phone
    case.add(message)


def unknown_template(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    r = values.dq_run
    loan, _ = case.overdue_loan(r)
    template = rng.choice((MISSING_TEMPLATE, MISSING_TEMPLATE, "TPL_SMS_OLD", "TPL_DUP"))
    case.add(collection_row(values, loan, r, case.s, template=template))


def rejected(case: CaseBuilder) -> None:
    values, rng = case.values, case.rng
    r = values.dq_run
    loan, _ = case.overdue_loan(r)
    message = collection_row(values, loan, r, case.s)
    variant = rng.randrange(6)
    if variant == 0 and case.budget >= 2:  # sent to the queue twice
        case.add(message)
        case.add(dict(message))
        return
    if variant <= 1:
        message["phone"] = None
    elif variant == 2:
        message["rule_evaluated_at"] = None
    elif variant == 3:
        s = case.s
        message["scheduled_at"] = rng.choice((f"{s:%Y/%m/%d %H:%M}", f"{s:%d/%m/%Y %H:%M}",
                                              f"{s:%Y-%m-%d} 9:00", f"{s:%Y-%m-%d}"))
    elif variant == 4:
        claimed = Decimal(message["claimed_overdue_amount"] or "1234.5")
        message["claimed_overdue_amount"] = f"{claimed:,.2f}" if claimed >= 1000 \
            else f"¥{claimed:.2f}"
    else:
        message["template_id"] = None
    case.add(message)
