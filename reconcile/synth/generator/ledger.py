"""A loan's ledger as the generator holds it before rendering (installments, payments, its
borrower) and what a rule reading it computes: the overdue amount and days past due."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal(0)


@dataclass
class Installment:
    no: int
    due: date
    amount: Decimal
    updated_at: datetime | None


@dataclass
class Payment:
    payment_id: str
    amount: Decimal
    status: str
    posted_at: datetime
    paid_at: datetime | None


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
