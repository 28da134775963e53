"""`reconcile trace`: every planned message to one person across the recorded nights.

`build_trace` opens the history read-only, finds the person (a phone, a borrower_id, or the
person a message was addressed to) and reads their messages with `sql/report/trace.sql`
into a frozen `Trace`; `render_trace` turns it into text, Markdown or JSON. Nothing here
prints.

What the complaints desk (`reconcile.report.complaints`) shares with it is defined here
once: the history opened on an in-memory connection that attaches it read-only, a phone
matched in clear runs as given and in pseudonymised runs as its keyed hash, the
`PlannedMessage` row with its phone and name masked, and the text and Markdown of one
message. Their words are in reconcile.report.vocabulary, with the report's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from reconcile.config import PSEUDONYMISED, Settings
from reconcile.errors import ConfigError, one_line
from reconcile.history.store import (
    HistoryPaths,
    key_id,
    pseudonym,
    pseudonym_key,
)
from reconcile.records import first_record, from_record, records
from reconcile.report.build import (
    Evidence,
    ReportError,
    check_history_catalog,
    check_history_file,
    evidence_of,
    mask_pii,
    pseudonym_shown,
    query,
    shown_personal,
)
from reconcile.report.markdown import md, md_code
from reconcile.report.vocabulary import check_language, column, outcome_name, phrase
from reconcile.report.wording import flag_label
from reconcile.safe_text import printable
from reconcile.sqlfiles import quote_literal
from reconcile.timestamps import iso_text

FORMATS: tuple[str, ...] = ("text", "markdown", "json")
# The name the history's catalog is attached under on the in-memory connection.
HISTORY_ALIAS = "history"
# What an identifier (phone, borrower_id, message_id) loses before it is compared, as the
# night's staging trims it (trim_space in sql/nightly/staging/macros.sql): so the phone a
# history hashed and the phone typed on the command line are the same text.
IDENTIFIER_SPACE = " \t\n\x0b\x0c\r\u00a0\u3000\ufeff"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")




# ---------------------------------------------------------------------------------------
# The history, read-only


@contextlib.contextmanager
def read_only_history(db_path: Path, timezone: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory connection with the history's catalog attached read-only (and made the
    default database), reading no file outside the history's data folder, timestamps
    shown in `timezone`. Temporary tables (a complaints file) live in memory.

    A missing, empty or unreadable file, one that is no history, or a history of the
    single-file layout raises ReportError (exit 2); the file is never created or changed.
    """
    check_history_file(db_path)
    con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    try:
        _attach(con, db_path)
        _use_timezone(con, timezone)
        yield con
    finally:
        con.close()


