"""The reference tables (loans, installments, payments, templates, rules) read as a ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from reconcile.synth.reference.contract import (
    LOAN_STATUSES,
    PAYMENT_STATUSES,
    RULE_CATEGORIES,
    TEMPLATE_KINDS,
)
from reconcile.synth.reference.text import (
    duplicates,
    is_empty,
    parse_amount,
    parse_date,
    parse_integer,
    parse_timestamp,
    required,
    typed,
)

# A usable template: (kind, min_dpd, max_dpd).
Template = tuple[str, int | None, int | None]

# Reading each table. A row is usable when every check passes; the problems say why not.


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
    repeated = duplicates(ids)
    for row, loan_id in zip(rows, ids, strict=True):
        problems = required(row, ("loan_id", "borrower_id", "status"))
        if not is_empty(row.get("status")) and row["status"] not in LOAN_STATUSES:
            problems.append("unknown status")
        grace, more = typed(row, "grace_days", parse_integer, "an integer")
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
        problems = required(row, ("loan_id", "installment_no", "due_date", "amount_due"))
        number, more = typed(row, "installment_no", parse_integer, "an integer")
        problems += more
        due, more = typed(row, "due_date", parse_date, "a date")
        problems += more
        amount, more = typed(row, "amount_due", parse_amount, "an amount")
        problems += more
        if amount is not None and amount < 0:
            problems.append("negative amount_due")
        updated, more = typed(row, "updated_at", lambda v: parse_timestamp(v, tz),
                               "a timestamp")
        problems += more
        loan_id = None if is_empty(row.get("loan_id")) else row["loan_id"]
        parsed.append((loan_id, number, due, amount, updated, problems))
    keys = [(p[0], p[1]) if p[0] is not None and p[1] is not None else None for p in parsed]
    repeated = duplicates(keys)
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
    repeated = duplicates(ids)
    for row, payment_id in zip(rows, ids, strict=True):
        problems = required(row, ("payment_id", "loan_id", "amount", "status", "posted_at"))
        amount, more = typed(row, "amount", parse_amount, "an amount")
        problems += more
        if amount is not None and amount <= 0:
            problems.append("amount <= 0")
        if not is_empty(row.get("status")) and row["status"] not in PAYMENT_STATUSES:
            problems.append("unknown status")
        posted, more = typed(row, "posted_at", lambda v: parse_timestamp(v, tz),
                              "a timestamp")
        problems += more
        _, more = typed(row, "paid_at", lambda v: parse_timestamp(v, tz), "a timestamp")
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
    repeated = duplicates(ids)
    for row, template_id in zip(rows, ids, strict=True):
        problems = required(row, ("template_id", "kind"))
        if not is_empty(row.get("kind")) and row["kind"] not in TEMPLATE_KINDS:
            problems.append("unknown kind")
        low, more = typed(row, "min_dpd", parse_integer, "an integer")
        problems += more
        high, more = typed(row, "max_dpd", parse_integer, "an integer")
        problems += more
        if template_id in repeated:
            problems.append("template_id appears more than once")
        if not problems:
            ledger.templates[row["template_id"]] = (row["kind"], low, high)


def read_rules(rows: list[dict[str, Any]], ledger: Ledger) -> None:
    ids = [None if is_empty(r.get("rule_id")) else r["rule_id"] for r in rows]
    repeated = duplicates(ids)
    for row, rule_id in zip(rows, ids, strict=True):
        problems = required(row, ("rule_id", "category"))
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
