"""The report as Markdown: every value from the data escaped so it shows and never marks up."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from reconcile.report import wording as w
from reconcile.report.build import Report
from reconcile.report.vocabulary import column, outcome_name, phrase
from reconcile.schema import OUTCOMES

# Escaped in a value placed in Markdown: what would start markup (HTML, a link, an image,
# a code span) or end a table cell; & < > become entities, the others take a backslash.
_MD_SPECIAL = re.compile(r"[\\|`\[\]]")
# What starts a block (heading, list item, ordered item) at the start of a list item's text.
_MD_BLOCK_START = re.compile(r"^(\s*\d*)([#*+\-=.)])")
# A value shown as code as it is: nothing in it can end the code span or read as markup.
_MD_CODE_SAFE = re.compile(r"[^\\|`<>&\s]+")


def md(text: str, line_start: bool = False) -> str:
    """A value from the data as Markdown text that shows it and nothing else."""
    text = html.escape(text.replace("\r", " ").replace("\n", " "), quote=False)
    text = _MD_SPECIAL.sub(lambda m: "\\" + m.group(), text)
    return _MD_BLOCK_START.sub(r"\1\\\2", text) if line_start else text


def md_code(text: str) -> str:
    """`text` as code when nothing in it needs escaping, else as escaped text."""
    return f"`{text}`" if _MD_CODE_SAFE.fullmatch(text) else md(text)


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
             right_from: int = 1, code_first: bool = False) -> list[str]:
    """A table of data values; with code_first the first column's are shown as code."""
    align = ["---" if i < right_from else "---:" for i in range(len(headers))]
    out = ["| " + " | ".join(md(h) for h in headers) + " |", "|" + "|".join(align) + "|"]
    out += ["| " + " | ".join(md_code(c) if code_first and i == 0 else md(c)
                              for i, c in enumerate(row)) + " |" for row in rows]
    return out


def render_markdown(report: Report, lang: str) -> str:
    return "\n".join([*_header(report, lang), *_glance(report, lang), *_trends(report, lang),
                      *_flags(report, lang), *_misfires(report, lang),
                      *_staleness(report, lang), *_comparison(report, lang),
                      *_complaints(report, lang), *_examples(report, lang),
                      *_glossary(report, lang)]) + "\n"


def _section(title: str, *notes: str, level: str = "##") -> list[str]:
    out = ["", f"{level} {title}"]
    for note in notes:
        out += ["", note]
    return [*out, ""]


def _header(report: Report, lang: str) -> list[str]:
    run = report.run
    out = [f"# {phrase('title', lang)}: {phrase('run', lang)} {md_code(run.run_id)}", ""]
    out.append(f"- **{phrase('as_of', lang)}** {run.as_of} ({md(report.timezone)}); "
               f"{phrase('finished', lang)} {run.finished_at}")
    out.append(f"- **{phrase('drop', lang)}** {md_code(run.data_dir)}, reconcile "
               f"{run.reconcile_version}")
    out.append(f"- {md(w.previous_line(report, lang))}")
    out.append(f"- {md(w.pii_note(report, lang))}")
    out += [f"- **{phrase('warning', lang)}** {md(warning)}" for warning in run.warnings]
    return out


def _glance(report: Report, lang: str) -> list[str]:
    total = sum(c.count for c in report.verdicts)
    out = _section(phrase("glance", lang),
                   phrase("rows_and_fps", lang, rows=total, fps=report.false_positives))
    out += md_table([column("verdict", lang), column("messages", lang), column("share", lang)],
                    [[w.outcome_label(c.name, lang), str(c.count), w.percent(c.share)]
                     for c in report.verdicts])
    glance = report.glance
    if glance is None:
        return out
    out += _section(phrase("changes", lang), level="###")
    out += md_table(w.movement_headers(lang),
                    [w.movement_row(m, lang) for m in glance.movements])
    out += _section(phrase("worst_rules", lang), level="###")
    out += (md_table(w.watched_headers(lang), [w.watched_row(r, lang) for r in glance.watched],
                     code_first=True)
            if glance.watched else [phrase("no_rules", lang)])
    out += _section(phrase("feed_health", lang), level="###")
    out += md_table([phrase("guard", lang), phrase("status", lang)],
                    [[phrase(w.FEED_GUARD_PHRASES[f.flag], lang),
                      w.feed_status(f.held, f.enabled, lang)] for f in glance.feeds],
                    right_from=2)
    return out


