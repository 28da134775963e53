"""The morning report: what a recorded run flagged, read from the history database.

`build_report` opens the history file read-only, runs one query per section
(`sql/report/*.sql`) and returns a frozen `Report`; `reconcile.report.render` turns it into
text, Markdown, HTML or JSON. Nothing here prints.

Phone numbers and names are masked (`mask_pii`) while the report is built, unless
`show_pii`, so no renderer can show them by accident.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import duckdb

from reconcile.checks import FEED_FLAGS, FLAGS
from reconcile.config import (
    DEFAULT_PROFILE,
    DEFAULT_TIMEZONE,
    PROFILE_REPORT_LANGUAGES,
    PSEUDONYMISED,
)
from reconcile.errors import EXIT_BAD_INPUT, ReconcileError, one_line
from reconcile.history.store import holds_legacy_tables, schema_version
from reconcile.records import Record, first_record, from_record, records
from reconcile.schema import OUTCOMES
from reconcile.sqlfiles import quote_literal, read_sql

# The report's sections, one SQL file each under sql/report/.
SECTION_QUERIES: tuple[str, ...] = (
    "runs", "run_header", "verdict_counts", "flag_counts", "misfires", "staleness",
    "comparison", "examples", "trends",
)
FALSE_POSITIVE_VERDICTS: tuple[str, ...] = ("block", "hold")
FALSE_POSITIVE_DEFINITION = (
    "A false positive of a rule or template is one of its messages whose verdict is block "
    "or hold; its rate is false positives / all of the rule's (template's) send_batch rows, "
    "rejected ones included."
)
# Buckets of rule_age_hours (as-of minus rule_evaluated_at), lower bound inclusive; in the
# order of staleness.sql's count columns.
STALENESS_BUCKETS: tuple[str, ...] = ("<6h", "6–12h", "12–24h", "24–48h", "≥48h")
# staleness.sql's column counting each bucket, in the same order.
STALENESS_COLUMNS: tuple[str, ...] = (
    "under_6h", "from_6_to_12h", "from_12_to_24h", "from_24_to_48h", "over_48h",
)
EXAMPLES_PER_FLAG = 3
# Trends cover this many recorded nights; the at-a-glance medians the last SHORT_WINDOW
# nights before the reported one.
TREND_NIGHTS = 30
SHORT_WINDOW = 7
WATCHED_RULES = 3

PiiKind = Literal["phone", "name"]


class ReportError(ReconcileError):
    """The history database cannot answer: missing, not a history file, empty, unknown run."""

    exit_code = EXIT_BAD_INPUT


def mask_pii(value: str | None, kind: PiiKind) -> str | None:
    """Hide a phone number or a name; the only place the report masks anything.

    A phone keeps its first 3 and last 4 characters (13812341234 -> 138****1234); one of 7
    characters or fewer is hidden whole. A name keeps its first character, every other
    character (spaces included) becomes `*` (张三丰 -> 张**, "Li Wei" -> "L*****"); a
    one-character name is hidden whole. Empty values stay as they are.
    """
    if not value:
        return value
    text = value.strip()
    if kind == "phone":
        if len(text) <= 7:
            return "*" * len(text)
        return text[:3] + "*" * (len(text) - 7) + text[-4:]
    if len(text) <= 1:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 1)


@dataclass(frozen=True)
class Evidence:
    """One flag of a message and the evidence recorded for it (flag "" for text that is no
    flag's: a rejected row's cause)."""

    flag: str
    detail: str

    @property
    def line(self) -> str:
        """As the reason spells it: `FLAG: detail`, or the text alone without a flag."""
        return f"{self.flag}: {self.detail}" if self.flag else self.detail


def evidence_of(details: Sequence[Mapping[str, str | None]] | None,
                reason: str | None) -> tuple[Evidence, ...]:
    """A finding's evidence from its `details` column (one {flag, detail} per flag, in
    order; a flag recorded without a detail is left out, as the reason leaves it out). A
    finding without details (no flag: a rejected row's cause, or nothing) has its reason,
    if any, whole and without a flag. The reason text is never split."""
    if details:
        return tuple(Evidence(item["flag"] or "", item["detail"]) for item in details
                     if item["detail"] is not None)
    return (Evidence("", reason),) if reason else ()


def shown_personal(value: str | None, kind: PiiKind, personal_data: str,
                   show_pii: bool) -> str | None:
    """A phone or name as every report shows it: a keyed hash as `#` and its first 8 hex
    digits; a clear one masked unless show_pii."""
    if personal_data == PSEUDONYMISED:
        return pseudonym_shown(value)
    return value if show_pii else mask_pii(value, kind)


def pseudonym_shown(value: str | None) -> str | None:
    """A pseudonymised phone or name as the report shows it: `#` and its first 8 hex digits,
    enough to tell messages apart and to find the row (`phone LIKE '1a2b3c4d%'`)."""
    return f"#{value[:8]}" if value else value


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    as_of: str
    finished_at: str
    duration_seconds: float
    data_dir: str
    reconcile_version: str
    messages: int
    # What the night's data could not tell (unplaced money, feeds empty, short or behind).
    warnings: tuple[str, ...] = ()
    # How the history keeps the run's phones and names: "pseudonymised" or "clear".
    personal_data: str = "clear"
    # The report language its settings name (its profile's when it predates the setting).
    language: str = PROFILE_REPORT_LANGUAGES[DEFAULT_PROFILE]
    # Checks its settings switched off: a feed guard among them is shown as off.
    disabled_checks: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "warnings": list(self.warnings),
                "disabled_checks": list(self.disabled_checks)}


@dataclass(frozen=True)
class Count:
    name: str
    count: int
    share: float  # of the run's send_batch rows, 0..1


@dataclass(frozen=True)
class Misfire:
    """One rule's (or template's) false positives this night and the night before."""

    key: str | None  # None: rows without a rule (template) id, all of them rejected
    messages: int
    blocked: int
    held: int
    previous_messages: int
    previous_false_positives: int

    @property
    def false_positives(self) -> int:
        return self.blocked + self.held

    @property
    def rate(self) -> float:
        return self.false_positives / self.messages if self.messages else 0.0

    @property
    def previous_rate(self) -> float | None:
        if not self.previous_messages:
            return None
        return self.previous_false_positives / self.previous_messages

    def to_dict(self) -> dict[str, Any]:
        previous_rate = self.previous_rate
        return {
            **dataclasses.asdict(self),
            "false_positives": self.false_positives,
            "rate": round(self.rate, 4),
            "previous_rate": None if previous_rate is None else round(previous_rate, 4),
        }


@dataclass(frozen=True)
class Staleness:
    """How many of one rule's messages fall in each STALENESS_BUCKETS bucket."""

    rule_id: str | None
    messages: int
    buckets: tuple[int, ...]
    median_hours: float
    max_hours: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "messages": self.messages,
            "buckets": dict(zip(STALENESS_BUCKETS, self.buckets, strict=True)),
            "median_hours": round(self.median_hours, 2),
            "max_hours": round(self.max_hours, 2),
        }


