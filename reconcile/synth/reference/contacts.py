"""The optional contact tables (send_history, borrowers, contact_flags) and phone/name keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from reconcile.synth.reference.contract import CONTACT_FLAG_KINDS, Settings
from reconcile.synth.reference.text import duplicates, is_empty, parse_timestamp, required, typed

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
    repeated = duplicates(ids)
    history: list[SentMessage] = []
    for row, message_id in zip(rows, ids, strict=True):
        problems = required(row, ("message_id", "borrower_id", "loan_id", "sent_at"))
        sent_at, more = typed(row, "sent_at", _utc_stamp(tz), "a timestamp")
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
        problems = required(row, ("borrower_id",))
        zone, more = typed(row, "timezone", parse_zone, "a known IANA time zone")
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
        problems = required(row, ("borrower_id", "flag", "since"))
        if not is_empty(row.get("flag")) and row["flag"] not in CONTACT_FLAG_KINDS:
            problems.append("unknown flag")
        since, more = typed(row, "since", _utc_stamp(tz), "a timestamp")
        problems += more
        until, more = typed(row, "until", _utc_stamp(tz), "a timestamp")
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


# ---- how phones and names are compared (docs/contact_checks.md)

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