def _trends(report: Report, lang: str) -> list[str]:
    trends = report.trends
    if trends is None:
        return []
    nights = trends.nights[-w.TREND_TABLE_NIGHTS:]
    out = _section(phrase("trends", lang), phrase("trends_note", lang, nights=len(nights)))
    out += md_table([column("night", lang), column("messages", lang),
                     *(outcome_name(o, lang) for o in OUTCOMES),
                     column("rate", lang), column("median_hours", lang)],
                    [[n.night, str(n.messages), str(n.sent), str(n.held), str(n.blocked),
                      str(n.rejected),
                      w.percent(n.false_positives / n.messages if n.messages else None),
                      "–" if n.median_age_hours is None else f"{n.median_age_hours:.1f}"]
                     for n in nights])
    for title, noun, series in ((phrase("trend_rules", lang), "rule", trends.rules),
                                (phrase("trend_templates", lang), "template", trends.templates)):
        top = trends.most_misfiring(series, 5)
        if top:
            out += _section(title, level="###")
            out += md_table([column(noun, lang), column("now", lang), column("median_7", lang),
                             column("median_30", lang)],
                            [[w.key_shown(t.key), w.percent(t.rates[-1]),
                              w.percent(t.median_rate(7)), w.percent(t.median_rate(30))]
                             for t in top], code_first=True)
    return out


def _flags(report: Report, lang: str) -> list[str]:
    out = _section(phrase("flags", lang), phrase("flags_note", lang))
    shown = [c for c in report.flags if c.count]
    out += md_table([column("flags", lang), column("messages", lang), column("share", lang)],
                    [[w.flag_label(c.name, lang), str(c.count), w.percent(c.share)]
                     for c in shown])
    if len(shown) < len(report.flags):
        out += ["", phrase("flags_none", lang, count=len(report.flags) - len(shown))]
    return out


def _misfires(report: Report, lang: str) -> list[str]:
    out: list[str] = []
    for title, noun, items in (("rules", "rule", report.rules),
                               ("templates", "template", report.templates)):
        notes = [phrase("fp_definition", lang)] if noun == "rule" else []
        out += _section(phrase(title, lang), *notes)
        rows, more = w.shown(items)
        out += md_table(w.misfire_headers(noun, lang), [w.misfire_row(m) for m in rows],
                        code_first=True)
        if more:
            out += ["", phrase("more_rows", lang, count=more)]
    return out


def _staleness(report: Report, lang: str) -> list[str]:
    out = _section(phrase("staleness", lang), phrase("staleness_note", lang))
    return out + md_table(
        [column("rule", lang), *report.staleness_buckets, column("median_hours", lang),
         column("max_hours", lang)],
        [[w.key_shown(s.rule_id), *(str(n) for n in s.buckets), f"{s.median_hours:.1f}",
          f"{s.max_hours:.1f}"] for s in report.staleness],
        code_first=True)


def _comparison(report: Report, lang: str) -> list[str]:
    out = _section(phrase("comparison", lang))
    if report.comparison is None:
        return [*out, phrase("no_previous", lang)]
    rows, unchanged = w.changed(report)
    out += [md(w.previous_line(report, lang)), ""]
    out += md_table([column("measure", lang), column("previous", lang), column("now", lang),
                     column("change", lang)],
                    [[w.change_label(c, lang), str(c.previous), str(c.current),
                      w.signed(c.delta)] for c in rows])
    if unchanged:
        out += ["", phrase("unchanged_flags", lang, count=unchanged)]
    return out


def _complaints(report: Report, lang: str) -> list[str]:
    if report.complaints is None:
        return []
    out = _section(phrase("complaints", lang), md(f"{report.complaints_file}"))
    for title, headers, rows, empty in report.complaints.tables(lang):
        out += _section(title, level="###")
        out += md_table(headers, rows) if rows else [md(empty)]
    return [*out, "", *(f"- {md(note)}" for note in report.complaints.notes(lang))]


def _examples(report: Report, lang: str) -> list[str]:
    out = _section(phrase("examples", lang),
                   phrase("examples_note", lang, count=report.examples_per_flag))
    if not report.examples:
        return [*out, phrase("no_examples", lang)]
    current = None
    for e in report.examples:
        if e.flag != current:
            current = e.flag
            out += ["", f"### {md(w.flag_label(e.flag, lang))}", ""]
        facts = " · ".join(f"{md(label)} {md(value)}" for label, value in w.example_facts(e, lang))
        out.append(f"- **{md(w.example_head(e, lang))}** {facts}")
        out += [f"  - {md(part, line_start=True)}" for part in e.evidence]
    return out


def _glossary(report: Report, lang: str) -> list[str]:
    out = _section(phrase("glossary", lang))
    return out + [f"- **{md(label)}**: {md(explanation)}"
                  for label, explanation in w.glossary(report, lang)]