@dataclass(frozen=True)
class Change:
    """One figure now and the previous night."""

    kind: str  # "total", "verdict" or "flag"
    name: str
    current: int
    previous: int

    @property
    def delta(self) -> int:
        return self.current - self.previous

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "delta": self.delta}


@dataclass(frozen=True)
class Comparison:
    previous: RunInfo
    changes: tuple[Change, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "previous_run": self.previous.to_dict(),
            "changes": [c.to_dict() for c in self.changes],
        }


@dataclass(frozen=True)
class Example:
    """One message carrying `flag`, with its evidence; phone and name masked unless asked."""

    flag: str
    message_id: str | None
    verdict: str
    phone: str | None
    borrower_name: str | None
    loan_id: str | None
    overdue_amount: str | None
    days_past_due: int | None
    claimed_overdue_amount: str | None
    claimed_days_past_due: int | None
    reason: str
    # Every flag the message carries; it is listed once, under `flag`.
    flags: tuple[str, ...] = ()
    rule_id: str | None = None
    template_id: str | None = None
    # The evidence of each flag, from the history's details (not part of to_dict's
    # examples, which give the reason).
    details: tuple[Evidence, ...] = ()

    @property
    def evidence(self) -> list[str]:
        """One `FLAG: detail` line per flag, from the recorded details."""
        return [e.line for e in self.details]


