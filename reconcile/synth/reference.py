"""An independent, pure-Python oracle for CONTRACT §2-4 and docs/interpretations.md.

It reads the same text rows a drop carries (a `Drop` from tests/drops.py, or a plain
`{table: [row dict]}`), never imports the reconcile package and never touches DuckDB.
Every function below is written straight from the contract's wording, one per flag. It is
deliberately slow and plain: it is the oracle.

Limit of the oracle itself: Python dates start at year 0001, so a date or timestamp in
year 0000 reads as unusable here.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

# CONTRACT §3, in the order of its table. Copied, not imported from reconcile.schema, so the
# oracle shares no code with the engine; tests/test_docs.py keeps the copies equal.
FLAGS = (
    "NOT_OVERDUE",
    "PRE_DUE_TARGETING",
    "STALE_DATA",
    "RULE_MISMATCH",
    "PAYMENT_PENDING",
    "UNKNOWN_LOAN",
    "BORROWER_MISMATCH",
    "UNKNOWN_TEMPLATE",
    "LEDGER_INVALID",
    # docs/inputs.md: a rule that claims to have run after T; money no loan can take.
    "CLOCK_SKEW",
    "UNPLACED_PAYMENT",
    # docs/contact_checks.md (issue #5), in the order of its table. The engine's feed flags
    # (STALE_FEED, INCOMPLETE_FEED) sit before UNPLACED_PAYMENT there; the oracle does not
    # implement them: they judge the night's files as a whole (and the history).
    "QUIET_HOURS",
    "FREQUENCY_CAP",
    "DUPLICATE_IN_BATCH",
    "CONTACT_RESTRICTED",
    "THIRD_PARTY_RECIPIENT",
    "NAME_MISMATCH",
    "CONTENT_MISMATCH",
    "PROHIBITED_CONTENT",
    "PRIVACY_LEAK",
    "MISSING_OPT_OUT",
    "CONTACT_DATA_INVALID",
)

# CONTRACT §4, the default policy.
DEFAULT_POLICY = {
    "NOT_OVERDUE": "block",
    "PRE_DUE_TARGETING": "block",
    "BORROWER_MISMATCH": "block",
    "UNKNOWN_LOAN": "block",
    "STALE_DATA": "hold",
    "RULE_MISMATCH": "hold",
    "PAYMENT_PENDING": "hold",
    "UNKNOWN_TEMPLATE": "hold",
    "LEDGER_INVALID": "hold",
    "CLOCK_SKEW": "hold",
    "UNPLACED_PAYMENT": "hold",
    # docs/contact_checks.md, "default verdict".
    "QUIET_HOURS": "hold",
    "FREQUENCY_CAP": "hold",
    "DUPLICATE_IN_BATCH": "block",
    "CONTACT_RESTRICTED": "block",
    "THIRD_PARTY_RECIPIENT": "block",
    "NAME_MISMATCH": "block",
    "CONTENT_MISMATCH": "hold",
    "PROHIBITED_CONTENT": "block",
    "PRIVACY_LEAK": "block",
    "MISSING_OPT_OUT": "hold",
    "CONTACT_DATA_INVALID": "hold",
}
SEVERITY = {"send": 0, "hold": 1, "block": 2}

TEMPLATE_KINDS = {"reminder", "collection", "escalation"}
LOAN_STATUSES = {"active", "closed"}
PAYMENT_STATUSES = {"settled", "pending", "reversed", "failed"}
RULE_CATEGORIES = {"delinquency", "risk_control", "reminder"}
CONTACT_FLAG_KINDS = ("opted_out", "dispute_open", "cease_contact", "deceased", "bankruptcy",
                      "complaint_open")
# The statuses of a send_history row that was never delivered: it does not count.
NOT_SENT_STATUSES = {"failed", "cancelled", "rejected"}

# Default term lists of docs/contact_checks.md (copies of reconcile/config.py's, kept equal
# by tests/test_docs.py).
DEFAULT_PROHIBITED_TERMS: tuple[str, ...] = (
    "公安", "警察", "法院传票", "传票", "坐牢", "拘留", "逮捕", "判刑", "刑事责任",
    "曝光", "通讯录", "黑名单", "通知你的家人", "通知您的家人", "联系你的单位", "上门催收",
    "police", "arrest", "jail", "warrant", "prison",
)
DEFAULT_PROHIBITED_TERM_EXCEPTIONS: tuple[str, ...] = (
    "办公安排", "办公安全", "曝光度", "曝光补偿",
)
DEFAULT_OPT_OUT_PHRASES: tuple[str, ...] = (
    "reply stop", "text stop", "opt out", "opt-out", "unsubscribe", "退订", "回复td", "回t",
)

# The policy profiles of docs/contact_checks.md; the Settings defaults are "cn".
PROFILES: dict[str, dict[str, Any]] = {
    "cn": {
        "allowed_hours_start": "08:00",
        "allowed_hours_end": "22:00",
        "max_messages_per_day": 3,
        "max_messages_per_7_days": 0,
        "frequency_scope": "borrower",
        "require_opt_out": False,
        "phone_country_code": "86",
    },
    "us_reg_f": {
        "allowed_hours_start": "08:00",
        "allowed_hours_end": "21:00",
        "max_messages_per_day": 0,
        "max_messages_per_7_days": 7,
        "frequency_scope": "loan",
        "require_opt_out": True,
        "phone_country_code": "1",
    },
}


# A usable template: (kind, min_dpd, max_dpd).
Template = tuple[str, int | None, int | None]


@dataclass(frozen=True)
class Settings:
    timezone: str = "Asia/Shanghai"
    grace_days: int = 0
    min_overdue_amount: Decimal = Decimal("0.01")
    amount_tolerance: Decimal = Decimal("0.01")
    dpd_tolerance: int = 1
    max_rule_age_hours: Decimal = Decimal(24)
    # docs/inputs.md: what unplaced money holds.
    unplaced_payment_policy: str = "hold_matching"
    max_unplaced_payments: int = 20
    # False when labelling one chunk of a generated drop: UNPLACED_PAYMENT, which looks at
    # the whole drop's money, is not evaluated.
    whole_drop: bool = True
    # Contact policy (docs/contact_checks.md): the "cn" profile unless said otherwise.
    profile: str = "cn"
    allowed_hours_start: str = "08:00"
    allowed_hours_end: str = "22:00"
    max_messages_per_day: int = 3
    max_messages_per_7_days: int = 0
    frequency_scope: str = "borrower"
    require_opt_out: bool = False
    phone_country_code: str = "86"
    restricting_contact_flags: tuple[str, ...] = CONTACT_FLAG_KINDS[:5]
    prohibited_terms: tuple[str, ...] = DEFAULT_PROHIBITED_TERMS
    prohibited_term_exceptions: tuple[str, ...] = DEFAULT_PROHIBITED_TERM_EXCEPTIONS
    opt_out_phrases: tuple[str, ...] = DEFAULT_OPT_OUT_PHRASES
    verdicts: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_POLICY))

    @classmethod
    def for_profile(cls, profile: str, **changes: Any) -> Settings:
        """A profile's defaults, then the settings named one by one (as a config file)."""
        return cls(**{"profile": profile, **PROFILES[profile], **changes})


