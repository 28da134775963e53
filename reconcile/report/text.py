"""The report as plain text for a terminal: 80 display columns, Chinese counted as two."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from reconcile.report import wording as w
from reconcile.report.build import Example, Report
from reconcile.report.vocabulary import column, outcome_name, phrase
from reconcile.schema import OUTCOMES

WIDTH = 80


def display_width(text: str) -> int:
    """Terminal columns: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int, right: bool = False) -> str:
    if display_width(text) > width:
        cut = ""
        for ch in text:
            if display_width(cut + ch) > width - 1:
                break
            cut += ch
        text = cut + "…"
    pad = " " * (width - display_width(text))
    return pad + text if right else text + pad


def wrap(text: str, width: int, indent: str, hang: str = "") -> list[str]:
    """Word-wrap by display width; a word longer than a line is cut."""
    lines: list[str] = []
    line = indent
    fresh = True
    for word in text.split():
        joiner = "" if fresh else " "
        if display_width(line + joiner + word) <= width:
            line += joiner + word
            fresh = False
            continue
        if not fresh:
            lines.append(line)
            line, fresh = indent + hang, True
        while display_width(line + word) > width:
            room = width - display_width(line)
            cut = ""
            for ch in word:
                if display_width(cut + ch) > room:
                    break
                cut += ch
            cut = cut or word[0]
            lines.append(line + cut)
            word = word[len(cut):]
            line = indent + hang
        line += word
        fresh = False
    if not fresh:
        lines.append(line)
    return lines


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: int = 2) -> list[str]:
    """First column left-aligned and shrunk to fit WIDTH; the others right-aligned."""
    widths = [max([display_width(h), *(display_width(r[i]) for r in rows)])
              for i, h in enumerate(headers)]
    rest = sum(widths[1:]) + 2 * (len(widths) - 1)
    widths[0] = max(8, min(widths[0], WIDTH - indent - rest))
    out = []
    for cells in [headers, *rows]:
        parts = [_fit(cells[0], widths[0])]
        parts += [_fit(c, width, right=True) for c, width in zip(cells[1:], widths[1:],
                                                                 strict=True)]
        out.append((" " * indent + "  ".join(parts)).rstrip())
    return out


def _bar(fraction: float, width: int) -> str:
    return "#" * round(max(0.0, min(1.0, fraction)) * width)


def _section(title: str, note: str = "") -> list[str]:
    return ["", title, *(wrap(note, WIDTH, "  ") if note else [])]


def render_text(report: Report, lang: str) -> str:
    return "\n".join([*_header(report, lang), *_glance(report, lang), *_trends(report, lang),
                      *_flags(report, lang), *_misfires(report, lang),
                      *_staleness(report, lang), *_comparison(report, lang),
                      *_complaints(report, lang), *_examples(report, lang),
                      *_glossary(report, lang)]) + "\n"


def _header(report: Report, lang: str) -> list[str]:
    run = report.run
    out = [f"{phrase('title', lang)}  {phrase('run', lang)} {run.run_id}"]
    out += wrap(f"{phrase('as_of', lang)} {run.as_of} ({report.timezone}), "
                f"{phrase('finished', lang)} {run.finished_at}", WIDTH, "  ", "  ")
    out += wrap(f"{phrase('drop', lang)} {run.data_dir}, reconcile {run.reconcile_version}",
                WIDTH, "  ", "  ")
    out += wrap(w.previous_line(report, lang), WIDTH, "  ", "  ")
    out += wrap(w.pii_note(report, lang), WIDTH, "  ", "  ")
    for warning in run.warnings:
        out += wrap(f"{phrase('warning', lang)}: {warning}", WIDTH, "  ", "    ")
    return out


def _glance(report: Report, lang: str) -> list[str]:
    total = sum(c.count for c in report.verdicts)
    out = _section(phrase("glance", lang),
                   phrase("rows_and_fps", lang, rows=total, fps=report.false_positives))
    name_width = max(display_width(w.outcome_label(c.name, lang)) for c in report.verdicts)
    for c in report.verdicts:
        label = _fit(w.outcome_label(c.name, lang), name_width)
        out.append(f"  {label}  {c.count:>9}  {w.percent(c.share):>6}  "
                   f"{_bar(c.share, 30)}".rstrip())
    glance = report.glance
    if glance is None:
        return out
    out += ["", f"  {phrase('changes', lang)}"]
    out += table(w.movement_headers(lang), [w.movement_row(m, lang) for m in glance.movements])
    out += ["", f"  {phrase('worst_rules', lang)}"]
    out += wrap(phrase("worst_rules_note", lang, nights=len(glance.watched[0].recent_rates)
                       if glance.watched else 0), WIDTH, "  ")
    out += (table(w.watched_headers(lang), [w.watched_row(r, lang) for r in glance.watched])
            if glance.watched else [f"  {phrase('no_rules', lang)}"])
    out += ["", f"  {phrase('feed_health', lang)}"]
    out += table([phrase("guard", lang), phrase("status", lang)],
                 [[phrase(w.FEED_GUARD_PHRASES[f.flag], lang),
                   w.feed_status(f.held, f.enabled, lang)] for f in glance.feeds])
    return out