@dataclass(frozen=True)
class NightFigures:
    """One recorded night of the trends: its verdict mix and how old the rules' data was."""

    night: str
    messages: int
    false_positives: int
    sent: int
    held: int
    blocked: int
    rejected: int
    median_age_hours: float | None
    p90_age_hours: float | None

    def count(self, outcome: str) -> int:
        return {"send": self.sent, "hold": self.held, "block": self.blocked,
                "rejected": self.rejected}[outcome]

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 2) if isinstance(v, float) else v
                for k, v in dataclasses.asdict(self).items()}


@dataclass(frozen=True)
class KeyTrend:
    """One rule's (template's) messages and false positives on each night of the trends."""

    key: str | None
    messages: tuple[int, ...]
    false_positives: tuple[int, ...]

    @property
    def rates(self) -> tuple[float | None, ...]:
        """The false-positive rate per night; None where the rule picked nothing."""
        return tuple(fp / n if n else None
                     for n, fp in zip(self.messages, self.false_positives, strict=True))

    def median_rate(self, nights: int) -> float | None:
        """The median rate over the last `nights` nights (tonight included) it picked any."""
        return _median([r for r in self.rates[-nights:] if r is not None])

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "messages": list(self.messages),
                "false_positives": list(self.false_positives),
                "rates": [None if r is None else round(r, 4) for r in self.rates]}


@dataclass(frozen=True)
class Trends:
    """The last TREND_NIGHTS recorded nights up to the reported one, oldest first."""

    nights: tuple[NightFigures, ...]
    rules: tuple[KeyTrend, ...]
    templates: tuple[KeyTrend, ...]

    @property
    def night_dates(self) -> tuple[str, ...]:
        return tuple(n.night for n in self.nights)

    @staticmethod
    def most_misfiring(series: tuple[KeyTrend, ...], count: int) -> tuple[KeyTrend, ...]:
        """The `count` keys with the most false positives over the nights, then by key."""
        ranked = sorted(series, key=lambda t: (-sum(t.false_positives), _sort_key(t.key)))
        return tuple(t for t in ranked[:count] if sum(t.false_positives))

    def to_dict(self) -> dict[str, Any]:
        return {"nights": [n.to_dict() for n in self.nights],
                "rules": [r.to_dict() for r in self.rules],
                "templates": [t.to_dict() for t in self.templates]}


@dataclass(frozen=True)
class Movement:
    """A figure tonight, last night and the median of the SHORT_WINDOW nights before."""

    name: str  # "messages", "false_positives" or an outcome
    current: int
    previous: int | None
    median: float | None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class WatchedRule:
    """A rule whose false-positive rate is among the highest tonight, or rising fastest."""

    key: str | None
    why: Literal["highest", "rising"]
    messages: int
    false_positives: int
    rate: float
    median_rate: float | None  # over the SHORT_WINDOW nights before tonight
    recent_rates: tuple[float | None, ...]  # the last SHORT_WINDOW + 1 nights, tonight last

    @property
    def rise(self) -> float | None:
        return None if self.median_rate is None else self.rate - self.median_rate

    def to_dict(self) -> dict[str, Any]:
        rise = self.rise
        return {**dataclasses.asdict(self), "rate": round(self.rate, 4),
                "median_rate": None if self.median_rate is None else round(self.median_rate, 4),
                "rise": None if rise is None else round(rise, 4),
                "recent_rates": [None if r is None else round(r, 4) for r in self.recent_rates]}


