"""The ledger flags: CONTRACT §3, the docs/inputs.md money checks and COLLECTION_PAUSED
(collection_pauses, docs/inputs.md), one function per flag."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from reconcile.synth.reference.contract import Settings
from reconcile.synth.reference.ledger import Ledger, Pause, Template
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
    # docs/inputs.md: a pause period recorded (or changed) after the rule ran.
    changes += [p.recorded_at for p in (ledger.pauses or {}).get(m.loan_id, [])]
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


def payment_pending(t: Truth | None) -> bool:
    # The loan's own min_overdue_amount when it has one (docs/inputs.md), carried by the truth.
    return (t is not None and t.is_overdue
            and t.overdue_if_pending_settles < t.min_overdue_amount)


def unknown_loan(m: Message, ledger: Ledger) -> bool:
    return m.loan_id not in ledger.known_loans


def borrower_mismatch(m: Message, ledger: Ledger) -> bool:
    loan = ledger.usable_loans.get(m.loan_id)  # not evaluated when the loan row is unusable
    return loan is not None and loan.borrower_id != m.borrower_id


def unknown_template(m: Message, ledger: Ledger) -> bool:
    return m.template_id not in ledger.templates


def ledger_invalid(m: Message, ledger: Ledger) -> bool:
    return m.loan_id in ledger.invalid_loans


def pause_active(pause: Pause, d_s: date, as_of: datetime) -> bool:
    """docs/inputs.md: known at T (recorded_at <= T) and d(s) within the period, both ends
    inclusive; a period without paused_until has no end."""
    return (pause.recorded_at <= as_of and pause.paused_from <= d_s
            and (pause.paused_until is None or d_s <= pause.paused_until))


def collection_paused(m: Message, template: Template | None, pauses: list[Pause],
                      as_of: datetime, settings: Settings) -> bool:
    """docs/inputs.md: a collection or escalation text while an active period of its loan exists.
    pauses are the loan's usable rows: nothing else about the loan or its ledger matters."""
    if template is None or template[0] not in ("collection", "escalation"):
        return False  # reminders are never paused
    d_s = m.scheduled_at.astimezone(ZoneInfo(settings.timezone)).date()
    return any(pause_active(pause, d_s, as_of) for pause in pauses)


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
