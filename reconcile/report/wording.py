"""How the report says a figure, a flag or a row, in the chosen language: shared by the text,
Markdown and HTML renderers so each says it the same way."""

from __future__ import annotations

from collections.abc import Sequence

from reconcile.config import PSEUDONYMISED
from reconcile.report.build import Change, Example, Misfire, Movement, Report, WatchedRule
from reconcile.report.vocabulary import (
    COLUMN_TERMS,
    FLAG_TERMS,
    OUTCOME_TERMS,
    column,
    flag_name,
    outcome_name,
    phrase,
)

NONE_KEY = "(none)"
# Rules and templates shown, worst first; the rest are counted in one line.
TOP = 10
# Trend tables in text and Markdown show this many of the latest nights.
TREND_TABLE_NIGHTS = 7


def percent(fraction: float | None) -> str:
    return "–" if fraction is None else f"{100 * fraction:.1f}%"


def signed(n: float) -> str:
    return f"{n:+g}" if isinstance(n, float) else f"{n:+d}"


def points(fraction: float | None) -> str:
    """A change of rate in percentage points: +12.5 pp."""
    return "–" if fraction is None else f"{100 * fraction:+.1f} pp"


def key_shown(key: str | None) -> str:
    return NONE_KEY if key is None else key


def flag_label(flag: str, lang: str) -> str:
    """A flag's plain name, then its code, so either can be searched for."""
    name = flag_name(flag, lang)
    return flag if name == flag else f"{name} {flag}"


def outcome_label(outcome: str, lang: str) -> str:
    name = outcome_name(outcome, lang)
    return outcome if name == outcome else f"{name} {outcome}"


def flag_explained(flag: str, lang: str) -> str:
    term = FLAG_TERMS.get(flag)
    return term.explained(lang) if term else ""


def pii_note(report: Report, lang: str) -> str:
    if report.run.personal_data == PSEUDONYMISED:
        return phrase("pii_pseudonymised", lang)
    return phrase("pii_masked" if report.pii_masked else "pii_shown", lang)


def amount_days(amount: str | None, days: int | None, lang: str) -> str:
    if amount is None and days is None:
        return "–"
    shown_days = "–" if days is None else phrase("days", lang, days=days)
    return f"{amount if amount is not None else '–'}, {shown_days}"


def previous_line(report: Report, lang: str) -> str:
    if report.comparison is None:
        return f"{phrase('previous_night', lang)}: {phrase('none_recorded', lang)}"
    prev = report.comparison.previous
    return (f"{phrase('previous_night', lang)}: {phrase('run', lang)} {prev.run_id}, "
            f"{phrase('as_of', lang)} {prev.as_of}")


def shown(items: Sequence[Misfire]) -> tuple[Sequence[Misfire], int]:
    return items[:TOP], max(0, len(items) - TOP)


def measure_label(name: str, lang: str) -> str:
    """A movement's or change's measure: messages, false positives, or an outcome."""
    if name == "messages":
        return phrase("total_messages", lang)
    if name in ("false_positives", "false positives"):
        return phrase("total_false_positives", lang)
    return outcome_label(name, lang)


def change_label(change: Change, lang: str) -> str:
    return flag_label(change.name, lang) if change.kind == "flag" else measure_label(
        change.name, lang)


def change_row(change: Change, lang: str) -> list[str]:
    return [change_label(change, lang), str(change.previous), str(change.current),
            signed(change.delta)]


def changed(report: Report) -> tuple[list[Change], int]:
    """The previous-night changes worth a row: every total and verdict, and the flags that
    moved; plus how many unmoved flags were left out."""
    if report.comparison is None:
        return [], 0
    rows = [c for c in report.comparison.changes if c.kind != "flag" or c.delta]
    return rows, len(report.comparison.changes) - len(rows)


def misfire_headers(noun: str, lang: str) -> list[str]:
    return [column(noun, lang), column("rate", lang), column("previous", lang),
            column("false_positives", lang), column("block", lang), column("hold", lang),
            column("messages", lang)]