def _attach(con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    try:
        con.execute(f"ATTACH {quote_literal(str(db_path))} AS {HISTORY_ALIAS} (READ_ONLY)")
    except duckdb.Error as error:
        raise ReportError(f"history {db_path}: cannot be opened ({one_line(error)})") from error
    check_history_catalog(con, db_path, catalog=HISTORY_ALIAS)
    con.execute(f"USE {HISTORY_ALIAS}")
    # The catalog's views read the history's Parquet folder, and nothing else may be read.
    data_folder = _data_folder(con, db_path)
    con.execute("SET allowed_directories = ?", [[data_folder + "/"]])
    con.execute("SET enable_external_access = false")


def _data_folder(con: duckdb.DuckDBPyConnection, db_path: Path) -> str:
    """The Parquet folder beside the catalog, which its views must name: a catalog moved
    away from its folder (or copied) would read another history's files."""
    expected = str(HistoryPaths.of(db_path).data)
    try:
        layout = first_record(con.execute("SELECT data_folder FROM history_layout"))
    except duckdb.Error:
        layout = None
    if layout is not None and layout["data_folder"] != expected:
        raise ReportError(f"history {db_path}: its catalog reads {layout['data_folder']}, "
                          f"not {expected} "
                          f"(moved or copied?); `reconcile history migrate --db {db_path}` "
                          "rebuilds it for the folder beside it")
    return expected


def _use_timezone(con: duckdb.DuckDBPyConnection, timezone: str) -> None:
    try:
        con.execute(f"SET TimeZone = {quote_literal(timezone)}")
    except duckdb.Error as error:
        raise ConfigError(f"unknown time zone {timezone!r} ({one_line(error)})",
                          parameter="timezone") from error


def identifier(value: str | None) -> str | None:
    """An identifier as the history compares it: surrounding space trimmed; None if blank."""
    if value is None:
        return None
    return value.strip(IDENTIFIER_SPACE) or None


def parse_night(text: str | dt.date | None, parameter: str) -> dt.date | None:
    """A night given as YYYY-MM-DD (exactly that shape) or a date; None stays None."""
    if text is None or isinstance(text, dt.date):
        return text
    try:
        if _DATE.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise ConfigError(f"{text!r} is not a date (YYYY-MM-DD)", parameter=parameter)


# ---------------------------------------------------------------------------------------
# Phones: in clear as given, pseudonymised as the history's keyed hash


@dataclass(frozen=True)
class PhoneKey:
    """How a phone given in clear is found: as it is in runs that keep phones in clear, as
    its keyed hash under the history's key in pseudonymised runs (key None: the history
    has none). `warnings` name runs pseudonymised under another key, whose phones the
    given key cannot find."""

    key: bytes | None
    warnings: tuple[str, ...] = ()

    def pseudonym(self, phone: str | None) -> str | None:
        if phone is None or self.key is None:
            return None
        return pseudonym(self.key, phone)


def phone_key(con: duckdb.DuckDBPyConnection, db_path: Path, settings: Settings) -> PhoneKey:
    """The history's pseudonym key, when any of its runs is pseudonymised. The key is
    looked up as a run looks it up, but never created: no key is a ConfigError (exit 2)."""
    runs_by_key = records(con.execute(
        "SELECT coalesce(pseudonym_key_id, '') AS key_id, count(*) AS runs FROM runs "
        "WHERE personal_data = ? GROUP BY ALL ORDER BY ALL", [PSEUDONYMISED]))
    if not runs_by_key:
        return PhoneKey(None)
    key = pseudonym_key(HistoryPaths.of(db_path), settings, create=False)
    other = sum(int(row["runs"]) for row in runs_by_key if row["key_id"] != key_id(key))
    if not other:
        return PhoneKey(key)
    return PhoneKey(key, (f"{other} pseudonymised runs were recorded under another key than "
                          f"this one (key id {key_id(key)}): their phones cannot be matched",))


# ---------------------------------------------------------------------------------------
# One planned message


@dataclass(frozen=True)
class PlannedMessage:
    """One message of one recorded run, with the evidence behind its verdict. Timestamps
    are ISO 8601 text; amounts are text, as recorded. Phone and name are masked (a
    pseudonymised one shows as `#` and 8 hex digits) unless the caller asked for clear
    ones."""

    night: str
    run_id: str
    as_of: str
    is_latest: bool  # the run that counts for its night
    personal_data: str  # how the run keeps phones and names: "pseudonymised" or "clear"
    message_id: str | None
    borrower_id: str | None
    phone: str | None
    borrower_name: str | None
    loan_id: str | None
    scheduled_at: str | None
    rule_id: str | None
    rule_category: str | None
    template_id: str | None
    template_kind: str | None
    overdue_amount: str | None
    days_past_due: int | None
    claimed_overdue_amount: str | None
    claimed_days_past_due: int | None
    verdict: str
    flags: tuple[str, ...]
    reason: str
    # Each flag's evidence, from the history's details (evidence_of); a message without
    # flags has its reason (a rejected row's cause) here without a flag.
    evidence: tuple[Evidence, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "flags": list(self.flags),
            "evidence": [dataclasses.asdict(e) for e in self.evidence],
        }


def planned_message(row: Mapping[str, Any], show_pii: bool) -> PlannedMessage:
    """A message from a row of trace.sql (or complaint_messages.sql), by column name, its
    phone and name shown as `shown_personal` says."""
    personal_data = str(row["personal_data"])
    return from_record(
        PlannedMessage, row,
        as_of=iso_text(str(row["as_of"])),
        scheduled_at=_iso_or_none(row["scheduled_at"]),
        phone=shown_personal(row["phone"], "phone", personal_data, show_pii),
        borrower_name=shown_personal(row["borrower_name"], "name", personal_data, show_pii),
        flags=tuple(row["flags"] or ()),
        reason=row["reason"] or "",
        evidence=evidence_of(row["details"], row["reason"]),
    )


def _iso_or_none(value: object) -> str | None:
    return None if value is None else iso_text(str(value))


# ---------------------------------------------------------------------------------------
# The trace


@dataclass(frozen=True)
class TraceTarget:
    """Whom the trace follows: `by` phone, borrower or message, the value given (a phone
    masked unless show_pii), and the borrower_id or phone traced (for a message, its
    person's; the phone shown as the messages show it)."""

    by: str
    value: str
    borrower_id: str | None
    phone: str | None


@dataclass(frozen=True)
class Trace:
    """Every planned message to one person, by night, scheduled_at and message_id."""

    history: str
    target: TraceTarget
    since: str | None
    all_runs: bool
    timezone: str
    pii_masked: bool
    messages: tuple[PlannedMessage, ...]
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "history": self.history,
            "target": dataclasses.asdict(self.target),
            "since": self.since,
            "all_runs": self.all_runs,
            "timezone": self.timezone,
            "pii_masked": self.pii_masked,
            "messages": [m.to_dict() for m in self.messages],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class _Person:
    """What trace.sql matches: a borrower_id, else a phone in clear and as its hash."""

    borrower_id: str | None = None
    phone: str | None = None
    phone_pseudonym: str | None = None
    warnings: tuple[str, ...] = ()


def build_trace(history_db: str | Path, *, phone: str | None = None,
                borrower_id: str | None = None, message_id: str | None = None,
                since: str | dt.date | None = None, all_runs: bool = False,
                show_pii: bool = False, settings: Settings | None = None) -> Trace:
    """Every message planned to one person in the history file history_db, given exactly
    one of a phone, a borrower_id or a message_id (whose borrower, else phone, is traced).

    Only the run that counts for each night unless all_runs; nights from `since`
    (YYYY-MM-DD) on. A phone is matched in clear runs as given (trimmed) and in
    pseudonymised runs as its keyed hash under the history's key (`settings` say where
    the key is; it is never created). Timestamps are shown in settings.timezone.
    """
    settings = settings or Settings()
    given = {"phone": identifier(phone), "borrower": identifier(borrower_id),
             "message": identifier(message_id)}
    named = [(by, value) for by, value in given.items() if value is not None]
    if len(named) != 1:
        raise ConfigError("give exactly one of a phone, a borrower_id or a message_id "
                          f"(got {len(named)})")
    by, value = named[0]
    night = parse_night(since, "since")
    path = Path(history_db)
    with read_only_history(path, settings.timezone) as con:
        person = _person(con, path, settings, by, value)
        found = () if person is None else _messages(con, person, night, all_runs, show_pii)
    shown_value = value if by != "phone" or show_pii else mask_pii(value, "phone") or value
    return Trace(
        history=str(history_db),
        target=_target(by, shown_value, person, show_pii),
        since=None if night is None else night.isoformat(),
        all_runs=all_runs,
        timezone=settings.timezone,
        pii_masked=not show_pii,
        messages=found,
        warnings=() if person is None else person.warnings,
    )


def _person(con: duckdb.DuckDBPyConnection, path: Path, settings: Settings, by: str,
            value: str) -> _Person | None:
    if by == "borrower":
        return _Person(borrower_id=value)
    if by == "phone":
        return _phone_person(con, path, settings, value)
    rows = query(con, "message_person", message_id=value)
    if not rows:
        return None
    borrower, phone = rows[0]["borrower_id"], rows[0]["phone"]
    personal_data = rows[0]["personal_data"]
    if borrower is not None:
        return _Person(borrower_id=borrower)
    if personal_data == PSEUDONYMISED:
        # Only its hash is known: it finds the runs pseudonymised under the same key.
        return _Person(phone_pseudonym=phone)
    return _phone_person(con, path, settings, phone)


def _phone_person(con: duckdb.DuckDBPyConnection, path: Path, settings: Settings,
                  phone: str | None) -> _Person:
    key = phone_key(con, path, settings)
    return _Person(phone=phone, phone_pseudonym=key.pseudonym(phone), warnings=key.warnings)


def _messages(con: duckdb.DuckDBPyConnection, person: _Person, since: dt.date | None,
              all_runs: bool, show_pii: bool) -> tuple[PlannedMessage, ...]:
    rows = query(con, "trace", borrower_id=person.borrower_id, phone=person.phone,
                 phone_pseudonym=person.phone_pseudonym,
                 since=None if since is None else since.isoformat(), all_runs=all_runs)
    return tuple(planned_message(row, show_pii) for row in rows)


def _target(by: str, value: str, person: _Person | None, show_pii: bool) -> TraceTarget:
    if person is None:
        return TraceTarget(by, value, None, None)
    if person.phone is not None:
        phone = person.phone if show_pii else mask_pii(person.phone, "phone")
    else:
        phone = pseudonym_shown(person.phone_pseudonym)
    return TraceTarget(by, value, person.borrower_id,
                       None if person.borrower_id is not None else phone)


# ---------------------------------------------------------------------------------------
# Rendering: shared pieces


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})",
                          parameter="output_format")
    return fmt


