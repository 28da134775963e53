"""CONTRACT §2: a loan's overdue amount and days past due at a message's send time, with the
loan's own min_overdue_amount and the overdue amount components (docs/inputs.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from reconcile.synth.reference.contract import Settings
from reconcile.synth.reference.ledger import COMPONENTS, Installment, Loan, Payment

# CONTRACT §2: the truth for one message on a loan whose ledger is usable.


@dataclass
class Truth:
    overdue_amount: Decimal
    is_overdue: bool
    days_past_due: int
    overdue_if_pending_settles: Decimal
    # The min_overdue_amount this loan is judged with (its own, else the setting):
    # PAYMENT_PENDING compares overdue_if_pending_settles with it.
    min_overdue_amount: Decimal
    # overdue_c for c in principal, interest, fee, penalty (docs/inputs.md).
    overdue_components: dict[str, Decimal]


def effective_min_overdue_amount(loan: Loan, settings: Settings) -> Decimal:
    """docs/inputs.md: the loan's own min_overdue_amount replaces the setting when given."""
    if loan.min_overdue_amount is not None:
        return loan.min_overdue_amount
    return settings.min_overdue_amount


def overdue_components(past_due: list[Installment], settled: list[Payment]
                       ) -> dict[str, Decimal]:
    """docs/inputs.md: per component, what the past-due installments are due less what the settled
    payments known at T paid, floored at 0 (empty cells count 0)."""
    return {c: max(Decimal(0), sum((i.due_of(c) for i in past_due), Decimal(0))
                   - sum((p.paid_of(c) for p in settled), Decimal(0)))
            for c in COMPONENTS}


def truth(loan: Loan, installments: list[Installment], payments: list[Payment],
          s: datetime, as_of: datetime, settings: Settings) -> Truth:
    tz = ZoneInfo(settings.timezone)
    d_s = s.astimezone(tz).date()  # d(s): the local calendar date of s
    g = loan.grace_days if loan.grace_days is not None else settings.grace_days
    minimum = effective_min_overdue_amount(loan, settings)
    # P = sum of amount of the loan's payments with status settled and posted_at <= T.
    settled = [p for p in payments if p.status == "settled" and p.posted_at <= as_of]
    paid = sum((p.amount for p in settled), Decimal(0))
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
    is_overdue = overdue_amount >= minimum and loan.status != "closed"
    days = 0
    if is_overdue:
        k_star = next(k for k in range(len(ordered)) if cumulative[k] - paid >= minimum)
        days = (d_s - ordered[k_star].due_date).days
    return Truth(overdue_amount, is_overdue, days,
                 max(Decimal(0), c_last - paid - pending), minimum,
                 overdue_components([ordered[k] for k in past_due], settled))
