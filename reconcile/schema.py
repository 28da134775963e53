"""The contract's facts, defined once: input tables and their columns, flag names, verdicts.

Everything else (staging SQL, check loading, verdict policy, docs tests) reads these.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

ValueKind = Literal["text", "amount", "integer", "date", "timestamp", "timezone"]

# What a value must look like, in the words of an error message: "'3.5' is not an integer".
KIND_NOUN: dict[str, str] = {
    "amount": "an amount",
    "integer": "an integer",
    "date": "a date (YYYY-MM-DD)",
    "timestamp": "a timestamp",
    "timezone": "a known IANA time zone",
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: ValueKind = "text"
    required: bool = False
    allowed: tuple[str, ...] = ()
    # A lower bound the value must respect, and whether equality is allowed.
    minimum: Decimal | None = None
    minimum_inclusive: bool = True
    # An identifier (loan_id, phone, ...): compared after trimming surrounding whitespace,
    # as CHAR columns exported from Oracle, DB2 or MySQL arrive padded.
    identifier: bool = False

    @property
    def trimmed(self) -> bool:
        """Whether the staged value drops surrounding whitespace: identifiers and codes
        (a status or kind from a fixed list) do; free text (names, message text) does not."""
        return self.identifier or bool(self.allowed)


@dataclass(frozen=True)
class PartsAddUp:
    """A row rule: when any of `parts` is given, the parts (an empty one is 0) add up
    exactly to `total` (the components of an amount, docs/inputs.md)."""

    total: str
    parts: tuple[str, ...]


@dataclass(frozen=True)
class NotBefore:
    """A row rule: `later`, when given, is not before `earlier` (the ends of a period)."""

    later: str
    earlier: str


RowRule = PartsAddUp | NotBefore


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    required: bool = True
    # Columns whose combined value must be unique; every copy of a repeated key is unusable.
    unique_key: tuple[str, ...] = ()
    # The loan a row belongs to, so an unusable row can be charged to its loan's ledger.
    loan_column: str | None = None
    # The borrower a row of a contact table concerns, for CONTACT_DATA_INVALID.
    borrower_column: str | None = None
    # Rules across a row's columns, checked once each value has parsed.
    row_rules: tuple[RowRule, ...] = ()
    # For a table without a unique key: the columns that tell its rows apart to a person,
    # which cite a row read from a database, where there is no file row (row_key).
    identified_by: tuple[str, ...] = ()

    @property
    def row_key(self) -> tuple[str, ...]:
        """The columns that cite one of this table's rows: its key, else identified_by."""
        return self.unique_key or self.identified_by

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _required(name: str, kind: ValueKind = "text", **extra: object) -> Column:
    return Column(name, kind, required=True, **extra)  # type: ignore[arg-type]


def _identifier(name: str, required: bool = True) -> Column:
    return Column(name, required=required, identifier=True)


def _component_names(suffix: str) -> tuple[str, ...]:
    return tuple(f"{part}_{suffix}" for part in COMPONENTS)


def _components(suffix: str) -> tuple[Column, ...]:
    """The optional component columns of an amount: principal_due, ..., penalty_paid."""
    return tuple(Column(name, "amount", minimum=Decimal(0))
                 for name in _component_names(suffix))


TEMPLATE_KINDS = ("reminder", "collection", "escalation")
LOAN_STATUSES = ("active", "closed")
PAYMENT_STATUSES = ("settled", "pending", "reversed", "failed")
RULE_CATEGORIES = ("delinquency", "risk_control", "reminder")
PAUSE_KINDS = (
    "collection_stop", "collection_delay", "hardship_relief", "payment_holiday", "repayment_plan",
)
# The parts an amount owed or paid may be split into (docs/inputs.md, "Amount components").
COMPONENTS = ("principal", "interest", "fee", "penalty")
CONTACT_FLAG_KINDS = (
    "opted_out", "dispute_open", "cease_contact", "deceased", "bankruptcy", "complaint_open",
)