def misfire_row(m: Misfire) -> list[str]:
    return [key_shown(m.key), percent(m.rate), percent(m.previous_rate), str(m.false_positives),
            str(m.blocked), str(m.held), str(m.messages)]


def movement_headers(lang: str) -> list[str]:
    return [column("measure", lang), column("now", lang), column("previous", lang),
            column("median_before", lang)]


def movement_row(m: Movement, lang: str) -> list[str]:
    def vs(other: float | None) -> str:
        if other is None:
            return "–"
        other_shown = f"{other:g}"
        return f"{other_shown} ({signed(m.current - other)})"

    return [measure_label(m.name, lang), str(m.current), vs(m.previous), vs(m.median)]


def watched_headers(lang: str) -> list[str]:
    return [column("rule", lang), column("rate", lang), column("median_before", lang),
            phrase("why", lang)]


def watched_row(w: WatchedRule, lang: str) -> list[str]:
    return [key_shown(w.key), f"{percent(w.rate)} ({w.false_positives}/{w.messages})",
            percent(w.median_rate), phrase(f"why_{w.why}", lang)]


_LEVELS = "▁▂▃▄▅▆▇█"


def spark(rates: Sequence[float | None]) -> str:
    """Rates of 0..1 as a line of block characters, 0 lowest, 1 full; · for a night the
    rule picked nothing. The text and Markdown trend line of a rule."""
    return "".join("·" if r is None else _LEVELS[round(max(0.0, min(1.0, r)) * 7)]
                   for r in rates)


def example_head(e: Example, lang: str) -> str:
    return e.message_id or phrase("no_id", lang)


def example_facts(e: Example, lang: str) -> list[tuple[str, str]]:
    """(label, value) pairs of an example, in the order every format shows them."""
    return [
        (column("verdict", lang), outcome_label(e.verdict, lang)),
        (column("flags", lang), ", ".join(flag_label(f, lang) for f in e.flags) or "–"),
        (column("phone", lang), e.phone or "–"),
        (column("name", lang), e.borrower_name or "–"),
        (column("loan", lang), e.loan_id or "–"),
        (column("rule", lang), key_shown(e.rule_id)),
        (column("template", lang), key_shown(e.template_id)),
        (column("ledger", lang), amount_days(e.overdue_amount, e.days_past_due, lang)),
        (column("claimed", lang),
         amount_days(e.claimed_overdue_amount, e.claimed_days_past_due, lang)),
    ]


def glossary(report: Report, lang: str) -> list[tuple[str, str]]:
    """(label, explanation) of every outcome, of each flag the report names, and of every
    column."""
    named = {c.name for c in report.flags if c.count} | {e.flag for e in report.examples}
    return ([(outcome_label(o, lang), term.explained(lang)) for o, term in OUTCOME_TERMS.items()]
            + [(flag_label(f, lang), flag_explained(f, lang)) for f in FLAG_TERMS if f in named]
            + [(term.name(lang), term.explained(lang)) for term in COLUMN_TERMS.values()])


def feed_status(held: int, enabled: bool, lang: str) -> str:
    if not enabled:
        return phrase("feed_off", lang)
    if held:
        return f"{phrase('feed_problem', lang)}: {phrase('held_messages', lang, count=held)}"
    return phrase("feed_ok", lang)


# The at-a-glance name of a night-wide guard (reconcile.checks.FEED_FLAGS) that has one of
# its own; any other is shown by its flag name.
FEED_GUARD_PHRASES: dict[str, str] = {
    "STALE_FEED": "feed_fresh",
    "INCOMPLETE_FEED": "feed_volume",
    "UNPLACED_PAYMENT": "feed_unplaced",
}


def feed_guard_name(flag: str, lang: str) -> str:
    """A night-wide guard's name in the glance."""
    key = FEED_GUARD_PHRASES.get(flag)
    return phrase(key, lang) if key else flag_name(flag, lang)