@dataclass(frozen=True)
class FeedGuard:
    """One of the night-wide guards (FEED_FLAGS): how many messages it held."""

    flag: str
    held: int
    enabled: bool

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Glance:
    """The first screen: what moved, which rules to look at, whether the feeds were sound."""

    movements: tuple[Movement, ...]
    watched: tuple[WatchedRule, ...]
    feeds: tuple[FeedGuard, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"movements": [m.to_dict() for m in self.movements],
                "watched_rules": [w.to_dict() for w in self.watched],
                "feeds": [f.to_dict() for f in self.feeds]}


class ComplaintsSection(Protocol):
    """What the report shows of traced complaints (reconcile.report.complaints'
    ComplaintsSummary, which builds on this module and so is not imported here)."""

    def tables(self, lang: str) -> list[tuple[str, list[str], list[list[str]], str]]: ...

    def notes(self, lang: str) -> list[str]: ...

    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Report:
    run: RunInfo
    timezone: str
    verdicts: tuple[Count, ...]
    flags: tuple[Count, ...]
    rules: tuple[Misfire, ...]
    templates: tuple[Misfire, ...]
    staleness: tuple[Staleness, ...]
    comparison: Comparison | None
    examples: tuple[Example, ...]
    pii_masked: bool
    trends: Trends | None = None
    glance: Glance | None = None
    examples_per_flag: int = EXAMPLES_PER_FLAG
    # The configured complaints, traced (reconcile.report.complaints.with_complaints).
    complaints: ComplaintsSection | None = None
    complaints_file: str | None = None
    false_positive_definition: str = FALSE_POSITIVE_DEFINITION
    staleness_buckets: tuple[str, ...] = STALENESS_BUCKETS

    @property
    def false_positives(self) -> int:
        return sum(c.count for c in self.verdicts if c.name in FALSE_POSITIVE_VERDICTS)

    def examples_of(self, flag: str) -> list[Example]:
        return [e for e in self.examples if e.flag == flag]

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run.to_dict(),
            "timezone": self.timezone,
            "pii_masked": self.pii_masked,
            "verdicts": {c.name: c.count for c in self.verdicts},
            "flags": {c.name: c.count for c in self.flags},
            "false_positives": self.false_positives,
            "false_positive_definition": self.false_positive_definition,
            "rules": [m.to_dict() for m in self.rules],
            "templates": [m.to_dict() for m in self.templates],
            "staleness_buckets": list(self.staleness_buckets),
            "staleness": [s.to_dict() for s in self.staleness],
            "comparison": None if self.comparison is None else self.comparison.to_dict(),
            "glance": None if self.glance is None else self.glance.to_dict(),
            "trends": None if self.trends is None else self.trends.to_dict(),
            "complaints": None if self.complaints is None else {
                "file": self.complaints_file, **self.complaints.to_dict()},
            "examples": {
                flag: [
                    {k: list(v) if k == "flags" else v
                     for k, v in dataclasses.asdict(e).items() if k not in ("flag", "details")}
                    for e in self.examples_of(flag)
                ]
                for flag in _ordered(FLAGS, {e.flag: 0 for e in self.examples})
                if self.examples_of(flag)
            },
        }


def build_report(history_db: str | Path, run_id: str | None = None, *,
                 show_pii: bool = False, examples_per_flag: int = EXAMPLES_PER_FLAG) -> Report:
    """The report of run `run_id` (default: the latest) in the history file history_db."""
    con = _open(Path(history_db))
    try:
        return _build(con, Path(history_db), run_id, show_pii, examples_per_flag)
    finally:
        con.close()


