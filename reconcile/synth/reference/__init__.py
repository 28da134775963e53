"""An independent, pure-Python oracle for CONTRACT §2-4 and docs/interpretations.md.

It reads the same text rows a drop carries (a `Drop` from tests/drops.py, or a plain
`{table: [row dict]}`), never imports the engine (nothing of the reconcile package outside
this one) and never touches DuckDB. Every flag function is written straight from the
contract's wording, one per flag. It is deliberately slow and plain: it is the oracle.

    contract        the contract's facts, copied: flags, default policy, profiles, Settings
    text            text shapes of input cells and the checks every table's rows share
    messages        send_batch rows read as messages; the batch the checks compare
    ledger          loans, installments, payments, collection_pauses, templates, rules
                    read as a ledger (with the optional min_overdue_amount, amount
                    components and payments' installment_no)
    truth           CONTRACT §2: overdue amount, its components and days past due at
                    send time
    ledger_flags    CONTRACT §3, the docs/inputs.md money checks, COLLECTION_PAUSED
    contacts        send_history, borrowers, contact_flags; phone and name keys
    contact_flags   the contact-policy flags of docs/contact_checks.md
    content         how a message text is read (labelled amount components too), and the
                    content flags
    findings        CONTRACT §4 and the whole run: verdicts, Finding, reference()

Limit of the oracle itself: Python dates start at year 0001, so a date or timestamp in
year 0000 reads as unusable here.
"""

from __future__ import annotations

from reconcile.synth.reference.content import (
    ID_WEIGHTS,
    luhn_valid,
    privacy_leaks,
    prohibited_terms_found,
    stated_amounts,
    stated_components,
    stated_days,
    valid_resident_id,
)
from reconcile.synth.reference.contract import (
    CONTACT_FLAG_KINDS,
    DEFAULT_OPT_OUT_PHRASES,
    DEFAULT_POLICY,
    DEFAULT_PROHIBITED_TERM_EXCEPTIONS,
    DEFAULT_PROHIBITED_TERMS,
    FLAGS,
    LOAN_STATUSES,
    NOT_SENT_STATUSES,
    PAUSE_KINDS,
    PAYMENT_STATUSES,
    PROFILES,
    RULE_CATEGORIES,
    SEVERITY,
    TEMPLATE_KINDS,
    Settings,
)
from reconcile.synth.reference.findings import Finding, evaluate, reference, verdict
from reconcile.synth.reference.text import (
    WHITESPACE,
    is_empty,
    local_time_fault,
    parse_amount,
    parse_date,
    parse_integer,
    parse_timestamp,
    trimmed_tables,
)

__all__ = [
    "CONTACT_FLAG_KINDS",
    "DEFAULT_OPT_OUT_PHRASES",
    "DEFAULT_POLICY",
    "DEFAULT_PROHIBITED_TERMS",
    "DEFAULT_PROHIBITED_TERM_EXCEPTIONS",
    "FLAGS",
    "ID_WEIGHTS",
    "LOAN_STATUSES",
    "NOT_SENT_STATUSES",
    "PAUSE_KINDS",
    "PAYMENT_STATUSES",
    "PROFILES",
    "RULE_CATEGORIES",
    "SEVERITY",
    "TEMPLATE_KINDS",
    "WHITESPACE",
    "Finding",
    "Settings",
    "evaluate",
    "is_empty",
    "local_time_fault",
    "luhn_valid",
    "parse_amount",
    "parse_date",
    "parse_integer",
    "parse_timestamp",
    "privacy_leaks",
    "prohibited_terms_found",
    "reference",
    "stated_amounts",
    "stated_components",
    "stated_days",
    "trimmed_tables",
    "valid_resident_id",
    "verdict",
]
