"""`reconcile complaints`: which planned messages drew each complaint, and did reconcile stop them?

`trace_complaints` reads a complaints file (and, if given, the SMS gateway's dispatch log),
each strictly checked, loads them into temporary tables on an in-memory connection that
attaches the history read-only, and finds each complaint's messages with
`sql/report/complaint_messages.sql`. Each message gets a class (sent with a flag, sent
clean, stopped, not sent), each complaint the most telling class of its messages (or never
planned), and the `ComplaintsResult` sums them up by class, misses by rule and template,
and night by night. `render_complaints` turns it into text, Markdown or JSON. Nothing here
prints. The morning report calls `trace_complaints` too.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from reconcile.config import Settings
from reconcile.errors import EXIT_BAD_INPUT, ConfigError, ReconcileError
from reconcile.report.build import Report, mask_pii, query
from reconcile.report.markdown import md, md_code, md_table
from reconcile.report.text import table as text_table
from reconcile.report.trace import (
    PhoneKey,
    PlannedMessage,
    as_json,
    check_format,
    colon,
    identifier,
    message_markdown,
    message_text,
    phone_key,
    planned_message,
    read_only_history,
    safe_output,
)
from reconcile.report.vocabulary import check_language, column, phrase
from reconcile.timestamps import iso_text, local_isoformat

# A complaint's class is the first of these its messages have; never_planned when it has
# none. A message has one of the first four.
SENT_WITH_FLAG = "sent_with_flag"
SENT_CLEAN = "sent_clean"
STOPPED = "stopped"
NOT_SENT = "not_sent"
NEVER_PLANNED = "never_planned"
CLASSES: tuple[str, ...] = (SENT_WITH_FLAG, SENT_CLEAN, STOPPED, NOT_SENT, NEVER_PLANNED)
DEFAULT_WINDOW_DAYS = 7
# The columns each file may have; a file may have others, which are ignored.
COMPLAINT_PERSON_COLUMNS = ("phone", "borrower_id")
RECEIVED_AT = "received_at"
# An ISO 8601 date, or date and time with an optional offset (Z, +08, +0800, +08:00).
_INSTANT = re.compile(
    r"(\d{4}-\d{2}-\d{2})"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?")


class ComplaintsError(ReconcileError):
    """A complaints file or dispatch log cannot be used: names the file, column and row."""

    exit_code = EXIT_BAD_INPUT


# ---------------------------------------------------------------------------------------
# Reading the files


@dataclass(frozen=True)
class ComplaintRow:
    """One complaint as the file gives it: phone and borrower_id trimmed (None if blank),
    received_at an aware datetime."""

    row: int
    complaint_id: str
    phone: str | None
    borrower_id: str | None
    received_at: dt.datetime
    category: str | None


@dataclass(frozen=True)
class DispatchRow:
    """One line of the SMS gateway's log: a message that went out, and when if known."""

    message_id: str
    sent_at: dt.datetime | None


@dataclass(frozen=True)
class _Record:
    """A data row of a CSV file (row 1 is the first after the header), by column name."""

    path: Path
    row: int
    values: dict[str, str]

    def text(self, name: str) -> str | None:
        """The cell's text, trimmed; None when blank or absent."""
        return identifier(self.values.get(name))

    def error(self, name: str, problem: str) -> ComplaintsError:
        return ComplaintsError(f"{self.path} row {self.row}, {name}: {problem}")


def _records(path: Path, required: Sequence[str],
             any_of: Sequence[str] = ()) -> Iterator[_Record]:
    """The data rows of a UTF-8 CSV file (a byte-order mark is allowed) whose header has
    every `required` column and at least one of `any_of`; column names are trimmed and
    lower-cased."""
    reader = csv.reader(io.StringIO(_read_text(path), newline=""))
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        _check_header(path, header, required, any_of)
        for number, cells in enumerate((c for c in reader if any(x.strip() for x in c)),
                                       start=1):
            yield _Record(path, number, dict(zip(header, cells, strict=False)))
    except csv.Error as error:
        raise ComplaintsError(f"{path} line {reader.line_num}: not readable as CSV "
                              f"({error})") from error


