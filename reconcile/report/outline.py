"""The report's sections as titled notes and tables of words, the same for text and
Markdown: each renderer only lays them out (reconcile.report.text, .markdown)."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconcile.report import wording as w
from reconcile.report.build import KeyTrend, Report, Trends
from reconcile.report.vocabulary import column, outcome_name, phrase
from reconcile.schema import OUTCOMES

# Keys per trend table (rules, templates): the ones with most false positives.
TREND_KEYS = 5


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    title: str = ""
    # Shown when there is no row (a table with no row and no `empty` is left out).
    empty: str = ""
    # The first column holds identifiers (rules, templates): Markdown shows them as code.
    keys: bool = False


Part = Table | str  # a str is a paragraph


@dataclass(frozen=True)
class Section:
    title: str
    parts: list[Part] = field(default_factory=list)


def sections(report: Report, lang: str) -> list[Section]:
    """Every section between the run's header and the examples, in the report's order."""
    found = [_glance(report, lang), _trends(report, lang), _flags(report, lang),
             *_misfires(report, lang), _staleness(report, lang), _comparison(report, lang),
             _complaints(report, lang)]
    return [s for s in found if s is not None]


def _glance(report: Report, lang: str) -> Section:
    total = sum(c.count for c in report.verdicts)
    parts: list[Part] = [
        phrase("rows_and_fps", lang, rows=total, fps=report.false_positives),
        Table([column("verdict", lang), column("messages", lang), column("share", lang)],
              [[w.outcome_label(c.name, lang), str(c.count), w.percent(c.share)]
               for c in report.verdicts]),
    ]
    glance = report.glance
    if glance is not None:
        nights = len(glance.watched[0].recent_rates) if glance.watched else 0
        parts += [
            Table(w.movement_headers(lang), [w.movement_row(m, lang) for m in glance.movements],
                  phrase("changes", lang)),
            Table([*w.watched_headers(lang), column("trend", lang)],
                  [[*w.watched_row(r, lang), w.spark(r.recent_rates)] for r in glance.watched],
                  phrase("worst_rules", lang), phrase("no_rules", lang), keys=True),
        ]
        if glance.watched:
            parts.append(phrase("worst_rules_note", lang, nights=nights))
        parts.append(Table([phrase("guard", lang), phrase("status", lang)],
                           [[w.feed_guard_name(f.flag, lang),
                             w.feed_status(f.held, f.enabled, lang)] for f in glance.feeds],
                           phrase("feed_health", lang)))
    return Section(phrase("glance", lang), parts)


def _trends(report: Report, lang: str) -> Section | None:
    trends = report.trends
    if trends is None:
        return None
    nights = trends.nights[-w.TREND_TABLE_NIGHTS:]
    parts: list[Part] = [
        phrase("trends_note", lang, nights=len(nights)),
        Table([column("night", lang), column("messages", lang),
               *(outcome_name(o, lang) for o in OUTCOMES), column("rate", lang),
               column("median_hours", lang)],
              [[n.night, str(n.messages), str(n.sent), str(n.held), str(n.blocked),
                str(n.rejected),
                w.percent(n.false_positives / n.messages if n.messages else None),
                "–" if n.median_age_hours is None else f"{n.median_age_hours:.1f}"]
               for n in nights]),
    ]
    for title, noun, series in (("trend_rules", "rule", trends.rules),
                                ("trend_templates", "template", trends.templates)):
        parts.append(key_medians(Trends.most_misfiring(series, TREND_KEYS), noun, lang,
                                 phrase(title, lang)))
    return Section(phrase("trends", lang), parts)


def key_medians(keys: tuple[KeyTrend, ...], noun: str, lang: str, title: str = "") -> Table:
    """Each key's false-positive rate tonight and its 7- and 30-night medians."""
    return Table([column(noun, lang), column("now", lang), column("median_7", lang),
                  column("median_30", lang)],
                 [[w.key_shown(t.key), w.percent(t.rates[-1]), w.percent(t.median_rate(7)),
                   w.percent(t.median_rate(30))] for t in keys], title, keys=True)


def _flags(report: Report, lang: str) -> Section:
    shown = [c for c in report.flags if c.count]
    parts: list[Part] = [
        phrase("flags_note", lang),
        Table([column("flags", lang), column("messages", lang), column("share", lang)],
              [[w.flag_label(c.name, lang), str(c.count), w.percent(c.share)] for c in shown]),
    ]
    if len(shown) < len(report.flags):
        parts.append(phrase("flags_none", lang, count=len(report.flags) - len(shown)))
    return Section(phrase("flags", lang), parts)


def _misfires(report: Report, lang: str) -> list[Section]:
    found = []
    for title, noun, items in (("rules", "rule", report.rules),
                               ("templates", "template", report.templates)):
        rows, more = w.shown(items)
        parts: list[Part] = [phrase("fp_definition", lang)] if noun == "rule" else []
        parts.append(Table(w.misfire_headers(noun, lang), [w.misfire_row(m) for m in rows],
                           keys=True))
        if more:
            parts.append(phrase("more_rows", lang, count=more))
        found.append(Section(phrase(title, lang), parts))
    return found


def _staleness(report: Report, lang: str) -> Section:
    table = Table([column("rule", lang), *report.staleness_buckets,
                   column("median_hours", lang), column("max_hours", lang)],
                  [[w.key_shown(s.rule_id), *(str(n) for n in s.buckets),
                    f"{s.median_hours:.1f}", f"{s.max_hours:.1f}"] for s in report.staleness],
                  keys=True)
    return Section(phrase("staleness", lang), [phrase("staleness_note", lang), table])


def _comparison(report: Report, lang: str) -> Section:
    if report.comparison is None:
        return Section(phrase("comparison", lang), [phrase("no_previous", lang)])
    rows, unchanged = w.changed(report)
    parts: list[Part] = [
        w.previous_line(report, lang),
        Table(comparison_headers(lang), [w.change_row(c, lang) for c in rows]),
    ]
    if unchanged:
        parts.append(phrase("unchanged_flags", lang, count=unchanged))
    return Section(phrase("comparison", lang), parts)


def comparison_headers(lang: str) -> list[str]:
    return [column("measure", lang), column("previous", lang), column("now", lang),
            column("change", lang)]


def _complaints(report: Report, lang: str) -> Section | None:
    if report.complaints is None:
        return None
    parts: list[Part] = [str(report.complaints_file)]
    parts += [Table(headers, rows, title, empty)
              for title, headers, rows, empty in report.complaints.tables(lang)]
    parts += report.complaints.notes(lang)
    return Section(phrase("complaints", lang), parts)