def _open(db_path: Path) -> duckdb.DuckDBPyConnection:
    check_history_file(db_path)
    try:
        con = duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as error:
        raise ReportError(f"history {db_path}: cannot be opened ({one_line(error)})") from error
    try:
        con.execute("SET enable_progress_bar = false")
        check_history_catalog(con, db_path, catalog=None)
    except BaseException:
        con.close()
        raise
    return con


def check_history_file(db_path: Path) -> None:
    """A missing or empty history file is a ReportError (exit 2), never created."""
    if not db_path.is_file():
        raise ReportError(f"history {db_path}: no such file "
                          "(a run given it as its history creates it)")
    if db_path.stat().st_size == 0:
        raise ReportError(f"history {db_path}: the file is empty, no run is recorded")


def check_history_catalog(con: duckdb.DuckDBPyConnection, db_path: Path,
                          catalog: str | None) -> None:
    """The connection's history (in `catalog`, when attached under that name) has runs and
    findings and is not of the single-file layout; else a ReportError (exit 2)."""
    tables = {name for (name,) in con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_name IN ('runs', 'findings') AND (? IS NULL OR table_catalog = ?)",
        [catalog, catalog]).fetchall()}
    if tables != {"runs", "findings"}:
        raise ReportError(f"history {db_path}: not a reconcile history database "
                          "(no runs and findings tables)")
    if holds_legacy_tables(con):
        raise ReportError(f"history {db_path}: in the single-file layout of an earlier "
                          f"reconcile; `reconcile history migrate --db {db_path}` converts "
                          "it once (the next recorded run does too)")
    built = _catalog_schema_version(con, catalog)
    if built is None or built < schema_version():
        raise ReportError(f"history {db_path}: its catalog was built by an earlier reconcile "
                          f"(schema version {built or 'unknown'}, this one reads "
                          f"{schema_version()}); `reconcile history migrate --db {db_path}` "
                          "rebuilds it (the next recorded run does too)")


def _catalog_schema_version(con: duckdb.DuckDBPyConnection, catalog: str | None) -> int | None:
    """The schema version the history's catalog was built for (its views read the columns
    of that version), or None when it does not say."""
    table = "history_layout" if catalog is None else f"{catalog}.history_layout"
    try:
        layout = first_record(con.execute(f"SELECT schema_version FROM {table}"))
    except duckdb.Error:
        return None
    return None if layout is None else int(layout["schema_version"])



def query(con: duckdb.DuckDBPyConnection, name: str, **params: object) -> list[Record]:
    """The rows of sql/report/NAME.sql with its $params, each by column name."""
    return records(con.execute(read_sql(f"report/{name}.sql"), params))


