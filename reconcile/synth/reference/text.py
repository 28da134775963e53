"""Text shapes of input cells (amounts, integers, dates, local timestamps) and row checks."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

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
    "collection_pauses": ("loan_id", "kind"),
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


def required(row: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    return [f"{name} is empty" for name in names if is_empty(row.get(name))]


def unknown_code(row: dict[str, Any], name: str, allowed: Collection[str]) -> list[str]:
    """The problem of a code column (a status, kind, category) given outside its list."""
    if is_empty(row.get(name)) or row[name] in allowed:
        return []
    return [f"unknown {name}"]


def typed(row: dict[str, Any], name: str, parse: Any, noun: str) -> tuple[Any, list[str]]:
    """(value, problems) of a typed column; None with no problem when the cell is empty."""
    text = row.get(name)
    if is_empty(text):
        return None, []
    value = parse(text)
    if value is None:
        return None, [f"{name} {text!r} is not {noun}"]
    return value, []


def duplicates(keys: list[Any]) -> set[Any]:
    counts = Counter(key for key in keys if key is not None)
    return {key for key, n in counts.items() if n > 1}