@dataclass
class Finding:
    message_id: str | None
    verdict: str
    flags: list[str]
    overdue_amount: Decimal | None
    days_past_due: int | None
    reasons: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------
# Text shapes (docs/interpretations.md, "Text shapes"). Each parser returns None when the
# text is not of the accepted shape.

AMOUNT_RE = re.compile(r"[+-]?[0-9]{1,16}(\.[0-9]{1,2})?")
INTEGER_RE = re.compile(r"[+-]?[0-9]{1,9}")
DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
TIMESTAMP_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?"
    r"(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)


# docs/inputs.md: the surrounding whitespace trimmed from identifiers and before parsing.
WHITESPACE = " \t\n\v\f\r\u00a0\u3000\ufeff"
# Columns compared after trimming it: identifiers, and the codes of a fixed list.
TRIMMED_COLUMNS = {
    "send_batch": ("message_id", "borrower_id", "loan_id", "phone", "template_id", "rule_id",
                   "batch_id"),
    "templates": ("template_id", "kind"),
    "loans": ("loan_id", "borrower_id", "status"),
    "installments": ("loan_id",),
    "payments": ("payment_id", "loan_id", "status"),
    "rules": ("rule_id", "category"),
    "send_history": ("message_id", "borrower_id", "loan_id", "phone", "template_id"),
    "borrowers": ("borrower_id", "phone"),
    "contact_flags": ("borrower_id", "flag"),
}