def _build(con: duckdb.DuckDBPyConnection, db_path: Path, run_id: str | None,
           show_pii: bool, examples_per_flag: int) -> Report:
    chosen = query(con, "runs", run_id=run_id)
    if not chosen:
        if run_id is None:
            raise ReportError(f"history {db_path}: no run is recorded yet")
        latest = query(con, "runs", run_id=None)
        hint = f" (the latest is {latest[0]['run_id']})" if latest else ""
        raise ReportError(f"history {db_path}: no run {run_id}{hint}")
    current_id, previous_id = chosen[0]["run_id"], chosen[0]["previous_run_id"]
    timezone = chosen[0]["timezone"] or DEFAULT_TIMEZONE
    # Timestamps are shown in the chosen run's configured time zone.
    con.execute(f"SET TimeZone = {quote_literal(str(timezone))}")

    run = _run_info(con, current_id)
    verdict_counts = {row["verdict"]: row["messages"]
                      for row in query(con, "verdict_counts", run_id=current_id)}
    flag_counts = {row["flag"]: row["messages"]
                   for row in query(con, "flag_counts", run_id=current_id)}
    total = sum(verdict_counts.values()) or 1
    verdicts = tuple(Count(v, int(verdict_counts.get(v, 0)), verdict_counts.get(v, 0) / total)
                     for v in _ordered(OUTCOMES, verdict_counts))
    flags = tuple(Count(f, int(flag_counts.get(f, 0)), flag_counts.get(f, 0) / total)
                  for f in _ordered(FLAGS, flag_counts))

    pair = {"run_id": current_id, "previous_run_id": previous_id}
    misfires = query(con, "misfires", **pair)
    rules = tuple(from_record(Misfire, row) for row in misfires if row["dimension"] == "rule")
    templates = tuple(from_record(Misfire, row) for row in misfires
                      if row["dimension"] == "template")
    staleness = tuple(
        from_record(Staleness, row, buckets=tuple(row[c] for c in STALENESS_COLUMNS),
                    median_hours=float(row["median_hours"]), max_hours=float(row["max_hours"]))
        for row in query(con, "staleness", run_id=current_id)
    )
    comparison = None
    if previous_id is not None:
        comparison = Comparison(_run_info(con, previous_id),
                                _changes(query(con, "comparison", **pair)))
    found = query(con, "examples", run_id=current_id, per_flag=examples_per_flag,
                   flag_order=_ordered(FLAGS, flag_counts))
    examples = tuple(_example(row, show_pii, run.personal_data) for row in found)
    trends = _trends(query(con, "trends", run_id=current_id, nights=TREND_NIGHTS))
    return Report(run=run, timezone=str(timezone), verdicts=verdicts, flags=flags,
                  rules=rules, templates=templates, staleness=staleness,
                  comparison=comparison, examples=examples, pii_masked=not show_pii,
                  trends=trends, glance=_glance(trends, rules, run, flag_counts),
                  examples_per_flag=examples_per_flag)


def _run_info(con: duckdb.DuckDBPyConnection, run_id: str) -> RunInfo:
    row = query(con, "run_header", run_id=run_id)[0]
    profile_language = PROFILE_REPORT_LANGUAGES.get(
        str(row["profile"]), PROFILE_REPORT_LANGUAGES[DEFAULT_PROFILE])
    return from_record(RunInfo, row, duration_seconds=float(row["duration_seconds"]),
                       messages=int(row["messages"]), warnings=tuple(row["warnings"] or ()),
                       personal_data=str(row["personal_data"] or "clear"),
                       language=str(row["report_language"] or profile_language),
                       disabled_checks=tuple(row["disabled_checks"] or ()))


def _ordered(known: tuple[str, ...], found: dict[str, Any]) -> list[str]:
    """The known names in their defined order, then any other name found, sorted."""
    return [*known, *sorted(name for name in found if name not in known)]


def _in_flag_order(flags: list[str]) -> tuple[str, ...]:
    """The flags given, known ones in FLAGS order, then any other, sorted."""
    return tuple(f for f in _ordered(FLAGS, dict.fromkeys(flags)) if f in flags)


def _changes(rows: list[Record]) -> tuple[Change, ...]:
    by_key = {(row["kind"], row["name"]): (int(row["current"]), int(row["previous"]))
              for row in rows}
    order = [("total", "messages"), ("total", "false positives")]
    found = {kind: {n: 0 for k, n in by_key if k == kind} for kind in ("verdict", "flag")}
    order += [("verdict", v) for v in _ordered(OUTCOMES, found["verdict"])]
    order += [("flag", f) for f in _ordered(FLAGS, found["flag"])]
    return tuple(Change(kind, name, *by_key.get((kind, name), (0, 0))) for kind, name in order)


def _example(row: Record, show_pii: bool, personal_data: str) -> Example:
    return from_record(
        Example, row,
        phone=shown_personal(row["phone"], "phone", personal_data, show_pii),
        borrower_name=shown_personal(row["borrower_name"], "name", personal_data, show_pii),
        flags=_in_flag_order(list(row["flags"] or ())),
        details=evidence_of(row["details"], row["reason"]))


