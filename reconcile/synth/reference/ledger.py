"""The reference tables read as a ledger: loans, installments, payments, collection_pauses,
templates, rules. Also read: a loan's own min_overdue_amount, the amount components of
installments (principal_due, ...) and payments (principal_paid, ...), and payments'
installment_no (parsed only: it changes no truth)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from reconcile.synth.reference.contract import (
    LOAN_STATUSES,
    PAUSE_KINDS,
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
    unknown_code,
)

# A usable template: (kind, min_dpd, max_dpd).
Template = tuple[str, int | None, int | None]

# The amount components an installment is due and a payment pays (docs/inputs.md).
COMPONENTS = ("principal", "interest", "fee", "penalty")
# The smallest min_overdue_amount a loan may carry: the bound of the setting (docs/inputs.md).
MIN_OVERDUE_FLOOR = Decimal("0.01")

# Reading each table. A row is usable when every check passes; the problems say why not.


@dataclass
class Loan:
    loan_id: str
    borrower_id: str
    status: str
    grace_days: int | None
    # The loan's own min_overdue_amount; None: the configured one applies.
    min_overdue_amount: Decimal | None = None


@dataclass
class Installment:
    loan_id: str
    installment_no: int
    due_date: date
    amount_due: Decimal
    updated_at: datetime | None
    # principal_due, interest_due, fee_due, penalty_due by component; None when empty.
    components_due: dict[str, Decimal | None] = field(default_factory=dict)

    def due_of(self, component: str) -> Decimal:
        """The component's amount due; an empty cell counts 0."""
        return self.components_due.get(component) or Decimal(0)


@dataclass
class Payment:
    payment_id: str
    loan_id: str
    amount: Decimal
    status: str
    posted_at: datetime
    # principal_paid, interest_paid, fee_paid, penalty_paid by component; None when empty.
    components_paid: dict[str, Decimal | None] = field(default_factory=dict)

    def paid_of(self, component: str) -> Decimal:
        """The component's amount paid; an empty cell counts 0."""
        return self.components_paid.get(component) or Decimal(0)


@dataclass(frozen=True)
class Pause:
    """A usable collection_pauses row: no collection from paused_from to paused_until
    (both inclusive; None is open-ended)."""

    loan_id: str
    kind: str
    paused_from: date
    paused_until: date | None
    recorded_at: datetime


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
    # Usable collection_pauses rows by loan_id (for unknown loans too); None when the drop
    # has no collection_pauses table, so that COLLECTION_PAUSED is not evaluated.
    pauses: dict[str, list[Pause]] | None = None


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
        problems += unknown_code(row, "status", LOAN_STATUSES)
        grace, more = typed(row, "grace_days", parse_integer, "an integer")
        problems += more
        if grace is not None and grace < 0:
            problems.append("negative grace_days")
        own_minimum, more = typed(row, "min_overdue_amount", parse_amount, "an amount")
        problems += more
        if own_minimum is not None and own_minimum < MIN_OVERDUE_FLOOR:
            problems.append(f"min_overdue_amount {own_minimum} must be ≥ 0.01")
        if loan_id in repeated:
            problems.append("loan_id appears more than once")
        if loan_id is None:
            continue  # cannot be tied to a loan
        ledger.known_loans.add(loan_id)
        if problems:
            ledger.invalid_loans.add(loan_id)
        else:
            ledger.usable_loans[loan_id] = Loan(loan_id, row["borrower_id"], row["status"],
                                                grace, own_minimum)


