"""A loan's ledger as the generator holds it before rendering (installments, payments, its
borrower) and what a rule reading it computes: the overdue amount and days past due, and
what of it is principal, interest, fee and penalty."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from reconcile.schema import COMPONENTS

CENT = Decimal("0.01")
ZERO = Decimal(0)
# The order a payment pays an installment's components in (罚息, 费用, 利息, 本金).
PAYING_ORDER = ("penalty", "fee", "interest", "principal")


@dataclass
class Installment:
    no: int
    due: date
    amount: Decimal
    updated_at: datetime | None
    # What the amount was made of when booked, by component (absent: 0); parts() keeps
    # them adding up to amount whatever later changed it.
    nominal: dict[str, Decimal] = field(default_factory=dict)

    def parts(self) -> dict[str, Decimal]:
        """amount by component (COMPONENTS), adding up to amount exactly: each nominal part
        in the order principal, interest, fee, penalty as far as amount goes (a reduction
        waives the penalty first), and what the parts do not explain as principal."""
        rest, kept = self.amount, {}
        for name in COMPONENTS:
            kept[name] = min(self.nominal.get(name, ZERO), rest)
            rest -= kept[name]
        kept["principal"] += rest
        return kept


@dataclass
class Payment:
    payment_id: str
    amount: Decimal
    status: str
    posted_at: datetime
    paid_at: datetime | None
    installment_no: int | None = None  # the installment the payment names, if it does
    # What it paid by component (set by allocate() for a loan that records it).
    allocation: dict[str, Decimal] | None = None


@dataclass
class Borrower:
    borrower_id: str
    name: str
    phone: str


@dataclass
class Loan:
    loan_id: str
    borrower: Borrower
    created: datetime
    insts: list[Installment]
    pays: list[Payment] = field(default_factory=list)
    status: str = "active"
    grace: int | None = None
    min_overdue: Decimal | None = None  # the loan's own min_overdue_amount
    itemised: bool = False  # installments carry principal_due ... penalty_due
    allocated: bool = False  # settled payments carry principal_paid ... penalty_paid


def overdue_view(loan: Loan, seen_at: datetime, d_s: date,
                 grace: int | None = None) -> tuple[Decimal, int]:
    """(overdue_amount, days_past_due) at send date d_s of the loan's ledger as it stood at
    seen_at (payments posted by then): what a rule running at seen_at computes, CONTRACT §2.
    grace: the grace days the rule applies (None: the loan's own)."""
    grace = (loan.grace or 0) if grace is None else grace
    paid = sum((p.amount for p in loan.pays if p.status == "settled" and p.posted_at <= seen_at),
               ZERO)
    ordered = sorted(loan.insts, key=lambda i: (i.due, i.no))
    running, cumulative, last = ZERO, [], -1
    for index, inst in enumerate(ordered):
        running += inst.amount
        cumulative.append(running)
        if (d_s - inst.due).days > grace:
            last = index
    overdue = max(ZERO, (cumulative[last] if last >= 0 else ZERO) - paid)
    if overdue < CENT:
        return overdue, 0
    first = next(k for k, c in enumerate(cumulative) if c - paid >= CENT)
    return overdue, (d_s - ordered[first].due).days


def allocate(loan: Loan) -> None:
    """Each settled payment's allocation, in posted order: the installments oldest first
    (by due date, number), each one's components in PAYING_ORDER; what is left over (an
    overpayment) is principal. Other payments carry none."""
    owed = [inst.parts() for inst in sorted(loan.insts, key=lambda i: (i.due, i.no))]
    for pay in sorted(loan.pays, key=lambda p: p.posted_at):
        pay.allocation = None
        if pay.status != "settled":
            continue
        rest, applied = pay.amount, dict.fromkeys(COMPONENTS, ZERO)
        for parts in owed:
            for name in PAYING_ORDER:
                taken = min(parts[name], rest)
                parts[name] -= taken
                applied[name] += taken
                rest -= taken
        applied["principal"] += rest
        pay.allocation = applied


def overdue_parts(loan: Loan, seen_at: datetime, d_s: date) -> dict[str, Decimal]:
    """The overdue amount by component at d_s as the ledger records it at seen_at: what the
    installments past due are due less what the settled payments posted by then paid, per
    component, at least 0 (all 0 when the ledger does not itemise)."""
    if not loan.itemised:
        return dict.fromkeys(COMPONENTS, ZERO)
    if loan.allocated:
        allocate(loan)
    grace = loan.grace or 0
    due = [inst.parts() for inst in loan.insts if (d_s - inst.due).days > grace]
    paid = [p.allocation for p in loan.pays  # settled payments only carry one
            if p.allocation is not None and p.posted_at <= seen_at]
    return {name: max(ZERO, sum((d[name] for d in due), ZERO) - sum((a[name] for a in paid),
                                                                     ZERO))
            for name in COMPONENTS}


def upcoming(loan: Loan, k: int) -> Decimal:
    """What is left to pay on installment k (for reminders and pre-due wording)."""
    return loan.insts[k - 1].amount


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def money(value: Decimal) -> Decimal:
    """value rounded to the cent, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