# trends.sql's counts of a night, as NightFigures has them.
_NIGHT_COUNTS = ("messages", "false_positives", "sent", "held", "blocked", "rejected")
_NIGHT_AGES = ("median_age_hours", "p90_age_hours")


def _trends(rows: list[Record]) -> Trends:
    """trends.sql's rows as series aligned on its nights (0 where a key picked nothing)."""
    nights = tuple(
        from_record(NightFigures, row, night=str(row["night"]),
                    **{name: int(row[name]) for name in _NIGHT_COUNTS},
                    **{name: None if row[name] is None else float(row[name])
                       for name in _NIGHT_AGES})
        for row in rows if row["dimension"] == "night")
    position = {figures.night: i for i, figures in enumerate(nights)}

    def series(dimension: str) -> tuple[KeyTrend, ...]:
        counts: dict[str | None, tuple[list[int], list[int]]] = {}
        for row in rows:
            if row["dimension"] == dimension:
                pair = counts.setdefault(row["key"], ([0] * len(nights), [0] * len(nights)))
                pair[0][position[str(row["night"])]] = int(row["messages"])
                pair[1][position[str(row["night"])]] = int(row["false_positives"])
        return tuple(KeyTrend(key, tuple(m), tuple(fp)) for key, (m, fp) in counts.items())

    return Trends(nights=nights, rules=series("rule"), templates=series("template"))


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _glance(trends: Trends, rules: tuple[Misfire, ...], run: RunInfo,
            flag_counts: dict[str, Any]) -> Glance:
    earlier = trends.nights[:-1][-SHORT_WINDOW:]
    previous = trends.nights[-2] if len(trends.nights) > 1 else None
    tonight = trends.nights[-1]

    def movement(name: str, value: Any) -> Movement:
        return Movement(name, value(tonight), None if previous is None else value(previous),
                        _median([value(n) for n in earlier]))

    movements = (movement("messages", lambda n: n.messages),
                 movement("false_positives", lambda n: n.false_positives),
                 *(movement(o, lambda n, o=o: n.count(o)) for o in OUTCOMES))
    feeds = tuple(FeedGuard(flag, int(flag_counts.get(flag, 0)),
                            flag not in run.disabled_checks) for flag in FEED_FLAGS)
    return Glance(movements=movements, watched=_watched(trends, rules), feeds=feeds)


def _watched(trends: Trends, rules: tuple[Misfire, ...]) -> tuple[WatchedRule, ...]:
    """The WATCHED_RULES rules to look at first: the highest rates tonight, and the one
    rising fastest against its median of the nights before, if not among them."""
    by_key = {t.key: t for t in trends.rules}
    candidates = []
    for misfire in rules:
        rates = by_key[misfire.key].rates if misfire.key in by_key else (misfire.rate,)
        median_rate = _median([r for r in rates[:-1][-SHORT_WINDOW:] if r is not None])
        candidates.append(WatchedRule(
            misfire.key, "highest", misfire.messages, misfire.false_positives, misfire.rate,
            median_rate, tuple(rates[-(SHORT_WINDOW + 1):])))
    highest = sorted((c for c in candidates if c.false_positives),
                     key=lambda c: (-c.rate, -c.false_positives, _sort_key(c.key)))
    chosen = highest[:WATCHED_RULES - 1]
    risers = sorted((c for c in candidates if c not in chosen and (c.rise or 0) > 0),
                    key=lambda c: (-(c.rise or 0), _sort_key(c.key)))
    if risers:
        chosen.append(dataclasses.replace(risers[0], why="rising"))
    chosen += [c for c in highest if c not in chosen][:WATCHED_RULES - len(chosen)]
    return tuple(chosen)


def _sort_key(key: str | None) -> tuple[bool, str]:
    return key is None, key or ""
