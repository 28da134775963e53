"""The send_batch rows read as messages, and the batch of readable ones the checks compare."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from reconcile.synth.reference.text import (
    duplicates,
    is_empty,
    parse_amount,
    parse_integer,
    parse_timestamp,
    required,
    typed,
)


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
    repeated = duplicates(ids)
    result: list[Message | list[str]] = []
    for row, message_id in zip(rows, ids, strict=True):
        problems = required(row, ("message_id", "borrower_id", "loan_id", "phone",
                                   "template_id", "rule_id", "rule_evaluated_at",
                                   "scheduled_at"))
        stamps = {}
        for name in ("rule_evaluated_at", "scheduled_at"):
            stamps[name], more = typed(row, name, lambda v: parse_timestamp(v, tz),
                                        "a timestamp")
            problems += more
        amount, more = typed(row, "claimed_overdue_amount", parse_amount, "an amount")
        problems += more
        days, more = typed(row, "claimed_days_past_due", parse_integer, "an integer")
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
class Batch:
    """The readable messages of the batch, for the checks that compare messages."""

    # (scheduled_at in UTC, message_id) of every readable message, by its source_row:
    # message_id, unique among them, breaks a tie, not the row order.
    order: dict[int, tuple[datetime, str]]
    messages: dict[int, Message]
    # source_rows by ("borrower"|"loan", id) and by (borrower_id, loan_id, template_id).
    rows_by: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    rows_by_triple: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)

    def add(self, row: int, m: Message) -> None:
        self.messages[row] = m
        self.order[row] = (m.scheduled_at.astimezone(UTC), m.message_id)
        self.rows_by.setdefault(("borrower", m.borrower_id), []).append(row)
        self.rows_by.setdefault(("loan", m.loan_id), []).append(row)
        self.rows_by_triple.setdefault((m.borrower_id, m.loan_id, m.template_id),
                                       []).append(row)