def read_components(row: dict[str, Any], suffix: str, total_name: str,
                    total: Decimal | None) -> tuple[dict[str, Decimal | None], list[str]]:
    """(values by component, problems) of a row's four component cells (suffix "due" or
    "paid"). When any cell is given and every given one parsed, the four (empty = 0) must
    add up exactly to the row's total (amount_due or amount)."""
    values: dict[str, Decimal | None] = {}
    problems: list[str] = []
    for component in COMPONENTS:
        name = f"{component}_{suffix}"
        values[component], more = typed(row, name, parse_amount, "an amount")
        problems += more
        if (value := values[component]) is not None and value < 0:
            problems.append(f"negative {name}")
    given = [c for c in COMPONENTS if not is_empty(row.get(f"{c}_{suffix}"))]
    all_given_parsed = all(values[c] is not None for c in given)
    if given and all_given_parsed and total is not None:
        added = sum((v for v in values.values() if v is not None), Decimal(0))
        if added != total:
            names = " + ".join(f"{c}_{suffix}" for c in COMPONENTS)
            problems.append(f"{names} is {added}, not {total_name} {total}")
    return values, problems


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
        components, more = read_components(row, "due", "amount_due", amount)
        problems += more
        loan_id = None if is_empty(row.get("loan_id")) else row["loan_id"]
        parsed.append((loan_id, number, due, amount, updated, components, problems))
    keys = [(p[0], p[1]) if p[0] is not None and p[1] is not None else None for p in parsed]
    repeated = duplicates(keys)
    for key, (loan_id, number, due, amount, updated, components, problems) in zip(
            keys, parsed, strict=True):
        if key in repeated:
            problems.append("(loan_id, installment_no) appears more than once")
        if loan_id is None:
            continue
        if problems:
            ledger.invalid_loans.add(loan_id)
        else:
            ledger.installments.setdefault(loan_id, []).append(
                Installment(loan_id, number, due, amount, updated, components))


def read_payments(rows: list[dict[str, Any]], ledger: Ledger, tz: ZoneInfo) -> None:
    ids = [None if is_empty(r.get("payment_id")) else r["payment_id"] for r in rows]
    repeated = duplicates(ids)
    for row, payment_id in zip(rows, ids, strict=True):
        problems = required(row, ("payment_id", "loan_id", "amount", "status", "posted_at"))
        amount, more = typed(row, "amount", parse_amount, "an amount")
        problems += more
        if amount is not None and amount <= 0:
            problems.append("amount <= 0")
        problems += unknown_code(row, "status", PAYMENT_STATUSES)
        posted, more = typed(row, "posted_at", lambda v: parse_timestamp(v, tz),
                              "a timestamp")
        problems += more
        _, more = typed(row, "paid_at", lambda v: parse_timestamp(v, tz), "a timestamp")
        problems += more
        # docs/interpretations.md: installment_no is only parsed; the truth stays the
        # cumulative reading.
        _, more = typed(row, "installment_no", parse_integer, "an integer")
        problems += more
        components, more = read_components(row, "paid", "amount", amount)
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
                Payment(row["payment_id"], loan_id, amount, row["status"], posted,
                        components))


def read_pauses(rows: list[dict[str, Any]], ledger: Ledger, tz: ZoneInfo) -> None:
    """collection_pauses (docs/inputs.md), a ledger table of the loan: an unusable row makes
    its ledger unusable. No unique key: a loan may have several periods, and a repeated row
    is harmless."""
    ledger.pauses = {}
    for row in rows:
        problems = required(row, ("loan_id", "kind", "paused_from", "recorded_at"))
        problems += unknown_code(row, "kind", PAUSE_KINDS)
        start, more = typed(row, "paused_from", parse_date, "a date")
        problems += more
        end, more = typed(row, "paused_until", parse_date, "a date")
        problems += more
        recorded, more = typed(row, "recorded_at", lambda v: parse_timestamp(v, tz),
                               "a timestamp")
        problems += more
        if start is not None and end is not None and end < start:
            problems.append("paused_until is before paused_from")
        loan_id = None if is_empty(row.get("loan_id")) else row["loan_id"]
        if loan_id is None:
            continue  # cannot be tied to a loan
        if problems:
            ledger.invalid_loans.add(loan_id)
        else:
            ledger.pauses.setdefault(loan_id, []).append(
                Pause(loan_id, row["kind"], start, end, recorded))


def read_templates(rows: list[dict[str, Any]], ledger: Ledger) -> None:
    ids = [None if is_empty(r.get("template_id")) else r["template_id"] for r in rows]
    repeated = duplicates(ids)
    for row, template_id in zip(rows, ids, strict=True):
        problems = required(row, ("template_id", "kind"))
        problems += unknown_code(row, "kind", TEMPLATE_KINDS)
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
        problems += unknown_code(row, "category", RULE_CATEGORIES)
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
    pause_rows = tables.get("collection_pauses")
    if pause_rows is not None:  # absent: no pauses, and COLLECTION_PAUSED is not evaluated
        read_pauses(pause_rows, ledger, tz)
    mark_ledgers_beyond_amounts(ledger)
    read_templates(tables.get("templates", []), ledger)
    read_rules(tables.get("rules") or [], ledger)
    return ledger
