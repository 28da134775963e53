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
}
SEVERITY = {"send": 0, "hold": 1, "block": 2}

TEMPLATE_KINDS = {"reminder", "collection", "escalation"}
LOAN_STATUSES = {"active", "closed"}
PAYMENT_STATUSES = {"settled", "pending", "reversed", "failed"}
RULE_CATEGORIES = {"delinquency", "risk_control", "reminder"}


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
    verdicts: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_POLICY))


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


def is_empty(value: str | None) -> bool:
    """'A cell that is empty or only spaces is empty.'"""
    return value is None or value.strip(" ") == ""


def parse_amount(value: str) -> Decimal | None:
    text = value.strip(" ")
    return Decimal(text) if AMOUNT_RE.fullmatch(text) else None


def parse_integer(value: str) -> int | None:
    text = value.strip(" ")
    return int(text) if INTEGER_RE.fullmatch(text) else None


def parse_date(value: str) -> date | None:
    match = DATE_RE.fullmatch(value.strip(" "))
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:  # not a real calendar day
        return None


def parse_timestamp(value: str, tz: ZoneInfo) -> datetime | None:
    """With an offset it is that instant; without one, local time in the timezone."""
    match = TIMESTAMP_RE.fullmatch(value.strip(" "))
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
        return naive.replace(tzinfo=tz)
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


def read_ledger(tables: dict[str, list[dict[str, Any]]], tz: ZoneInfo) -> Ledger:
    ledger = Ledger(set(), {}, set(), {}, {}, {}, {})
    read_loans(tables.get("loans", []), ledger)
    read_installments(tables.get("installments", []), ledger, tz)
    read_payments(tables.get("payments", []), ledger, tz)
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


# ---------------------------------------------------------------------------------------
# CONTRACT §4 and the whole run.


def verdict(flags: list[str], settings: Settings) -> str:
    return max((settings.verdicts[f] for f in flags), key=SEVERITY.__getitem__, default="send")


def evaluate(m: Message, ledger: Ledger, as_of: datetime, settings: Settings) -> Finding:
    t = None
    if m.loan_id in ledger.known_loans and m.loan_id not in ledger.invalid_loans:
        t = truth(ledger.usable_loans[m.loan_id], ledger.installments.get(m.loan_id, []),
                  ledger.payments.get(m.loan_id, []), m.scheduled_at, as_of, settings)
    template = ledger.templates.get(m.template_id)
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
    flags = [f for f in FLAGS if holds[f]]
    return Finding(m.message_id, verdict(flags, settings), flags,
                   None if t is None else t.overdue_amount,
                   None if t is None else t.days_past_due)


def reference(drop: Any, as_of: datetime, settings: Settings | None = None) -> list[Finding]:
    """Findings for every send_batch row of drop (a Drop or a dict of tables), in order."""
    settings = settings or Settings()
    tables = getattr(drop, "tables", drop)
    tz = ZoneInfo(settings.timezone)
    ledger = read_ledger(tables, tz)
    findings = []
    rows = tables["send_batch"]
    for row, message in zip(rows, read_messages(rows, tz), strict=True):
        if isinstance(message, list):
            findings.append(Finding(row.get("message_id"), "rejected", [], None, None, message))
        else:
            findings.append(evaluate(message, ledger, as_of, settings))
    return findings
