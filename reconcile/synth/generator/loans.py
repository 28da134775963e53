"""Making a loan as the rule found it: its schedule of monthly installments (now and then
restructured), the payments of the installments already paid, and a partial payment on the
first unpaid one; what its ledger itemises (components, their allocation, penalties on
overdue installments, payments naming their installment)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from reconcile.synth.generator.ledger import (
    CENT,
    ZERO,
    Borrower,
    Installment,
    Loan,
    Payment,
    add_months,
    money,
)
from reconcile.synth.generator.values import Values


@dataclass(frozen=True)
class Itemising:
    """What a loan's ledger records beyond amounts: each installment's principal_due ...
    penalty_due (components), each settled payment's principal_paid ... penalty_paid
    (allocated), a penalty (罚息) booked on its overdue installments before the rule ran,
    and payments naming the installment they were made for (named)."""

    components: bool = False
    allocated: bool = False
    penalty: bool = False
    named: bool = False

    @classmethod
    def drawn(cls, rng: random.Random) -> Itemising:
        """Half the loans itemise their installments, most of those their payments too."""
        components = rng.random() < 0.5
        return cls(components, components and rng.random() < 0.7, rng.random() < 0.25,
                   rng.random() < 0.3)


def make_loan(values: Values, borrower: Borrower, d_s: date, r: datetime, due_offset: int,
              grace: int | None = None, partial: float = 0.25, all_paid: bool = False,
              itemising: Itemising | None = None) -> tuple[Loan, int]:
    """A loan whose first unpaid installment k was due `due_offset` days before d_s
    (negative: due in the future), every earlier one paid before r. Returns (loan, k).
    With all_paid every installment is paid and the last one was due then. itemising:
    what its ledger records (None: drawn)."""
    rng = values.rng
    n = rng.choice((3, 6, 6, 9, 12, 12, 12, 18, 24, rng.randint(3, 24)))
    k = n + 1 if all_paid else rng.randint(1, n)
    anchor = min(k, n)
    due_anchor = d_s - timedelta(days=due_offset)
    first_due = add_months(due_anchor, 1 - anchor)
    created_day = add_months(first_due, -1) - timedelta(days=rng.randint(0, 5))
    created = values.at(created_day, 9, 21)
    insts = schedule(rng, n, created, due_anchor, anchor)
    if k < n:
        restructure(rng, insts, k, r)
    itemising = itemising or Itemising.drawn(rng)
    loan = Loan(values.loan_id(created_day), borrower, created, insts, grace=grace,
                itemised=itemising.components, allocated=itemising.allocated)
    if itemising.penalty:
        book_penalties(values, loan, k, r)
    pay_history(values, loan, k, r, itemising.named)
    if k <= n and rng.random() < partial:
        inst = insts[k - 1]
        part = money(inst.amount * Decimal(rng.randint(15, 85)) / 100)
        if inst.amount - part >= 1:
            when = min(values.at(inst.due + timedelta(days=rng.randint(-3, 20))),
                       r - values.minutes(100, 600))  # posted before the rule ran
            settle(values, loan, part, when, installment=inst.no if itemising.named else None)
    return loan, k


def schedule(rng: random.Random, n: int, created: datetime, due_anchor: date,
             anchor: int) -> list[Installment]:
    """n monthly installments, installment `anchor` due on due_anchor: the principal in n
    parts plus a monthly charge on it (interest, now and then partly a service fee), the
    last one carrying the rounding."""
    principal = Decimal(rng.randrange(1000, 60001, 100))
    rate = Decimal(rng.choice((0, 50, 75, 100, 120, 150))) / 10000
    per = money(principal / n + principal * rate)
    part = money(principal / n)
    fee = money((per - part) * Decimal(rng.choice((0, 0, 0, 20, 30))) / 100)
    nominal = {"principal": part, "interest": per - part - fee, "fee": fee}
    insts = []
    no_updated = rng.random() < 0.1
    for i in range(1, n + 1):
        amount = per if i < n else max(ZERO, per + Decimal(rng.randint(-99, 99)) / 100)
        updated = None if no_updated else created + timedelta(seconds=i)
        insts.append(Installment(i, add_months(due_anchor, i - anchor), amount, updated,
                                 dict(nominal)))
    return insts


def book_penalties(values: Values, loan: Loan, k: int, r: datetime) -> None:
    """A penalty (罚息, 0.05% of the principal a day late, past the grace days) on each
    unpaid installment (k and later) due before the rule ran, booked before it ran."""
    booked = r - values.minutes(60, 600)
    for inst in loan.insts[k - 1:]:
        late = (booked.date() - inst.due).days
        penalty = money(inst.nominal.get("principal", ZERO) * Decimal("0.0005") * late)
        if late <= (loan.grace or 0) or penalty < CENT or inst.amount == ZERO:
            continue  # within grace, too small, or a payment holiday
        inst.amount += penalty
        inst.nominal["penalty"] = penalty
        if inst.updated_at is not None:
            inst.updated_at = booked


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
        fee = Decimal(rng.randint(30, 80))
        inst = Installment(len(insts) + 1, insts[k - 1].due, fee, None, {"fee": fee})
        insts.append(inst)
    else:
        inst = insts[rng.randrange(k, len(insts))]
        inst.amount = ZERO
    if insts[0].updated_at is not None:
        inst.updated_at = when


def settle(values: Values, loan: Loan, amount: Decimal, paid: datetime,
           status: str = "settled", posted: datetime | None = None,
           installment: int | None = None) -> Payment:
    """A payment paid at `paid` and posted (by default) 1-90 minutes later, naming
    `installment` (None: none)."""
    posted = posted or paid + values.minutes(1, 90)
    paid_at = None if values.rng.random() < 0.15 else paid
    pay = Payment(values.payment_id(paid), amount, status, posted, paid_at, installment)
    loan.pays.append(pay)
    return pay


def pay_history(values: Values, loan: Loan, k: int, r: datetime, named: bool = False) -> None:
    """Installments 1..k-1 paid in full, all posted before r; with `named` each payment
    names the installment it was made for (the first of two prepaid at once)."""
    rng = values.rng
    latest = r - values.minutes(30, 600)
    i = 0
    while i < k - 1:
        inst = loan.insts[i]
        no = inst.no if named else None
        late = rng.choice((-2, -1, 0, 0, 0, 0, 1, 3, 6))  # days after the due date
        when = min(values.at(inst.due + timedelta(days=late)), latest - timedelta(hours=2))
        pattern = rng.random()
        if pattern < 0.08 and i + 1 < k - 1:  # prepays the next installment too
            settle(values, loan, inst.amount + loan.insts[i + 1].amount, when, installment=no)
            i += 2
            continue
        if pattern < 0.18 and inst.amount >= 2:  # two partial payments
            first = money(inst.amount * Decimal(rng.randint(20, 80)) / 100)
            settle(values, loan, first, when - timedelta(days=rng.randint(1, 5)),
                   installment=no)
            settle(values, loan, inst.amount - first, when, installment=no)
        elif pattern < 0.22:  # a failed auto-debit before the real payment
            settle(values, loan, inst.amount, when - timedelta(hours=6), "failed",
                   installment=no)
            settle(values, loan, inst.amount, when, installment=no)
        elif pattern < 0.25:  # reversed (bounced), then paid again
            bounced = settle(values, loan, inst.amount, when - timedelta(days=3),
                             installment=no)
            bounced.status = "reversed"
            bounced.posted_at = when - timedelta(days=2)
            settle(values, loan, inst.amount, when, installment=no)
        else:
            settle(values, loan, inst.amount, when, installment=no)
        i += 1
