"""CONTRACT §4 and the whole run: every flag of a message, its verdict, and reference()."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from reconcile.synth.reference.contact_flags import (
    contact_restrictions,
    duplicate_in_batch,
    frequency_cap,
    name_mismatch,
    quiet_hours,
    third_party_recipient,
)
from reconcile.synth.reference.contacts import NAME_WHITE_SPACE, Contacts, read_contacts
from reconcile.synth.reference.content import (
    content_mismatch,
    missing_opt_out,
    privacy_leaks,
    prohibited_terms_found,
)
from reconcile.synth.reference.contract import FLAGS, SEVERITY, Settings
from reconcile.synth.reference.ledger import Ledger, read_ledger
from reconcile.synth.reference.ledger_flags import (
    borrower_mismatch,
    collection_paused,
    ledger_invalid,
    not_overdue,
    payment_pending,
    pre_due_targeting,
    rule_mismatch,
    stale_data,
    unknown_loan,
    unknown_template,
    unplaced_payment,
)
from reconcile.synth.reference.messages import Batch, Message, read_messages
from reconcile.synth.reference.text import trimmed_tables
from reconcile.synth.reference.truth import truth


@dataclass
class Finding:
    message_id: str | None
    verdict: str
    flags: list[str]
    overdue_amount: Decimal | None
    days_past_due: int | None
    reasons: list[str] = field(default_factory=list)


def verdict(flags: list[str], settings: Settings) -> str:
    return max((settings.verdicts[f] for f in flags), key=SEVERITY.__getitem__, default="send")


def evaluate(m: Message, row: int, ledger: Ledger, contacts: Contacts, batch: Batch,
             as_of: datetime, settings: Settings) -> Finding:
    t = None
    if m.loan_id in ledger.known_loans and m.loan_id not in ledger.invalid_loans:
        t = truth(ledger.usable_loans[m.loan_id], ledger.installments.get(m.loan_id, []),
                  ledger.payments.get(m.loan_id, []), m.scheduled_at, as_of, settings)
    template = ledger.templates.get(m.template_id)
    reasons: list[str] = []
    holds = {}
    holds["NOT_OVERDUE"] = not_overdue(t, template)
    holds["PRE_DUE_TARGETING"] = pre_due_targeting(m, holds["NOT_OVERDUE"], ledger)
    holds["STALE_DATA"] = stale_data(m, ledger, as_of, settings)
    holds["RULE_MISMATCH"] = rule_mismatch(m, t, template, settings)
    holds["PAYMENT_PENDING"] = payment_pending(t)
    holds["UNKNOWN_LOAN"] = unknown_loan(m, ledger)
    holds["BORROWER_MISMATCH"] = borrower_mismatch(m, ledger)
    holds["UNKNOWN_TEMPLATE"] = unknown_template(m, ledger)
    holds["LEDGER_INVALID"] = ledger_invalid(m, ledger)
    # Not evaluated (False) when the drop has no collection_pauses table.
    holds["COLLECTION_PAUSED"] = (ledger.pauses is not None and collection_paused(
        m, template, ledger.pauses.get(m.loan_id, []), as_of, settings))
    holds["CLOCK_SKEW"] = m.rule_evaluated_at > as_of
    holds["UNPLACED_PAYMENT"] = (settings.whole_drop
                                 and unplaced_payment(m, t, ledger, as_of, settings))
    holds["QUIET_HOURS"] = quiet_hours(m, contacts, settings)
    holds["FREQUENCY_CAP"] = frequency_cap(m, row, batch, contacts, ledger, settings)
    holds["DUPLICATE_IN_BATCH"] = duplicate_in_batch(m, row, batch)
    restrictions = contact_restrictions(m, contacts, settings)
    holds["CONTACT_RESTRICTED"] = bool(restrictions)
    reasons += [f"contact flag {f.flag} since {f.since.isoformat()}" for f in restrictions]
    holds["THIRD_PARTY_RECIPIENT"] = third_party_recipient(m, contacts, settings)
    holds["NAME_MISMATCH"] = name_mismatch(m, contacts)
    text = m.row.get("message_text")
    if text is None or all(c in NAME_WHITE_SPACE for c in text):  # a blank text is no text
        holds.update(dict.fromkeys(("CONTENT_MISMATCH", "PROHIBITED_CONTENT", "PRIVACY_LEAK",
                                    "MISSING_OPT_OUT"), False))
    else:
        holds["CONTENT_MISMATCH"] = content_mismatch(text, t, template, settings)
        terms = prohibited_terms_found(text, settings)
        holds["PROHIBITED_CONTENT"] = bool(terms)
        reasons += [f"prohibited term {term!r}" for term in terms]
        leaks = privacy_leaks(text)
        holds["PRIVACY_LEAK"] = bool(leaks)
        reasons += leaks
        holds["MISSING_OPT_OUT"] = missing_opt_out(text, settings)
    holds["CONTACT_DATA_INVALID"] = m.borrower_id in contacts.invalid_borrowers
    flags = [f for f in FLAGS if holds[f]]
    return Finding(m.message_id, verdict(flags, settings), flags,
                   None if t is None else t.overdue_amount,
                   None if t is None else t.days_past_due, reasons)


def reference(drop: Any, as_of: datetime, settings: Settings | None = None) -> list[Finding]:
    """Findings for every send_batch row of drop (a Drop or a dict of tables), in order.
    A table that is absent (or None) is not in the drop: the checks that need it are
    skipped; an empty list is a table with no rows."""
    settings = settings or Settings()
    tables = trimmed_tables(getattr(drop, "tables", drop))
    tz = ZoneInfo(settings.timezone)
    ledger = read_ledger(tables, tz)
    contacts = read_contacts(tables, tz, settings)
    rows = tables["send_batch"]
    read = read_messages(rows, tz)
    batch = Batch({}, {})
    for row, message in enumerate(read, start=1):
        if isinstance(message, Message):
            batch.add(row, message)
    findings = []
    for row, (text_row, message) in enumerate(zip(rows, read, strict=True), start=1):
        if isinstance(message, list):
            findings.append(Finding(text_row.get("message_id"), "rejected", [], None, None,
                                    message))
        else:
            findings.append(evaluate(message, row, ledger, contacts, batch, as_of, settings))
    return findings
