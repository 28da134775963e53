"""CONTRACT §2: a loan's overdue amount and days past due at a message's send time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from reconcile.synth.reference.contract import Settings
from reconcile.synth.reference.ledger import Installment, Loan, Payment

# CONTRACT §2: the truth for one message on a loan whose ledger is usable.


@dataclass
class Truth:
    overdue_amount: Decimal
    is_overdue: bool
    days_past_due: int
    overdue_if_pending_settles: Decimal


def truth(loan: Loan, installments: list[Installment], payments: list[Payment],
          s: datetime, as_of: datetime, settings: Settings) -> Truth:
    tz = ZoneInfo(settings.timezone)
    d_s = s.astimezone(tz).date()  # d(s): the local calendar date of s
    g = loan.grace_days if loan.grace_days is not None else settings.grace_days
    # P = sum of amount of the loan's payments with status settled and posted_at <= T.
    paid = sum((p.amount for p in payments if p.status == "settled" and p.posted_at <= as_of),
               Decimal(0))
    pending = sum((p.amount for p in payments if p.status == "pending" and p.posted_at <= as_of),
                  Decimal(0))
    # Installments are ordered by (due_date, installment_no); C_k is cumulative amount_due.
    ordered = sorted(installments, key=lambda i: (i.due_date, i.installment_no))
    cumulative = []
    running = Decimal(0)
    for item in ordered:
        running += item.amount_due
        cumulative.append(running)
    # Installment k is past due at s when d(s) > due_date_k + g days (as a day count, so a
    # huge grace_days cannot overflow a date).
    past_due = [k for k, item in enumerate(ordered) if (d_s - item.due_date).days > g]
    c_last = cumulative[past_due[-1]] if past_due else Decimal(0)
    overdue_amount = max(Decimal(0), c_last - paid)
    is_overdue = overdue_amount >= settings.min_overdue_amount and loan.status != "closed"
    days = 0
    if is_overdue:
        k_star = next(k for k in range(len(ordered))
                      if cumulative[k] - paid >= settings.min_overdue_amount)
        days = (d_s - ordered[k_star].due_date).days
    return Truth(overdue_amount, is_overdue, days,
                 max(Decimal(0), c_last - paid - pending))