def _trends(report: Report, lang: str) -> list[str]:
    trends = report.trends
    if trends is None:
        return []
    nights = trends.nights[-w.TREND_TABLE_NIGHTS:]
    out = _section(phrase("trends", lang), phrase("trends_note", lang, nights=len(nights)))
    out += table([column("night", lang), column("messages", lang),
                  *(outcome_name(o, lang) for o in OUTCOMES),
                  column("rate", lang), column("median_hours", lang)],
                 [[n.night, str(n.messages), str(n.sent), str(n.held), str(n.blocked),
                   str(n.rejected), w.percent(n.false_positives / n.messages if n.messages
                                              else None),
                   "–" if n.median_age_hours is None else f"{n.median_age_hours:.1f}"]
                  for n in nights])
    for title, series in ((phrase("trend_rules", lang), trends.rules),
                          (phrase("trend_templates", lang), trends.templates)):
        top = trends.most_misfiring(series, 5)
        if not top:
            continue
        out += ["", f"  {title}"]
        out += table([column("rule" if series is trends.rules else "template", lang),
                      column("now", lang), column("median_7", lang), column("median_30", lang)],
                     [[w.key_shown(t.key), w.percent(t.rates[-1]), w.percent(t.median_rate(7)),
                       w.percent(t.median_rate(30))] for t in top])
    return out


def _flags(report: Report, lang: str) -> list[str]:
    out = _section(phrase("flags", lang), phrase("flags_note", lang))
    shown = [c for c in report.flags if c.count]
    out += table([column("flags", lang), column("messages", lang), column("share", lang)],
                 [[w.flag_label(c.name, lang), str(c.count), w.percent(c.share)]
                  for c in shown])
    if len(shown) < len(report.flags):
        out.append(f"  {phrase('flags_none', lang, count=len(report.flags) - len(shown))}")
    return out


def _misfires(report: Report, lang: str) -> list[str]:
    out: list[str] = []
    for title, noun, items in (("rules", "rule", report.rules),
                               ("templates", "template", report.templates)):
        out += _section(phrase(title, lang), phrase("fp_definition", lang) if noun == "rule"
                        else "")
        rows, more = w.shown(items)
        out += table(w.misfire_headers(noun, lang), [w.misfire_row(m) for m in rows])
        if more:
            out.append(f"  {phrase('more_rows', lang, count=more)}")
    return out


def _staleness(report: Report, lang: str) -> list[str]:
    out = _section(phrase("staleness", lang), phrase("staleness_note", lang))
    return out + table(
        [column("rule", lang), *report.staleness_buckets, column("median_hours", lang),
         column("max_hours", lang)],
        [[w.key_shown(s.rule_id), *(str(n) for n in s.buckets), f"{s.median_hours:.1f}",
          f"{s.max_hours:.1f}"] for s in report.staleness])


def _comparison(report: Report, lang: str) -> list[str]:
    out = _section(phrase("comparison", lang))
    if report.comparison is None:
        return [*out, f"  {phrase('no_previous', lang)}"]
    rows, unchanged = w.changed(report)
    out += wrap(w.previous_line(report, lang), WIDTH, "  ", "  ")
    out += table([column("measure", lang), column("previous", lang), column("now", lang),
                  column("change", lang)],
                 [[w.change_label(c, lang), str(c.previous), str(c.current), w.signed(c.delta)]
                  for c in rows])
    if unchanged:
        out += wrap(phrase("unchanged_flags", lang, count=unchanged), WIDTH, "  ")
    return out


def _complaints(report: Report, lang: str) -> list[str]:
    if report.complaints is None:
        return []
    out = _section(phrase("complaints", lang), f"{report.complaints_file}")
    for title, headers, rows, empty in report.complaints.tables(lang):
        out += ["", f"  {title}"]
        out += table(headers, rows, indent=4) if rows else [f"    {empty}"]
    out.append("")
    for note in report.complaints.notes(lang):
        out += wrap(note, WIDTH, "  ", "    ")
    return out


def _examples(report: Report, lang: str) -> list[str]:
    out = _section(phrase("examples", lang),
                   phrase("examples_note", lang, count=report.examples_per_flag))
    if not report.examples:
        return [*out, f"  {phrase('no_examples', lang)}"]
    current = None
    for example in report.examples:
        if example.flag != current:
            current = example.flag
            out.append(f"  {w.flag_label(example.flag, lang)}")
        out += _example(example, lang)
    return out


def _example(e: Example, lang: str) -> list[str]:
    lines = wrap(w.example_head(e, lang), WIDTH, "    ", "  ")
    facts = "; ".join(f"{label} {value}" for label, value in w.example_facts(e, lang))
    lines += wrap(facts, WIDTH, "      ", "  ")
    for part in e.evidence:
        lines += wrap(part, WIDTH, "      ", "  ")
    return lines


def _glossary(report: Report, lang: str) -> list[str]:
    out = _section(phrase("glossary", lang))
    for label, explanation in w.glossary(report, lang):
        out += wrap(f"{label}: {explanation}", WIDTH, "  ", "    ")
    return out