def trimmed_tables(tables: dict[str, Any]) -> dict[str, Any]:
    """The drop with identifiers and codes trimmed (None stays None, an absent table too)."""
    def trim(row: dict[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
        return {k: v.strip(WHITESPACE) if k in columns and isinstance(v, str) else v
                for k, v in row.items()}
    return {name: None if rows is None
            else [trim(row, TRIMMED_COLUMNS.get(name, ())) for row in rows]
            for name, rows in tables.items()}


def is_empty(value: str | None) -> bool:
    """'A cell that is empty or only whitespace is empty.'"""
    return value is None or value.strip(WHITESPACE) == ""


def parse_amount(value: str) -> Decimal | None:
    text = value.strip(WHITESPACE)
    return Decimal(text) if AMOUNT_RE.fullmatch(text) else None


def parse_integer(value: str) -> int | None:
    text = value.strip(WHITESPACE)
    return int(text) if INTEGER_RE.fullmatch(text) else None


def parse_date(value: str) -> date | None:
    match = DATE_RE.fullmatch(value.strip(WHITESPACE))
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:  # not a real calendar day
        return None


def local_time_fault(naive: datetime, tz: ZoneInfo) -> str | None:
    """'skipped' when no instant has wall time `naive` in tz (clocks went forward over it),
    'repeated' when two have (clocks went back over it), else None."""
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    back = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    return "skipped" if back != naive else "repeated"


def parse_timestamp(value: str, tz: ZoneInfo) -> datetime | None:
    """With an offset it is that instant; without one, local time in the timezone."""
    match = TIMESTAMP_RE.fullmatch(value.strip(WHITESPACE))
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "").ljust(6, "0"))
    try:
        naive = datetime(int(year), int(month), int(day), int(hour), int(minute),
                         int(second or 0), micro)
    except ValueError:  # not a real calendar instant
        return None
    if offset is None:
        # Wall time a clock change skipped or repeated is no one instant: not a timestamp.
        return None if local_time_fault(naive, tz) else naive.replace(tzinfo=tz)
    if offset == "Z":
        return naive.replace(tzinfo=UTC)
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        return None
    sign = -1 if offset[0] == "-" else 1
    return naive.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))


# ---------------------------------------------------------------------------------------
# Reading each table. A row is usable when every check passes; the problems say why not.