TABLES: tuple[Table, ...] = (
    Table(
        "send_batch",
        (
            _identifier("message_id"),
            _identifier("borrower_id"),
            _identifier("loan_id"),
            _identifier("phone"),
            _identifier("template_id"),
            _identifier("rule_id"),
            _required("rule_evaluated_at", "timestamp"),
            _required("scheduled_at", "timestamp"),
            Column("claimed_overdue_amount", "amount"),
            Column("claimed_days_past_due", "integer"),
            Column("borrower_name"),
            Column("message_text"),
            _identifier("batch_id", required=False),
        ),
        unique_key=("message_id",),
    ),
    Table(
        "templates",
        (
            _identifier("template_id"),
            _required("kind", allowed=TEMPLATE_KINDS),
            Column("min_dpd", "integer"),
            Column("max_dpd", "integer"),
        ),
        unique_key=("template_id",),
    ),
    Table(
        "loans",
        (
            _identifier("loan_id"),
            _identifier("borrower_id"),
            _required("status", allowed=LOAN_STATUSES),
            Column("grace_days", "integer", minimum=Decimal(0)),
            # The loan's own tolerance, overriding the setting (docs/inputs.md).
            Column("min_overdue_amount", "amount", minimum=Decimal("0.01")),
        ),
        unique_key=("loan_id",),
        loan_column="loan_id",
    ),
    Table(
        "installments",
        (
            _identifier("loan_id"),
            _required("installment_no", "integer"),
            _required("due_date", "date"),
            _required("amount_due", "amount", minimum=Decimal(0)),
            Column("updated_at", "timestamp"),
            *_components("due"),
        ),
        unique_key=("loan_id", "installment_no"),
        loan_column="loan_id",
        row_rules=(PartsAddUp("amount_due", _component_names("due")),),
    ),
    Table(
        "payments",
        (
            _identifier("payment_id"),
            _identifier("loan_id"),
            _required("amount", "amount", minimum=Decimal(0), minimum_inclusive=False),
            _required("status", allowed=PAYMENT_STATUSES),
            _required("posted_at", "timestamp"),
            Column("paid_at", "timestamp"),
            # The installment the payment was made for: cited in evidence, while the truth
            # keeps the contract's oldest-first reading (docs/interpretations.md).
            Column("installment_no", "integer"),
            *_components("paid"),
        ),
        unique_key=("payment_id",),
        loan_column="loan_id",
        row_rules=(PartsAddUp("amount", _component_names("paid")),),
    ),
    # Periods in which a loan must not be collected on (停催, 缓催, an agreed plan):
    # optional, docs/inputs.md.
    Table(
        "collection_pauses",
        (
            _identifier("loan_id"),
            _required("kind", allowed=PAUSE_KINDS),
            _required("paused_from", "date"),
            Column("paused_until", "date"),
            _required("recorded_at", "timestamp"),
        ),
        required=False,
        loan_column="loan_id",
        identified_by=("loan_id", "kind", "paused_from"),
        row_rules=(NotBefore("paused_until", "paused_from"),),
    ),
    Table(
        "rules",
        (
            _identifier("rule_id"),
            _required("category", allowed=RULE_CATEGORIES),
        ),
        required=False,
        unique_key=("rule_id",),
    ),
    # Contact-policy inputs (issue #5, docs/contact_checks.md): all optional.
    Table(
        "send_history",
        (
            _identifier("message_id"),
            _identifier("borrower_id"),
            _identifier("loan_id"),
            _required("sent_at", "timestamp"),
            _identifier("phone", required=False),
            _identifier("template_id", required=False),
            Column("status"),
        ),
        required=False,
        unique_key=("message_id",),
        borrower_column="borrower_id",
    ),
    Table(
        "borrowers",
        (
            _identifier("borrower_id"),
            Column("name"),
            _identifier("phone", required=False),
            Column("timezone", "timezone"),
        ),
        required=False,
        borrower_column="borrower_id",
        identified_by=("borrower_id",),
    ),
    Table(
        "contact_flags",
        (
            _identifier("borrower_id"),
            _required("flag", allowed=CONTACT_FLAG_KINDS),
            _required("since", "timestamp"),
            Column("until", "timestamp"),
        ),
        required=False,
        borrower_column="borrower_id",
        identified_by=("borrower_id", "flag", "since"),
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}

# The amount-component columns of installments and payments (docs/inputs.md).
COMPONENT_COLUMNS: tuple[str, ...] = (*_component_names("due"), *_component_names("paid"))

# The tables whose rows belong to a loan of `loans`: a row naming no known loan is money or
# debt no message's truth counts, listed in input_issues.csv as unattributed.
LEDGER_TABLES: tuple[str, ...] = ("installments", "payments", "collection_pauses")

# Verdicts a flag can map to, mildest first: a message takes the severest of its flags'.
VERDICTS: tuple[str, ...] = ("send", "hold", "block")
REJECTED = "rejected"
OUTCOMES: tuple[str, ...] = (*VERDICTS, REJECTED)

# Columns of findings.csv, in order; the first six are the contract's.
FINDINGS_COLUMNS: tuple[str, ...] = (
    "message_id",
    "verdict",
    "flags",
    "overdue_amount",
    "days_past_due",
    "reason",
    "source_row",
    "borrower_id",
    "loan_id",
    "template_id",
    "rule_id",
    "rule_evaluated_at",
    "scheduled_at",
    "claimed_overdue_amount",
    "claimed_days_past_due",
    "last_ledger_change_at",
    "rule_age_hours",
)

# findings.parquet has the columns of findings.csv, then `details`: the evidence as data,
# a list of {flag, detail} in flag order, which `reason` spells out as text. A CSV has no
# place for a list of structs, so findings.csv keeps `reason` alone.
FINDINGS_PARQUET_COLUMNS: tuple[str, ...] = (*FINDINGS_COLUMNS, "details")
