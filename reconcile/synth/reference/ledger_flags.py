"""The ledger flags: CONTRACT §3 and the docs/inputs.md money checks, one function per flag."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

from reconcile.synth.reference.contract import Settings
from reconcile.synth.reference.ledger import Ledger, Template
from reconcile.synth.reference.messages import Message
from reconcile.synth.reference.truth import Truth

# CONTRACT §3: one function per flag. `t` is None when the truth is not known (unknown loan
# or unusable ledger); `template` is None when the template is unknown or unusable.


def not_overdue(t: Truth | None, template: Template | None) -> bool:
    return (t is not None and template is not None
            and template[0] in ("collection", "escalation") and not t.is_overdue)


def pre_due_targeting(m: Message, is_not_overdue: bool, ledger: Ledger) -> bool:
    risk_rule = ledger.rule_categories.get(m.rule_id) == "risk_control"
    pre_due_claim = m.claimed_days_past_due is not None and m.claimed_days_past_due <= 0
    return is_not_overdue and (risk_rule or pre_due_claim)


def stale_data(m: Message, ledger: Ledger, as_of: datetime, settings: Settings) -> bool:
    r = m.rule_evaluated_at
    age_us = (as_of - r) // timedelta(microseconds=1)
    if Decimal(age_us) > settings.max_rule_age_hours * 3600 * 10**6:  # strict: 24 h is fresh
        return True
    if m.loan_id in ledger.invalid_loans:
        return False  # the ledger clauses are not evaluated on an unusable ledger
    # Rows carrying the loan_id (for an unknown loan too); all of them are usable here.
    changes = [p.posted_at for p in ledger.payments.get(m.loan_id, [])]
    changes += [i.updated_at for i in ledger.installments.get(m.loan_id, [])
                if i.updated_at is not None]
    return any(r < changed <= as_of for changed in changes)


def rule_mismatch(m: Message, t: Truth | None, template: Template | None,
                  settings: Settings) -> bool:
    if t is None:
        return False
    if (m.claimed_overdue_amount is not None
            and abs(m.claimed_overdue_amount - t.overdue_amount) > settings.amount_tolerance):
        return True
    if (m.claimed_days_past_due is not None
            and abs(m.claimed_days_past_due - t.days_past_due) > settings.dpd_tolerance):
        return True
    if template is not None:
        _, low, high = template
        if low is not None and t.days_past_due < low:
            return True
        if high is not None and t.days_past_due > high:
            return True
    return False


def payment_pending(t: Truth | None, settings: Settings) -> bool:
    return (t is not None and t.is_overdue
            and t.overdue_if_pending_settles < settings.min_overdue_amount)


def unknown_loan(m: Message, ledger: Ledger) -> bool:
    return m.loan_id not in ledger.known_loans


def borrower_mismatch(m: Message, ledger: Ledger) -> bool:
    loan = ledger.usable_loans.get(m.loan_id)  # not evaluated when the loan row is unusable
    return loan is not None and loan.borrower_id != m.borrower_id


def unknown_template(m: Message, ledger: Ledger) -> bool:
    return m.template_id not in ledger.templates


def ledger_invalid(m: Message, ledger: Ledger) -> bool:
    return m.loan_id in ledger.invalid_loans


def loan_match_key(loan_id: str | None) -> str:
    """docs/inputs.md: case, punctuation and leading zeros of digit runs set aside."""
    letters = re.sub(r"[^0-9A-Z]", "", (loan_id or "").upper())
    return re.sub(r"(^|[^0-9])0+([0-9])", r"\1\2", letters)


def unplaced_payment(m: Message, t: Truth | None, ledger: Ledger, as_of: datetime,
                     settings: Settings) -> bool:
    """docs/inputs.md: money known at T that no loan can take holds the messages it could be
    for, or every message (policy hold_all, or more than max_unplaced_payments)."""
    known = [u for u in ledger.unplaced if u.posted_at is None or u.posted_at <= as_of]
    if known and (settings.unplaced_payment_policy == "hold_all"
                  or len(known) > settings.max_unplaced_payments):
        return True
    key = loan_match_key(m.loan_id)
    amounts = {m.claimed_overdue_amount, None if t is None else t.overdue_amount} - {None}
    return any((key != "" and loan_match_key(u.loan_id) == key) or u.amount in amounts
               for u in known)
