"""The contact-policy flags of docs/contact_checks.md, one function per flag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from reconcile.synth.reference.contacts import ContactFlag, Contacts, name_key, phone_key
from reconcile.synth.reference.contract import NOT_SENT_STATUSES, Settings
from reconcile.synth.reference.ledger import Ledger
from reconcile.synth.reference.messages import Batch, Message
from reconcile.synth.reference.text import is_empty


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


def frequency_cap(m: Message, row: int, batch: Batch, contacts: Contacts, ledger: Ledger,
                  settings: Settings) -> bool:
    if contacts.history is None or _known_reminder(m.template_id, ledger):
        return False
    scope = settings.frequency_scope  # "borrower" or "loan"
    key = (scope, m.loan_id if scope == "loan" else m.borrower_id)
    s = m.scheduled_at.astimezone(UTC)
    mine = batch.order[row]
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
