"""Making a loan as the rule found it: its schedule of monthly installments (now and then
restructured), the payments of the installments already paid, and a partial payment on the
first unpaid one."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from reconcile.synth.generator.ledger import (
    ZERO,
    Borrower,
    Installment,
    Loan,
    Payment,
    add_months,
    money,
)
from reconcile.synth.generator.values import Values


def make_loan(values: Values, borrower: Borrower, d_s: date, r: datetime, due_offset: int,
              grace: int | None = None, partial: float = 0.25,
              all_paid: bool = False) -> tuple[Loan, int]:
    """A loan whose first unpaid installment k was due `due_offset` days before d_s
    (negative: due in the future), every earlier one paid before r. Returns (loan, k).
    With all_paid every installment is paid and the last one was due then."""
    rng = values.rng
    n = rng.choice((3, 6, 6, 9, 12, 12, 12, 18, 24, rng.randint(3, 24)))
    k = n + 1 if all_paid else rng.randint(1, n)
    anchor = min(k, n)
    due_anchor = d_s - timedelta(days=due_offset)
    first_due = add_months(due_anchor, 1 - anchor)
    created_day = add_months(first_due, -1) - timedelta(days=rng.randint(0, 5))
    created = values.at(created_day, 9, 21)
    principal = Decimal(rng.randrange(1000, 60001, 100))
    fee = Decimal(rng.choice((0, 50, 75, 100, 120, 150))) / 10000
    per = money(principal / n + principal * fee)
    insts = []
    no_updated = rng.random() < 0.1
    for i in range(1, n + 1):
        amount = per if i < n else max(ZERO, per + Decimal(rng.randint(-99, 99)) / 100)
        updated = None if no_updated else created + timedelta(seconds=i)
        insts.append(Installment(i, add_months(due_anchor, i - anchor), amount, updated))
    if k < n:
        restructure(rng, insts, k, r)
    loan = Loan(values.loan_id(created_day), borrower, created, insts, grace=grace)
    pay_history(values, loan, k, r)
    if k <= n and rng.random() < partial:
        inst = insts[k - 1]
        part = money(inst.amount * Decimal(rng.randint(15, 85)) / 100)
        if inst.amount - part >= 1:
            when = min(values.at(inst.due + timedelta(days=rng.randint(-3, 20))),
                       r - values.minutes(100, 600))  # posted before the rule ran
            settle(values, loan, part, when)
    return loan, k


def restructure(rng: random.Random, insts: list[Installment], k: int, r: datetime) -> None:
    """Now and then a schedule changed before the rule ran, after installment k: one
    installment deferred to the end (its number now out of due-date order), a fee
    installment due with installment k, or a payment holiday (amount 0)."""
    change = rng.random()
    if change >= 0.07:
        return
    when = r - timedelta(days=rng.randint(1, 60), seconds=rng.randint(0, 86399))
    if change < 0.03:
        inst = insts[rng.randrange(k, len(insts))]
        inst.due = add_months(max(i.due for i in insts), 1)
    elif change < 0.06:
        inst = Installment(len(insts) + 1, insts[k - 1].due, Decimal(rng.randint(30, 80)), None)
        insts.append(inst)
    else:
        inst = insts[rng.randrange(k, len(insts))]
        inst.amount = ZERO
    if insts[0].updated_at is not None:
        inst.updated_at = when


def settle(values: Values, loan: Loan, amount: Decimal, paid: datetime,
           status: str = "settled", posted: datetime | None = None) -> Payment:
    """A payment paid at `paid` and posted (by default) 1-90 minutes later."""
    posted = posted or paid + values.minutes(1, 90)
    paid_at = None if values.rng.random() < 0.15 else paid
    pay = Payment(values.payment_id(paid), amount, status, posted, paid_at)
    loan.pays.append(pay)
    return pay


def pay_history(values: Values, loan: Loan, k: int, r: datetime) -> None:
    """Installments 1..k-1 paid in full, all posted before r."""
    rng = values.rng
    latest = r - values.minutes(30, 600)
    i = 0
    while i < k - 1:
        inst = loan.insts[i]
        late = rng.choice((-2, -1, 0, 0, 0, 0, 1, 3, 6))  # days after the due date
        when = min(values.at(inst.due + timedelta(days=late)), latest - timedelta(hours=2))
        pattern = rng.random()
        if pattern < 0.08 and i + 1 < k - 1:  # prepays the next installment too
            settle(values, loan, inst.amount + loan.insts[i + 1].amount, when)
            i += 2
            continue
        if pattern < 0.18 and inst.amount >= 2:  # two partial payments
            first = money(inst.amount * Decimal(rng.randint(20, 80)) / 100)
            settle(values, loan, first, when - timedelta(days=rng.randint(1, 5)))
            settle(values, loan, inst.amount - first, when)
        elif pattern < 0.22:  # a failed auto-debit before the real payment
            settle(values, loan, inst.amount, when - timedelta(hours=6), "failed")
            settle(values, loan, inst.amount, when)
        elif pattern < 0.25:  # reversed (bounced), then paid again
            bounced = settle(values, loan, inst.amount, when - timedelta(days=3))
            bounced.status = "reversed"
            bounced.posted_at = when - timedelta(days=2)
            settle(values, loan, inst.amount, when)
        else:
            settle(values, loan, inst.amount, when)
        i += 1