def safe_output(text: str) -> str:
    """Ids, names and reasons come from the drop: no control code of theirs reaches a
    terminal or a viewer (a JSON string keeps its value, as \\u escapes)."""
    return printable(text, keep="\n")


def as_json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _amount_days(amount: str | None, days: int | None, lang: str) -> str:
    if amount is None and days is None:
        return "–"
    shown_days = "–" if days is None else phrase("days", lang, days=days)
    separator = "，" if lang == "zh-CN" else ", "
    return f"{amount if amount is not None else '–'}{separator}{shown_days}"


def _with_kind(key: str | None, kind: str | None, lang: str) -> str:
    if key is None:
        return "–"
    if kind is None:
        return key
    return f"{key}（{kind}）" if lang == "zh-CN" else f"{key} ({kind})"


def colon(lang: str) -> str:
    """What follows a label: a full-width colon in Chinese."""
    return "：" if lang == "zh-CN" else ": "


def _evidence_line(evidence: Evidence, lang: str) -> str:
    if not evidence.flag:
        return evidence.detail
    return f"{flag_label(evidence.flag, lang)}{colon(lang)}{evidence.detail}"


def _evidence_block(m: PlannedMessage, lang: str) -> tuple[str, list[str]]:
    """The heading and lines of a message's evidence: each flag with its evidence (a flag
    recorded without a detail, alone); for a message without flags, its reason (why a row
    was rejected), if any."""
    evidence = m.evidence
    lines = [_evidence_line(e, lang) for e in evidence]
    explained = {e.flag for e in evidence}
    lines += [flag_label(f, lang) for f in m.flags if f not in explained]
    heading = phrase("reason", lang) if lines and not m.flags else column("flags", lang)
    return heading, lines


