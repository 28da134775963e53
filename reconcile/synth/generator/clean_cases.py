"""Clean cases: a reminder or a collection message whose claim, template and timing are
right, so it should be sent; near misses (a cent or a day off, a payment posted exactly when
the rule ran) and ledger noise included. Other scenarios start from a clean collection."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from reconcile.synth.generator.builder import CaseBuilder
from reconcile.synth.generator.ledger import CENT, money, overdue_view, upcoming
from reconcile.synth.generator.lender import RULE_NOT_LISTED
from reconcile.synth.generator.loans import make_loan, settle
from reconcile.synth.generator.messages import claims_choice, collection_row, message_row


def clean(case: CaseBuilder) -> None:
    """A clean case: a reminder or a collection message, now and then a second loan with its
    own message, or an earlier loan paid off and closed."""
    values, rng = case.values, case.rng
    if rng.random() < 0.12:
        reminder(case)
    else:
        clean_collection(case)
    if rng.random() < 0.04 and len(case.messages) < case.budget:  # a second loan
        if rng.random() < 0.5:
            reminder(case)
        else:
            clean_collection(case)
    if rng.random() < 0.05:  # an earlier loan, paid off and closed, no message
        old, _ = make_loan(values, case.borrower, values.send_day, values.dq_run,
                           rng.randint(200, 500), all_paid=True)
        old.status = "closed"
        case.loans.append(old)


def reminder(case: CaseBuilder) -> None:
    """A reminder a few days before the due date, on a loan with nothing overdue."""
    values, rng = case.values, case.rng
    r = values.rule_runs["RULE_REM_D3"]
    days_to_due = rng.randint(0, 3)
    loan, k = case.new_loan(-days_to_due, r, partial=0)
    s = case.s
    amount, due = upcoming(loan, k), loan.insts[k - 1].due
    if rng.random() < 0.01:  # a new loan whose schedule is not in the extract yet
        loan.insts, loan.pays = [], []
    claims = rng.random()
    case.add(message_row(values, loan.loan_id, loan.borrower, "TPL_REM_PRE", "RULE_REM_D3", r, s,
                         None, 0 if claims < 0.6 else None, "reminder",
                         stated=(amount, 0), due=due))


def clean_collection(case: CaseBuilder) -> None:
    """A collection message on an overdue loan whose claims are right (or within tolerance),
    sent at case.s, with the ledger noise that must not change its verdict."""
    values, rng = case.values, case.rng
    r = values.dq_run
    loan, _ = case.overdue_loan(r)
    s = case.s
    extra = rng.random()
    claims = claims_choice(rng)
    if extra < 0.05:  # paid after T: does not count yet
        amount, _ = overdue_view(loan, values.as_of, s.astimezone(values.tz).date())
        paid = values.as_of + values.minutes(-60, 400)
        settle(values, loan, amount, paid, rng.choice(("settled", "settled", "pending")),
               posted=max(paid, values.as_of) + values.minutes(1, 80))
    elif extra < 0.07:  # a small pending payment that would not clear it
        amount, _ = overdue_view(loan, r, s.astimezone(values.tz).date())
        part = money(amount * Decimal(rng.randint(30, 90)) / 100)
        if amount - part >= CENT:
            settle(values, loan, part if rng.random() < 0.8 else amount - CENT,
                   r - values.minutes(100, 2000), "pending")
    elif extra < 0.08:  # posted exactly when the rule ran: seen, not stale
        owed, _ = overdue_view(loan, r, case.d_s)
        part = min(money(loan.insts[-1].amount / 3), (owed / 2).quantize(CENT, ROUND_DOWN))
        if part >= CENT:
            settle(values, loan, part, r - values.minutes(5, 60), posted=r)
    elif extra < 0.09:  # an installment row touched after T
        inst = rng.choice(loan.insts)
        inst.updated_at = values.as_of + values.minutes(1, 600)
    elif extra < 0.11:  # an installment row touched long before the rule ran
        inst = rng.choice(loan.insts)
        inst.updated_at = r - values.minutes(600, 40000)
    template, rule, days = case.staged(r, s, loan)
    rule_choice = rng.random()
    if rule_choice < 0.02:
        rule = "RULE_RC_SCORE"  # a risk rule on an overdue borrower: fine
    elif rule_choice < 0.03:
        rule = "RULE_LEGACY"
    elif rule_choice < 0.04:
        rule = RULE_NOT_LISTED
    elif rule_choice < 0.08:
        template, rule = "TPL_COL_GEN", "RULE_DPD_GEN"
    message = collection_row(values, loan, r, s, rule=rule, template=template, claims=claims)
    near = rng.random()
    if near < 0.03 and message["claimed_overdue_amount"]:  # a cent off: within tolerance
        claimed = Decimal(message["claimed_overdue_amount"])
        message["claimed_overdue_amount"] = f"{claimed + rng.choice((CENT, -CENT)):.2f}"
    elif near < 0.06 and message["claimed_days_past_due"] and days > 1:  # a day off
        message["claimed_days_past_due"] = str(days + rng.choice((1, -1)))
    case.add(message)
    # The general rule picked it too (its own template: no duplicate; within the
    # allowed hours and at most 3 messages a borrower: no FREQUENCY_CAP in a clean case).
    if rng.random() < 0.08 and template != "TPL_COL_GEN" and len(case.messages) < 2:
        r2 = values.rule_runs["RULE_DPD_GEN"]
        case.add(collection_row(values, loan, r2, case.s + values.minutes(5, 60),
                                rule="RULE_DPD_GEN", template="TPL_COL_GEN",
                                claims=claims_choice(rng)))
