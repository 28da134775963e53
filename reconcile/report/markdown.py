"""The report as Markdown: every value from the data escaped so it shows and never marks up."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from reconcile.report import outline
from reconcile.report import wording as w
from reconcile.report.build import Report
from reconcile.report.vocabulary import phrase

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
    out = _header(report, lang)
    for section in outline.sections(report, lang):
        out += _section(section)
    return "\n".join([*out, *_examples(report, lang), *_glossary(report, lang)]) + "\n"


def _section(section: outline.Section) -> list[str]:
    out = ["", f"## {md(section.title)}"]
    for part in section.parts:
        if isinstance(part, str):
            out += ["", md(part)]
        elif part.rows or part.empty:
            out += ["", f"### {md(part.title)}"] if part.title else []
            out += [""] + (md_table(part.headers, part.rows, code_first=part.keys)
                           if part.rows else [md(part.empty)])
    return out


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


def _section_title(title: str, note: str = "") -> list[str]:
    return ["", f"## {md(title)}", *(["", md(note)] if note else []), ""]


def _examples(report: Report, lang: str) -> list[str]:
    out = _section_title(phrase("examples", lang),
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
    out = _section_title(phrase("glossary", lang))
    return out + [f"- **{md(label)}**: {md(explanation)}"
                  for label, explanation in w.glossary(report, lang)]