def _message_facts(m: PlannedMessage, lang: str) -> list[tuple[str, str]]:
    """The lines of one message after its heading: (label, value) pairs as text."""
    run = f"{m.run_id} · {phrase('as_of', lang)} {m.as_of}"
    if not m.is_latest:
        run += f" · {phrase('superseded', lang)}"
    return [
        (phrase("scheduled", lang), m.scheduled_at or "–"),
        (phrase("run", lang), run),
        (phrase("borrower", lang), m.borrower_id or "–"),
        (column("phone", lang), m.phone or "–"),
        (column("name", lang), m.borrower_name or "–"),
        (column("loan", lang), m.loan_id or "–"),
        (column("rule", lang), _with_kind(m.rule_id, m.rule_category, lang)),
        (column("template", lang), _with_kind(m.template_id, m.template_kind, lang)),
        (column("ledger", lang), _amount_days(m.overdue_amount, m.days_past_due, lang)),
        (column("claimed", lang),
         _amount_days(m.claimed_overdue_amount, m.claimed_days_past_due, lang)),
    ]


def _message_heading(m: PlannedMessage, lang: str) -> tuple[str, str, str]:
    return m.night, m.message_id or phrase("no_id", lang), outcome_name(m.verdict, lang)


def message_text(m: PlannedMessage, lang: str, extra: Sequence[str] = (),
                 indent: str = "  ") -> list[str]:
    """One message as text: its night, id and verdict, then one fact a line, any `extra`
    lines, and the evidence of each flag."""
    night, message_id, verdict = _message_heading(m, lang)
    out = [f"{indent}{night}  {message_id}  {verdict}"]
    inner = indent + "    "
    out += [f"{inner}{label}{colon(lang)}{value}" for label, value in _message_facts(m, lang)]
    out += [f"{inner}{line}" for line in extra]
    heading, lines = _evidence_block(m, lang)
    if not lines:
        return [*out, f"{inner}{heading}{colon(lang)}{phrase('no_flags', lang)}"]
    return [*out, f"{inner}{heading}{colon(lang).rstrip()}",
            *(f"{inner}  {line}" for line in lines)]