def _read_text(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ComplaintsError(f"{path}: not UTF-8 text (byte {error.start})") from error
    except OSError as error:
        raise ComplaintsError(f"{path}: cannot be read ({error.strerror})") from error
    if not text.strip():
        raise ComplaintsError(f"{path}: the file is empty (a header row is expected)")
    return text


def _check_header(path: Path, header: Sequence[str], required: Sequence[str],
                  any_of: Sequence[str]) -> None:
    present = ", ".join(h for h in header if h) or "no column"
    for name in required:
        if name not in header:
            raise ComplaintsError(f"{path}, {name}: missing column (the header has: "
                                  f"{present})")
    if any_of and not set(any_of) & set(header):
        raise ComplaintsError(f"{path}, {'/'.join(any_of)}: missing column, one of them is "
                              f"needed (the header has: {present})")


def parse_instant(text: str, zone: dt.tzinfo) -> dt.datetime | None:
    """An ISO 8601 date or timestamp as an aware datetime; None if it is neither. A
    timestamp without an offset is local time in `zone`; a date means the end of that
    local day (its last microsecond)."""
    match = _INSTANT.fullmatch(text)
    if match is None:
        return None
    try:
        if match.group(0) == match.group(1):
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time.max, zone)
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=zone)


def _instant(record: _Record, name: str, zone: dt.tzinfo) -> dt.datetime | None:
    text = record.text(name)
    if text is None:
        return None
    instant = parse_instant(text, zone)
    if instant is None:
        raise record.error(name, f"{text!r} is not a timestamp (an ISO 8601 date or date "
                                 "and time, e.g. 2026-11-23 or 2026-11-23T10:15:00+08:00)")
    return instant


def read_complaints(path: Path, zone: dt.tzinfo) -> tuple[ComplaintRow, ...]:
    """Every complaint of the file, checked: a phone or a borrower_id, a received_at, and
    complaint_ids (default: the row number) that do not repeat."""
    complaints: list[ComplaintRow] = []
    first_row: dict[str, int] = {}
    for record in _records(path, (RECEIVED_AT,), COMPLAINT_PERSON_COLUMNS):
        complaint = _complaint(record, zone)
        if complaint.complaint_id in first_row:
            raise record.error("complaint_id", f"{complaint.complaint_id!r} is also row "
                                               f"{first_row[complaint.complaint_id]}'s")
        first_row[complaint.complaint_id] = record.row
        complaints.append(complaint)
    return tuple(complaints)


def _complaint(record: _Record, zone: dt.tzinfo) -> ComplaintRow:
    phone, borrower_id = record.text("phone"), record.text("borrower_id")
    if phone is None and borrower_id is None:
        raise record.error("/".join(COMPLAINT_PERSON_COLUMNS), "neither is given")
    received_at = _instant(record, RECEIVED_AT, zone)
    if received_at is None:
        raise record.error(RECEIVED_AT, "empty (when was the complaint received?)")
    return ComplaintRow(row=record.row,
                        complaint_id=record.text("complaint_id") or str(record.row),
                        phone=phone, borrower_id=borrower_id, received_at=received_at,
                        category=record.text("category"))


def read_dispatch_log(path: Path, zone: dt.tzinfo) -> tuple[DispatchRow, ...]:
    """Every line of the gateway's log, checked: a message_id, and a sent_at (optional)
    that is a timestamp."""
    return tuple(_dispatch_row(record, zone) for record in _records(path, ("message_id",)))


def _dispatch_row(record: _Record, zone: dt.tzinfo) -> DispatchRow:
    message_id = record.text("message_id")
    if message_id is None:
        raise record.error("message_id", "empty")
    return DispatchRow(message_id, _instant(record, "sent_at", zone))


# ---------------------------------------------------------------------------------------
# The result


@dataclass(frozen=True)
class ComplaintMessage:
    """A message planned to a complainant in the window, whether it went out, and its
    class."""

    message: PlannedMessage
    dispatched: bool
    sent_at: str | None  # from the dispatch log, when it says
    message_class: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.message.to_dict(), "dispatched": self.dispatched,
                "sent_at": self.sent_at, "class": self.message_class}