def _required(row: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    return [f"{name} is empty" for name in names if is_empty(row.get(name))]


def _typed(row: dict[str, Any], name: str, parse: Any, noun: str) -> tuple[Any, list[str]]:
    """(value, problems) of a typed column; None with no problem when the cell is empty."""
    text = row.get(name)
    if is_empty(text):
        return None, []
    value = parse(text)
    if value is None:
        return None, [f"{name} {text!r} is not {noun}"]
    return value, []


def _duplicates(keys: list[Any]) -> set[Any]:
    counts = Counter(key for key in keys if key is not None)
    return {key for key, n in counts.items() if n > 1}


@dataclass
class Message:
    row: dict[str, Any]
    message_id: str
    borrower_id: str
    loan_id: str
    template_id: str
    rule_id: str
    rule_evaluated_at: datetime
    scheduled_at: datetime
    claimed_overdue_amount: Decimal | None
    claimed_days_past_due: int | None


def read_messages(rows: list[dict[str, Any]], tz: ZoneInfo) -> list[Message | list[str]]:
    """One entry per send_batch row: a Message, or the list of reasons it is rejected."""
    ids = [None if is_empty(r.get("message_id")) else r.get("message_id") for r in rows]
    repeated = _duplicates(ids)
    result: list[Message | list[str]] = []
    for row, message_id in zip(rows, ids, strict=True):
        problems = _required(row, ("message_id", "borrower_id", "loan_id", "phone",
                                   "template_id", "rule_id", "rule_evaluated_at",
                                   "scheduled_at"))
        stamps = {}
        for name in ("rule_evaluated_at", "scheduled_at"):
            stamps[name], more = _typed(row, name, lambda v: parse_timestamp(v, tz),
                                        "a timestamp")
            problems += more
        amount, more = _typed(row, "claimed_overdue_amount", parse_amount, "an amount")
        problems += more
        days, more = _typed(row, "claimed_days_past_due", parse_integer, "an integer")
        problems += more
        if message_id in repeated:
            problems.append(f"message_id {message_id!r} appears more than once")
        if problems:
            result.append(problems)
            continue
        result.append(Message(row, row["message_id"], row["borrower_id"], row["loan_id"],
                              row["template_id"], row["rule_id"],
                              stamps["rule_evaluated_at"], stamps["scheduled_at"],
                              amount, days))
    return result


@dataclass
class Loan:
    loan_id: str
    borrower_id: str
    status: str
    grace_days: int | None


@dataclass
class Installment:
    loan_id: str
    installment_no: int
    due_date: date
    amount_due: Decimal
    updated_at: datetime | None


@dataclass
class Payment:
    payment_id: str
    loan_id: str
    amount: Decimal
    status: str
    posted_at: datetime


@dataclass
class Ledger:
    """What the reference tables say, with every unusable row charged to its loan."""

    known_loans: set[str]  # loan_ids that appear in `loans` at all
    usable_loans: dict[str, Loan]
    invalid_loans: set[str]  # loans whose ledger is unusable (LEDGER_INVALID)
    installments: dict[str, list[Installment]]
    payments: dict[str, list[Payment]]
    templates: dict[str, tuple[str, int | None, int | None]]  # usable templates only
    rule_categories: dict[str, str]  # usable rules only
    # Payments whose loan_id is empty or not in loans, unless reversed or failed, with
    # their posted_at (None when it cannot be read): UNPLACED_PAYMENT's candidates.
    unplaced: list[UnplacedPayment] = field(default_factory=list)


@dataclass(frozen=True)
class UnplacedPayment:
    loan_id: str | None
    amount: Decimal | None
    posted_at: datetime | None


def read_loans(rows: list[dict[str, Any]], ledger: Ledger) -> None:
    ids = [None if is_empty(r.get("loan_id")) else r["loan_id"] for r in rows]
    repeated = _duplicates(ids)
    for row, loan_id in zip(rows, ids, strict=True):
        problems = _required(row, ("loan_id", "borrower_id", "status"))
        if not is_empty(row.get("status")) and row["status"] not in LOAN_STATUSES:
            problems.append("unknown status")
        grace, more = _typed(row, "grace_days", parse_integer, "an integer")
        problems += more
        if grace is not None and grace < 0:
            problems.append("negative grace_days")
        if loan_id in repeated:
            problems.append("loan_id appears more than once")
        if loan_id is None:
            continue  # cannot be tied to a loan
        ledger.known_loans.add(loan_id)
        if problems:
            ledger.invalid_loans.add(loan_id)
        else:
            ledger.usable_loans[loan_id] = Loan(loan_id, row["borrower_id"], row["status"],
                                                grace)


def read_installments(rows: list[dict[str, Any]], ledger: Ledger, tz: ZoneInfo) -> None:
    parsed = []
    for row in rows:
        problems = _required(row, ("loan_id", "installment_no", "due_date", "amount_due"))
        number, more = _typed(row, "installment_no", parse_integer, "an integer")
        problems += more
        due, more = _typed(row, "due_date", parse_date, "a date")
        problems += more
        amount, more = _typed(row, "amount_due", parse_amount, "an amount")
        problems += more
        if amount is not None and amount < 0:
            problems.append("negative amount_due")
        updated, more = _typed(row, "updated_at", lambda v: parse_timestamp(v, tz),
                               "a timestamp")
        problems += more
        loan_id = None if is_empty(row.get("loan_id")) else row["loan_id"]
        parsed.append((loan_id, number, due, amount, updated, problems))
    keys = [(p[0], p[1]) if p[0] is not None and p[1] is not None else None for p in parsed]
    repeated = _duplicates(keys)
    for key, (loan_id, number, due, amount, updated, problems) in zip(keys, parsed,
                                                                      strict=True):
        if key in repeated:
            problems.append("(loan_id, installment_no) appears more than once")
        if loan_id is None:
            continue
        if problems:
            ledger.invalid_loans.add(loan_id)
        else:
            ledger.installments.setdefault(loan_id, []).append(
                Installment(loan_id, number, due, amount, updated))


def read_payments(rows: list[dict[str, Any]], ledger: Ledger, tz: ZoneInfo) -> None:
    ids = [None if is_empty(r.get("payment_id")) else r["payment_id"] for r in rows]
    repeated = _duplicates(ids)
    for row, payment_id in zip(rows, ids, strict=True):
        problems = _required(row, ("payment_id", "loan_id", "amount", "status", "posted_at"))
        amount, more = _typed(row, "amount", parse_amount, "an amount")
        problems += more
        if amount is not None and amount <= 0:
            problems.append("amount <= 0")
        if not is_empty(row.get("status")) and row["status"] not in PAYMENT_STATUSES:
            problems.append("unknown status")
        posted, more = _typed(row, "posted_at", lambda v: parse_timestamp(v, tz),
                              "a timestamp")
        problems += more
        _, more = _typed(row, "paid_at", lambda v: parse_timestamp(v, tz), "a timestamp")
        problems += more
        if payment_id in repeated:
            problems.append("payment_id used twice")
        loan_id = None if is_empty(row.get("loan_id")) else row["loan_id"]
        if (loan_id is None or loan_id not in ledger.known_loans) \
                and row.get("status") not in ("reversed", "failed"):
            ledger.unplaced.append(UnplacedPayment(loan_id, amount, posted))
        if loan_id is None:
            continue
        if problems:
            ledger.invalid_loans.add(loan_id)
        else:
            ledger.payments.setdefault(loan_id, []).append(
                Payment(row["payment_id"], loan_id, amount, row["status"], posted))


def read_templates(rows: list[dict[str, Any]], ledger: Ledger) -> None:
    ids = [None if is_empty(r.get("template_id")) else r["template_id"] for r in rows]
    repeated = _duplicates(ids)
    for row, template_id in zip(rows, ids, strict=True):
        problems = _required(row, ("template_id", "kind"))
        if not is_empty(row.get("kind")) and row["kind"] not in TEMPLATE_KINDS:
            problems.append("unknown kind")
        low, more = _typed(row, "min_dpd", parse_integer, "an integer")
        problems += more
        high, more = _typed(row, "max_dpd", parse_integer, "an integer")
        problems += more
        if template_id in repeated:
            problems.append("template_id appears more than once")
        if not problems:
            ledger.templates[row["template_id"]] = (row["kind"], low, high)


def read_rules(rows: list[dict[str, Any]], ledger: Ledger) -> None:
    ids = [None if is_empty(r.get("rule_id")) else r["rule_id"] for r in rows]
    repeated = _duplicates(ids)
    for row, rule_id in zip(rows, ids, strict=True):
        problems = _required(row, ("rule_id", "category"))
        if not is_empty(row.get("category")) and row["category"] not in RULE_CATEGORIES:
            problems.append("unknown category")
        if rule_id in repeated:
            problems.append("rule_id appears more than once")
        if not problems:
            ledger.rule_categories[row["rule_id"]] = row["category"]


# docs/interpretations.md: every amount is below 10^16 (it fits DECIMAL(18, 2)).
AMOUNT_LIMIT = Decimal(10) ** 16


def mark_ledgers_beyond_amounts(ledger: Ledger) -> None:
    """A loan whose usable installments, settled payments or pending payments add up to
    10^16 or more has an unusable ledger (LEDGER_INVALID)."""
    for loan_id, items in ledger.installments.items():
        if sum((i.amount_due for i in items), Decimal(0)) >= AMOUNT_LIMIT:
            ledger.invalid_loans.add(loan_id)
    for loan_id, payments in ledger.payments.items():
        for status in ("settled", "pending"):
            if sum((p.amount for p in payments if p.status == status),
                   Decimal(0)) >= AMOUNT_LIMIT:
                ledger.invalid_loans.add(loan_id)


def read_ledger(tables: dict[str, list[dict[str, Any]]], tz: ZoneInfo) -> Ledger:
    ledger = Ledger(set(), {}, set(), {}, {}, {}, {})
    read_loans(tables.get("loans", []), ledger)
    read_installments(tables.get("installments", []), ledger, tz)
    read_payments(tables.get("payments", []), ledger, tz)
    mark_ledgers_beyond_amounts(ledger)
    read_templates(tables.get("templates", []), ledger)
    read_rules(tables.get("rules") or [], ledger)
    return ledger


# ---------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------
# docs/contact_checks.md, "Optional inputs": send_history, borrowers, contact_flags. A table
# that is absent is None here (its checks are skipped); an unusable row is charged to the
# borrower it names (CONTACT_DATA_INVALID) and otherwise ignored.


@dataclass
class SentMessage:
    message_id: str
    borrower_id: str
    loan_id: str
    sent_at: datetime  # UTC
    template_id: str | None
    status: str | None


@dataclass
class ContactFlag:
    flag: str
    since: datetime  # UTC
    until: datetime | None  # UTC, exclusive


@dataclass
class Contacts:
    history: list[SentMessage] | None  # None: no send_history table
    history_by: dict[tuple[str, str], list[SentMessage]]  # ("borrower"|"loan", id) -> rows
    zones: dict[str, set[str]]  # borrower -> time zones of its usable borrowers rows
    phones: dict[str, set[str]]  # borrower -> its verified phones, as compared
    names: dict[str, set[str]]  # borrower -> its known names, as compared
    flags: dict[str, list[ContactFlag]]
    invalid_borrowers: set[str]  # named by an unusable row (CONTACT_DATA_INVALID)


_KNOWN_ZONES: set[str] | None = None


def parse_zone(value: str) -> str | None:
    """An IANA time zone name this Python knows (zoneinfo.available_timezones())."""
    global _KNOWN_ZONES
    if _KNOWN_ZONES is None:
        from zoneinfo import available_timezones

        _KNOWN_ZONES = set(available_timezones())
    text = value.strip(" ")
    return text if text in _KNOWN_ZONES else None


def _utc_stamp(tz: ZoneInfo) -> Any:
    def parse(value: str) -> datetime | None:
        stamp = parse_timestamp(value, tz)
        return None if stamp is None else stamp.astimezone(UTC)
    return parse


def _borrower_of(row: dict[str, Any]) -> str | None:
    return None if is_empty(row.get("borrower_id")) else row["borrower_id"]


def read_send_history(rows: list[dict[str, Any]], contacts: Contacts, tz: ZoneInfo) -> None:
    ids = [None if is_empty(r.get("message_id")) else r["message_id"] for r in rows]
    repeated = _duplicates(ids)
    history: list[SentMessage] = []
    for row, message_id in zip(rows, ids, strict=True):
        problems = _required(row, ("message_id", "borrower_id", "loan_id", "sent_at"))
        sent_at, more = _typed(row, "sent_at", _utc_stamp(tz), "a timestamp")
        problems += more
        if message_id in repeated:
            problems.append("message_id appears more than once")
        borrower = _borrower_of(row)
        if problems:
            if borrower is not None:
                contacts.invalid_borrowers.add(borrower)
            continue
        history.append(SentMessage(row["message_id"], row["borrower_id"], row["loan_id"],
                                   sent_at, row.get("template_id"), row.get("status")))
    contacts.history = history
    for sent in history:
        contacts.history_by.setdefault(("borrower", sent.borrower_id), []).append(sent)
        contacts.history_by.setdefault(("loan", sent.loan_id), []).append(sent)


def read_borrowers(rows: list[dict[str, Any]], contacts: Contacts,
                   settings: Settings) -> None:
    for row in rows:
        problems = _required(row, ("borrower_id",))
        zone, more = _typed(row, "timezone", parse_zone, "a known IANA time zone")
        problems += more
        borrower = _borrower_of(row)
        if borrower is None:
            continue
        if problems:
            contacts.invalid_borrowers.add(borrower)
            continue
        if zone is not None:
            contacts.zones.setdefault(borrower, set()).add(zone)
        if not is_empty(row.get("phone")):
            contacts.phones.setdefault(borrower, set()).add(
                phone_key(row["phone"], settings.phone_country_code))
        if not is_empty(row.get("name")):
            contacts.names.setdefault(borrower, set()).add(name_key(row["name"]))


def read_contact_flags(rows: list[dict[str, Any]], contacts: Contacts, tz: ZoneInfo) -> None:
    for row in rows:
        problems = _required(row, ("borrower_id", "flag", "since"))
        if not is_empty(row.get("flag")) and row["flag"] not in CONTACT_FLAG_KINDS:
            problems.append("unknown flag")
        since, more = _typed(row, "since", _utc_stamp(tz), "a timestamp")
        problems += more
        until, more = _typed(row, "until", _utc_stamp(tz), "a timestamp")
        problems += more
        borrower = _borrower_of(row)
        if borrower is None:
            continue
        if problems:
            contacts.invalid_borrowers.add(borrower)
            continue
        contacts.flags.setdefault(borrower, []).append(ContactFlag(row["flag"], since, until))


def read_contacts(tables: dict[str, Any], tz: ZoneInfo, settings: Settings) -> Contacts:
    contacts = Contacts(None, {}, {}, {}, {}, {}, set())
    if tables.get("send_history") is not None:
        read_send_history(tables["send_history"], contacts, tz)
    if tables.get("borrowers") is not None:
        read_borrowers(tables["borrowers"], contacts, settings)
    if tables.get("contact_flags") is not None:
        read_contact_flags(tables["contact_flags"], contacts, tz)
    return contacts


# ---- how phones, names and texts are compared (docs/contact_checks.md)

DIGITS = "0123456789"
# White space for names and blank texts: RE2's ASCII \s ([\t\n\f\r ]) plus no-break and
# ideographic space.
NAME_WHITE_SPACE = frozenset("\t\n\f\r \u00a0\u3000")


def phone_key(phone: str, country_code: str) -> str:
    """Digits only; a number written internationally (+ or 00) loses that prefix and the
    country code."""
    digits = "".join(c for c in phone if c in DIGITS)
    international = phone.lstrip(" ").startswith("+")
    if not international and digits.startswith("00"):
        digits, international = digits[2:], True
    if international and country_code and digits.startswith(country_code):
        digits = digits[len(country_code):]
    return digits


def name_key(name: str) -> str:
    return "".join(c for c in name if c not in NAME_WHITE_SPACE).lower()


# Simplified -> traditional, for the characters of the default terms and exceptions (and a
# few more a collection text may use); characters written alike in both are absent.
TRADITIONAL_OF = {
    "传": "傳", "讯": "訊", "录": "錄", "单": "單", "联": "聯", "系": "繫", "责": "責",
    "门": "門", "罚": "罰", "办": "辦", "补": "補", "偿": "償", "诉": "訴", "讼": "訟",
    "监": "監", "狱": "獄", "亲": "親", "属": "屬", "债": "債", "务": "務", "执": "執",
}


def traditional_form(text: str) -> str:
    return "".join(TRADITIONAL_OF.get(c, c) for c in text)


def _forms(phrase: str) -> set[str]:
    simplified = phrase.strip().lower()
    return {simplified, traditional_form(simplified)}


def _is_word_char(char: str) -> bool:
    """A word character of ASCII \\b: [0-9A-Za-z_]."""
    return char.isascii() and (char.isalnum() or char == "_")


def _remove_phrases(text: str, phrases: set[str]) -> str:
    """text without any occurrence of phrases, leftmost first, the longest at a position."""
    longest_first = sorted((p for p in phrases if p), key=len, reverse=True)
    kept, i = [], 0
    while i < len(text):
        found = next((p for p in longest_first if text.startswith(p, i)), None)
        if found:
            i += len(found)
        else:
            kept.append(text[i])
            i += 1
    return "".join(kept)


def _contains_term(text: str, form: str) -> bool:
    """A Latin (all-ASCII) term as a whole word (ASCII word boundaries); any other as is."""
    if not form.isascii():
        return form in text
    start = text.find(form)
    while start >= 0:
        end = start + len(form)
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        left = _is_word_char(before) != _is_word_char(form[0])
        right = _is_word_char(form[-1]) != _is_word_char(after)
        if left and right:
            return True
        start = text.find(form, start + 1)
    return False


def prohibited_terms_found(text: str, settings: Settings) -> list[str]:
    lower = text.lower()
    exceptions: set[str] = set()
    for phrase in settings.prohibited_term_exceptions:
        exceptions |= _forms(phrase)
    rest = _remove_phrases(lower, exceptions)
    return [term for term in settings.prohibited_terms
            if any(_contains_term(rest, form) for form in _forms(term) if form)]


# Amounts: a number (1234.56 or 1,234.56) with a currency before it or 元 after it. A
# number is read as a whole run of digits joined by single commas or points, so digits
# that run on (1234.567元) make a run that is not an amount.
NUMBER_RUN = re.compile(r"[0-9]+(?:[.,][0-9]+)*")
AMOUNT_SHAPE = re.compile(r"(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]{1,2})?")
CURRENCY_BEFORE = ("¥", "￥", "RMB", "CNY", "$")
DAYS_PATTERNS = (
    re.compile(r"逾期 *([0-9]+) *[天日]"),
    re.compile(r"(?<![0-9])([0-9]+) +days? +(?:overdue|past +due)", re.IGNORECASE),
    re.compile(r"overdue +(?:by|for) +([0-9]+) +days?", re.IGNORECASE),
)


def stated_amounts(text: str) -> list[Decimal]:
    amounts = []
    for run in NUMBER_RUN.finditer(text):
        if not AMOUNT_SHAPE.fullmatch(run.group()):
            continue
        before = text[:run.start()].rstrip(" ")
        after = text[run.end():].lstrip(" ")
        if before.endswith(CURRENCY_BEFORE) or after.startswith("元"):
            amounts.append(Decimal(run.group().replace(",", "")))
    return amounts


def stated_days(text: str) -> list[int]:
    return [int(match.group(1)) for pattern in DAYS_PATTERNS
            for match in pattern.finditer(text)]


RESIDENT_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
GROUPED_DIGITS = re.compile(r"[0-9]+(?:[ -][0-9]+)*")
# docs/contact_checks.md, "How text is read": a Han character before the street word; a
# building number; 1-5 digits and 1-3 capitalised words before an English street word.
# Word boundaries and white space are ASCII ones, as in RE2.
CN_ADDRESS = (re.compile(r"[\u4e00-\u9fff](?:路|街|大道|道|巷|弄|胡同)[0-9]+号"),
              re.compile(r"[0-9]+(?:号楼|栋|幢)[0-9]+(?:室|单元)"))
_ASCII_SPACE = "[\t\n\f\r ]+"
EN_ADDRESS = re.compile(
    rf"(?<![0-9A-Za-z_])[0-9]{{1,5}}{_ASCII_SPACE}(?:[A-Z][a-z]*{_ASCII_SPACE}){{1,3}}"
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr)(?![0-9A-Za-z_])")


def valid_resident_id(number: str) -> bool:
    """ISO 7064 MOD 11-2: the 18th character checks the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(number[:17], ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17]


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def privacy_leaks(text: str) -> list[str]:
    found = []
    if any(valid_resident_id(m.group()) for m in RESIDENT_ID.finditer(text)):
        found.append("resident ID number")
    for run in GROUPED_DIGITS.finditer(text):
        digits = run.group().replace(" ", "").replace("-", "")
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            found.append("bank card number")
            break
    if any(p.search(text) for p in CN_ADDRESS) or EN_ADDRESS.search(text):
        found.append("street address")
    return found


# ---- the contact and content flags


def _time_of_day_us(moment: datetime) -> int:
    return ((moment.hour * 60 + moment.minute) * 60 + moment.second) * 10**6 \
        + moment.microsecond


def _clock_us(clock: str) -> int:
    hours, minutes = clock.split(":")
    return (int(hours) * 60 + int(minutes)) * 60 * 10**6


def quiet_hours(m: Message, contacts: Contacts, settings: Settings) -> bool:
    zones = contacts.zones.get(m.borrower_id) or {settings.timezone}
    start, end = _clock_us(settings.allowed_hours_start), _clock_us(settings.allowed_hours_end)
    for zone in zones:
        local = _time_of_day_us(m.scheduled_at.astimezone(ZoneInfo(zone)))
        if local < start or local >= end:
            return True
    return False


def _known_reminder(template_id: str | None, ledger: Ledger) -> bool:
    template = ledger.templates.get(template_id) if template_id is not None else None
    return template is not None and template[0] == "reminder"


@dataclass
class Batch:
    """The readable messages of the batch, for the checks that compare messages."""

    # (scheduled_at in UTC, source_row) of every readable message, by its source_row.
    order: dict[int, tuple[datetime, int]]
    messages: dict[int, Message]
    # source_rows by ("borrower"|"loan", id) and by (borrower_id, loan_id, template_id).
    rows_by: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    rows_by_triple: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)

    def add(self, row: int, m: Message) -> None:
        self.messages[row] = m
        self.order[row] = (m.scheduled_at.astimezone(UTC), row)
        self.rows_by.setdefault(("borrower", m.borrower_id), []).append(row)
        self.rows_by.setdefault(("loan", m.loan_id), []).append(row)
        self.rows_by_triple.setdefault((m.borrower_id, m.loan_id, m.template_id),
                                       []).append(row)


def frequency_cap(m: Message, row: int, batch: Batch, contacts: Contacts, ledger: Ledger,
                  settings: Settings) -> bool:
    if contacts.history is None or _known_reminder(m.template_id, ledger):
        return False
    scope = settings.frequency_scope  # "borrower" or "loan"
    key = (scope, m.loan_id if scope == "loan" else m.borrower_id)
    s = m.scheduled_at.astimezone(UTC)
    mine = (s, row)
    times = [s]
    for sent in contacts.history_by.get(key, []):
        status = (sent.status or "").strip().lower()
        if (status not in NOT_SENT_STATUSES
                and not _known_reminder(sent.template_id, ledger) and sent.sent_at <= s):
            times.append(sent.sent_at)
    for other_row in batch.rows_by.get(key, []):
        other = batch.messages[other_row]
        if not _known_reminder(other.template_id, ledger) and batch.order[other_row] < mine:
            times.append(batch.order[other_row][0])
    tz = ZoneInfo(settings.timezone)
    day = s.astimezone(tz).date()
    per_day = sum(1 for t in times if t.astimezone(tz).date() == day)
    week_start = s - timedelta(days=7)
    per_week = sum(1 for t in times if week_start < t <= s)
    return ((settings.max_messages_per_day > 0 and per_day > settings.max_messages_per_day)
            or (settings.max_messages_per_7_days > 0
                and per_week > settings.max_messages_per_7_days))


def duplicate_in_batch(m: Message, row: int, batch: Batch) -> bool:
    same = batch.rows_by_triple[(m.borrower_id, m.loan_id, m.template_id)]
    return any(batch.order[other] < batch.order[row] for other in same if other != row)


def contact_restrictions(m: Message, contacts: Contacts, settings: Settings
                         ) -> list[ContactFlag]:
    s = m.scheduled_at.astimezone(UTC)
    return [f for f in contacts.flags.get(m.borrower_id, [])
            if f.flag in settings.restricting_contact_flags
            and f.since <= s and (f.until is None or s < f.until)]


def third_party_recipient(m: Message, contacts: Contacts, settings: Settings) -> bool:
    phones = contacts.phones.get(m.borrower_id)
    if not phones:
        return False  # a borrower with no listed phone is not flagged
    return phone_key(m.row["phone"], settings.phone_country_code) not in phones


def name_mismatch(m: Message, contacts: Contacts) -> bool:
    names = contacts.names.get(m.borrower_id)
    given = m.row.get("borrower_name")
    if not names or given is None or is_empty(given):
        return False
    return name_key(given) not in names


def content_mismatch(text: str, t: Truth | None, template: Template | None,
                     settings: Settings) -> bool:
    """Stated days overdue are read in every text; stated amounts only in collection and
    escalation texts (a reminder states the coming bill, not an overdue amount)."""
    if t is None:
        return False
    reads_amounts = template is not None and template[0] in ("collection", "escalation")
    return (any(abs(a - t.overdue_amount) > settings.amount_tolerance
                for a in (stated_amounts(text) if reads_amounts else []))
            or any(abs(n - t.days_past_due) > settings.dpd_tolerance
                   for n in stated_days(text)))


def missing_opt_out(text: str, settings: Settings) -> bool:
    lower = text.lower()
    return settings.require_opt_out and not any(
        phrase.lower() in lower for phrase in settings.opt_out_phrases)


# ---------------------------------------------------------------------------------------
# CONTRACT §4 and the whole run.


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
    holds["PAYMENT_PENDING"] = payment_pending(t, settings)
    holds["UNKNOWN_LOAN"] = unknown_loan(m, ledger)
    holds["BORROWER_MISMATCH"] = borrower_mismatch(m, ledger)
    holds["UNKNOWN_TEMPLATE"] = unknown_template(m, ledger)
    holds["LEDGER_INVALID"] = ledger_invalid(m, ledger)
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