def message_markdown(m: PlannedMessage, lang: str, extra: Sequence[str] = ()) -> list[str]:
    """One message as a Markdown list item, its facts, `extra` lines (Markdown already)
    and evidence as nested items."""
    night, message_id, verdict = _message_heading(m, lang)
    out = [f"- **{md(night)}** {md_code(message_id)} · **{md(verdict)}**"]
    out += [f"  - {md(label)}{colon(lang)}{md(value)}"
            for label, value in _message_facts(m, lang)]
    out += [f"  - {line}" for line in extra]
    heading, lines = _evidence_block(m, lang)
    if not lines:
        return [*out, f"  - {md(heading)}{colon(lang)}{md(phrase('no_flags', lang))}"]
    return [*out, f"  - {md(heading)}{colon(lang).rstrip()}",
            *(f"    - {md(line, line_start=True)}" for line in lines)]


# ---------------------------------------------------------------------------------------
# Rendering the trace


def render_trace(trace: Trace, fmt: str, lang: str) -> str:
    """The trace as text, Markdown or JSON (the same document in either language), with
    no control code of the data left in it."""
    renderers: dict[str, Callable[[Trace, str], str]] = {
        "text": _trace_text, "markdown": _trace_markdown,
        "json": lambda t, _lang: as_json(t.to_dict()),
    }
    return safe_output(renderers[check_format(fmt)](trace, check_language(lang)))


def _target_text(trace: Trace, lang: str) -> str:
    target = trace.target
    shown = f"{phrase('by_' + target.by, lang)} {target.value}"
    if target.by == "message" and (target.borrower_id or target.phone):
        person = target.borrower_id or target.phone
        kind = phrase("by_borrower" if target.borrower_id else "by_phone", lang)
        shown += f"（{kind} {person}）" if lang == "zh-CN" else f" ({kind} {person})"
    return shown


def _trace_notes(trace: Trace, lang: str) -> list[str]:
    nights = (phrase("since", lang, night=trace.since) if trace.since
              else phrase("all_nights", lang))
    runs = phrase("all_runs" if trace.all_runs else "counting_runs", lang)
    return [
        f"{phrase('history', lang)} {trace.history} · "
        f"{phrase('times_in', lang, zone=trace.timezone)}",
        f"{nights} · {runs}",
        phrase("trace_pii_masked" if trace.pii_masked else "trace_pii_shown", lang),
        *(f"{phrase('warning', lang)}{colon(lang)}{w}" for w in trace.warnings),
    ]


def _trace_text(trace: Trace, lang: str) -> str:
    out = [f"{phrase('trace_title', lang)}{colon(lang)}{_target_text(trace, lang)}"]
    out += [f"  {note}" for note in _trace_notes(trace, lang)]
    out.append("")
    if not trace.messages:
        out.append(phrase("no_messages", lang))
        return "\n".join(out) + "\n"
    out.append(phrase("message_count", lang, count=len(trace.messages)))
    for message in trace.messages:
        out += ["", *message_text(message, lang, indent="")]
    return "\n".join(out) + "\n"


def _trace_markdown(trace: Trace, lang: str) -> str:
    out = [f"# {md(phrase('trace_title', lang))}{colon(lang)}{md(_target_text(trace, lang))}",
           ""]
    out += [f"- {md(note)}" for note in _trace_notes(trace, lang)]
    out.append("")
    if not trace.messages:
        out.append(md(phrase("no_messages", lang)))
        return "\n".join(out) + "\n"
    out += [f"## {md(phrase('message_count', lang, count=len(trace.messages)))}", ""]
    for message in trace.messages:
        out += message_markdown(message, lang)
    return "\n".join(out) + "\n"