@dataclass(frozen=True)
class Complaint:
    """One complaint, its class and the messages that decided it. `night` is the night of
    the latest message of its class (never planned: the local date it was received)."""

    complaint_id: str
    row: int
    received_at: str
    category: str | None
    borrower_id: str | None
    phone: str | None  # masked
    complaint_class: str
    night: str
    messages: tuple[ComplaintMessage, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "complaint_id": self.complaint_id, "row": self.row,
            "received_at": self.received_at, "category": self.category,
            "borrower_id": self.borrower_id, "phone": self.phone,
            "class": self.complaint_class, "night": self.night,
            "messages": [m.to_dict() for m in self.messages],
        }


@dataclass(frozen=True)
class Miss:
    """Sent clean messages that drew a complaint, of one rule or one template."""

    key: str | None
    messages: int


@dataclass(frozen=True)
class NightClasses:
    """One night's complaints, counted by class in CLASSES order."""

    night: str
    counts: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"night": self.night, "by_class": dict(zip(CLASSES, self.counts, strict=True))}


@dataclass(frozen=True)
class ComplaintsSummary:
    """Complaints by class (CLASSES order); misses (distinct sent clean messages) by rule
    and by template, most first; and night by night, complaints by class."""

    complaints: int
    by_class: tuple[int, ...]
    misses_by_rule: tuple[Miss, ...]
    misses_by_template: tuple[Miss, ...]
    by_night: tuple[NightClasses, ...]

    def count(self, complaint_class: str) -> int:
        return self.by_class[CLASSES.index(complaint_class)]

    def tables(self, lang: str) -> list[tuple[str, list[str], list[list[str]], str]]:
        """The summary as (title, headers, rows, what to say when there is no row) tables,
        as `reconcile complaints` and the morning report show it."""
        by_class = [[class_name(name, lang), str(self.count(name))] for name in CLASSES]
        tables = [(phrase("by_class", lang),
                   [phrase("class", lang), phrase("complaints_column", lang)], by_class, "")]
        for title, key, misses in (("misses_by_rule", "rule", self.misses_by_rule),
                                   ("misses_by_template", "template", self.misses_by_template)):
            tables.append((phrase(title, lang), [column(key, lang), column("messages", lang)],
                           [[m.key or "–", str(m.messages)] for m in misses],
                           phrase("no_misses", lang)))
        tables.append((phrase("by_night", lang),
                       [column("night", lang), *(class_name(n, lang) for n in CLASSES)],
                       [[n.night, *(str(count) for count in n.counts)] for n in self.by_night],
                       phrase("no_complaints", lang)))
        return tables

    def notes(self, lang: str) -> list[str]:
        """What the night-by-night table counts, and what each class means."""
        return [phrase("by_night_note", lang),
                *(f"{class_name(name, lang)}{colon(lang)}{class_note(name, lang)}"
                  for name in CLASSES)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "complaints": self.complaints,
            "by_class": dict(zip(CLASSES, self.by_class, strict=True)),
            "misses_by_rule": [{"rule_id": m.key, "messages": m.messages}
                               for m in self.misses_by_rule],
            "misses_by_template": [{"template_id": m.key, "messages": m.messages}
                                   for m in self.misses_by_template],
            "by_night": [n.to_dict() for n in self.by_night],
        }


@dataclass(frozen=True)
class ComplaintsResult:
    """Every complaint of the file, traced in the history, and their summary."""

    history: str
    complaints_file: str
    dispatch_log: str | None
    window_days: int
    timezone: str
    complaints: tuple[Complaint, ...]
    summary: ComplaintsSummary
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "history": self.history,
            "complaints_file": self.complaints_file,
            "dispatch_log": self.dispatch_log,
            "window_days": self.window_days,
            "timezone": self.timezone,
            "pii_masked": True,
            "complaints": [c.to_dict() for c in self.complaints],
            "summary": self.summary.to_dict(),
            "warnings": list(self.warnings),
        }


# ---------------------------------------------------------------------------------------
# Building it


def trace_complaints(history_db: str | Path, complaints_csv: str | Path, *,
                     dispatched: str | Path | None = None,
                     window_days: int = DEFAULT_WINDOW_DAYS,
                     settings: Settings | None = None) -> ComplaintsResult:
    """Trace every complaint of complaints_csv in the history file history_db.

    A complaint's messages are those of the run that counts for each night to its
    borrower_id (else its phone: as given in clear runs, as its keyed hash in pseudonymised
    ones), planned within window_days days before it was received. Without `dispatched`
    (the gateway's log of message_ids sent) the dispatcher is taken to have followed the
    verdicts. Timestamps without an offset, and the nights of never-planned complaints,
    are in settings.timezone; phones and names are masked. A bad file raises
    ComplaintsError, an unusable history ReportError (both exit 2).
    """
    settings = settings or Settings()
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1:
        raise ConfigError(f"must be a whole number of days, at least 1, got {window_days!r}",
                          parameter="window_days")
    zone = _zone(settings.timezone)
    complaints = read_complaints(Path(complaints_csv), zone)
    log = None if dispatched is None else read_dispatch_log(Path(dispatched), zone)
    path = Path(history_db)
    with read_only_history(path, settings.timezone) as con:
        needs_key = any(c.borrower_id is None for c in complaints)
        key = phone_key(con, path, settings) if needs_key else PhoneKey(None)
        _load_complaints(con, complaints, key)
        _load_dispatch_log(con, log or ())
        rows = query(con, "complaint_messages", window_days=window_days,
                     dispatch_log=log is not None)
    traced = _traced(complaints, rows, settings.timezone)
    return ComplaintsResult(
        history=str(history_db), complaints_file=str(complaints_csv),
        dispatch_log=None if dispatched is None else str(dispatched),
        window_days=window_days, timezone=settings.timezone, complaints=traced,
        summary=summarise(traced), warnings=key.warnings)


def _zone(timezone: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(f"unknown time zone {timezone!r}", parameter="timezone") from error


def _load_complaints(con: duckdb.DuckDBPyConnection, complaints: Sequence[ComplaintRow],
                     key: PhoneKey) -> None:
    _temporary_table(con, "complaints", {
        "complaint_row": ("INTEGER", [c.row for c in complaints]),
        "borrower_id": ("VARCHAR", [c.borrower_id for c in complaints]),
        "phone": ("VARCHAR", [c.phone for c in complaints]),
        "phone_pseudonym": ("VARCHAR", [key.pseudonym(c.phone) for c in complaints]),
        "received_at": ("TIMESTAMPTZ", [c.received_at.isoformat() for c in complaints]),
    })


def _load_dispatch_log(con: duckdb.DuckDBPyConnection, log: Sequence[DispatchRow]) -> None:
    _temporary_table(con, "dispatched", {
        "message_id": ("VARCHAR", [d.message_id for d in log]),
        "sent_at": ("TIMESTAMPTZ", [None if d.sent_at is None else d.sent_at.isoformat()
                                    for d in log]),
    })


def _temporary_table(con: duckdb.DuckDBPyConnection, name: str,
                     columns: dict[str, tuple[str, list[Any]]]) -> None:
    """A temporary (in-memory) table of these columns, each given its type and values."""
    listed = ", ".join(f"{column} {kind}" for column, (kind, _) in columns.items())
    con.execute(f"CREATE TEMP TABLE {name} ({listed})")
    if not next(iter(columns.values()))[1]:
        return
    values = ", ".join(f"CAST(unnest(${column}) AS {kind}) AS {column}"
                       for column, (kind, _) in columns.items())
    con.execute(f"INSERT INTO {name} BY NAME SELECT {values}",
                {column: [None if v is None else str(v) for v in given]
                 for column, (_, given) in columns.items()})


def _traced(complaints: Sequence[ComplaintRow], rows: Sequence[Mapping[str, Any]],
            timezone: str) -> tuple[Complaint, ...]:
    messages: dict[int, list[ComplaintMessage]] = {c.row: [] for c in complaints}
    for row in rows:
        messages[int(row["complaint_row"])].append(_complaint_message(row))
    return tuple(_classified(c, messages[c.row], timezone) for c in complaints)


def _complaint_message(row: Mapping[str, Any]) -> ComplaintMessage:
    """A row of complaint_messages.sql, by column name: the message, and whether and when
    it went out."""
    message = planned_message(row, show_pii=False)
    dispatched, sent_at = bool(row["dispatched"]), row["sent_at"]
    return ComplaintMessage(message, dispatched, None if sent_at is None else iso_text(sent_at),
                            message_class(message, dispatched))


def message_class(message: PlannedMessage, dispatched: bool) -> str:
    """sent_with_flag: out although flagged or not to be sent; sent_clean: out, send, no
    flag; stopped: held, blocked or rejected and not out; not_sent: send but not out."""
    if dispatched:
        clean = message.verdict == "send" and not message.flags
        return SENT_CLEAN if clean else SENT_WITH_FLAG
    return NOT_SENT if message.verdict == "send" else STOPPED


def _classified(complaint: ComplaintRow, messages: Sequence[ComplaintMessage],
                timezone: str) -> Complaint:
    if messages:
        complaint_class = min((m.message_class for m in messages), key=CLASSES.index)
        night = [m for m in messages if m.message_class == complaint_class][-1].message.night
    else:
        complaint_class = NEVER_PLANNED
        night = complaint.received_at.astimezone(zoneinfo.ZoneInfo(timezone)).date().isoformat()
    return Complaint(
        complaint_id=complaint.complaint_id, row=complaint.row,
        received_at=local_isoformat(complaint.received_at, timezone),
        category=complaint.category, borrower_id=complaint.borrower_id,
        phone=mask_pii(complaint.phone, "phone"), complaint_class=complaint_class,
        night=night, messages=tuple(messages))


def summarise(complaints: Sequence[Complaint]) -> ComplaintsSummary:
    """The summary of traced complaints (ComplaintsSummary)."""
    classes = Counter(c.complaint_class for c in complaints)
    misses = {(m.message.run_id, m.message.message_id): m.message
              for c in complaints for m in c.messages if m.message_class == SENT_CLEAN}
    nights: dict[str, Counter[str]] = {}
    for complaint in complaints:
        nights.setdefault(complaint.night, Counter())[complaint.complaint_class] += 1
    return ComplaintsSummary(
        complaints=len(complaints),
        by_class=tuple(classes[name] for name in CLASSES),
        misses_by_rule=_misses(m.rule_id for m in misses.values()),
        misses_by_template=_misses(m.template_id for m in misses.values()),
        by_night=tuple(NightClasses(night, tuple(nights[night][name] for name in CLASSES))
                       for night in sorted(nights)),
    )


def _misses(keys: Iterator[str | None]) -> tuple[Miss, ...]:
    counted = Counter(keys)
    ordered = sorted(counted.items(), key=lambda item: (-item[1], item[0] is None, item[0] or ""))
    return tuple(Miss(key, count) for key, count in ordered)


# ---------------------------------------------------------------------------------------
# Rendering


def render_complaints(result: ComplaintsResult, fmt: str, lang: str) -> str:
    """The traced complaints, then their summary, as text, Markdown or JSON (the same
    document in either language), with no control code of the data left in it."""
    renderers: dict[str, Callable[[ComplaintsResult, str], str]] = {
        "text": _text, "markdown": _markdown,
        "json": lambda r, _lang: as_json(r.to_dict()),
    }
    return safe_output(renderers[check_format(fmt)](result, check_language(lang)))


def class_name(complaint_class: str, lang: str) -> str:
    return phrase(f"class_{complaint_class}", lang)


def class_note(complaint_class: str, lang: str) -> str:
    return phrase(f"class_{complaint_class}_note", lang)


def _notes(result: ComplaintsResult, lang: str) -> list[str]:
    log = (f"{phrase('dispatch_log', lang)} {result.dispatch_log}" if result.dispatch_log
           else phrase("no_dispatch_log", lang))
    return [
        f"{phrase('complaints_file', lang)} {result.complaints_file} · "
        f"{phrase('history', lang)} {result.history} · "
        f"{phrase('times_in', lang, zone=result.timezone)}",
        f"{phrase('window', lang, days=result.window_days)} · {log}",
        phrase("pii_always_masked", lang),
        *(f"{phrase('warning', lang)}{colon(lang)}{w}" for w in result.warnings),
    ]


def _complaint_facts(c: Complaint, lang: str) -> list[str]:
    person = [f"{phrase('borrower', lang)} {c.borrower_id}" if c.borrower_id else "",
              f"{column('phone', lang)} {c.phone}" if c.phone else "",
              f"{phrase('category', lang)} {c.category}" if c.category else ""]
    return [
        f"{phrase('received', lang)} {c.received_at} · " + " · ".join(p for p in person if p),
        f"{class_note(c.complaint_class, lang)} ({phrase('complaint_night', lang, night=c.night)})",
    ]


def _message_extra(m: ComplaintMessage, lang: str) -> str:
    went = phrase("dispatched" if m.dispatched else "not_dispatched", lang)
    sent = f" · {phrase('sent_at', lang)} {m.sent_at}" if m.sent_at else ""
    shown_class = class_name(m.message_class, lang)
    return f"{phrase('class', lang)}{colon(lang)}{shown_class} · {went}{sent}"


def _text(result: ComplaintsResult, lang: str) -> str:
    count = phrase("complaints_count", lang, count=len(result.complaints))
    out = [f"{phrase('complaints_title', lang)}{colon(lang)}{count}"]
    out += [f"  {note}" for note in _notes(result, lang)]
    if not result.complaints:
        out += ["", phrase("no_complaints", lang)]
    for c in result.complaints:
        out += ["", f"{phrase('complaint', lang)} {c.complaint_id}{colon(lang)}"
                    f"{class_name(c.complaint_class, lang)}"]
        out += [f"  {fact}" for fact in _complaint_facts(c, lang)]
        for m in c.messages:
            out += message_text(m.message, lang, [_message_extra(m, lang)], indent="  ")
    out += ["", phrase("summary", lang)]
    for title, headers, rows, empty in result.summary.tables(lang):
        out += ["", f"  {title}"]
        out += text_table(headers, rows, indent=4) if rows else [f"    {empty}"]
    out.append("")
    out += [f"  {note}" for note in result.summary.notes(lang)]
    return "\n".join(out) + "\n"


def _markdown(result: ComplaintsResult, lang: str) -> str:
    count = phrase("complaints_count", lang, count=len(result.complaints))
    out = [f"# {md(phrase('complaints_title', lang))}{colon(lang)}{md(count)}", ""]
    out += [f"- {md(note)}" for note in _notes(result, lang)]
    if not result.complaints:
        out += ["", md(phrase("no_complaints", lang))]
    for c in result.complaints:
        out += ["", f"## {md(phrase('complaint', lang))} {md_code(c.complaint_id)}"
                    f"{colon(lang)}{md(class_name(c.complaint_class, lang))}", ""]
        out += [f"{md(fact)}  " for fact in _complaint_facts(c, lang)]
        if c.messages:
            out.append("")
        for m in c.messages:
            out += message_markdown(m.message, lang, [md(_message_extra(m, lang))])
    out += ["", f"## {md(phrase('summary', lang))}"]
    for title, headers, rows, empty in result.summary.tables(lang):
        out += ["", f"### {md(title)}", ""]
        out += md_table(headers, rows) if rows else [md(empty)]
    out.append("")
    out += [f"- {md(note)}" for note in result.summary.notes(lang)]
    return "\n".join(out) + "\n"


def with_complaints(report: Report, history_db: str | Path, settings: Settings) -> Report:
    """The morning report with the complaints of settings.report_complaints_file traced
    (against settings.report_dispatch_log when one is set); the report as it is without."""
    if not settings.report_complaints_file:
        return report
    result = trace_complaints(history_db, settings.report_complaints_file,
                              dispatched=settings.report_dispatch_log or None,
                              settings=settings)
    return dataclasses.replace(report, complaints=result.summary,
                               complaints_file=settings.report_complaints_file)
