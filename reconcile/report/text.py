"""The report as plain text for a terminal: 80 display columns, Chinese counted as two."""

from __future__ import annotations

from collections.abc import Sequence

from reconcile.report import outline
from reconcile.report import wording as w
from reconcile.report.build import Example, Report
from reconcile.report.vocabulary import phrase
from reconcile.safe_text import display_width

WIDTH = 80


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


def render_text(report: Report, lang: str) -> str:
    out = _header(report, lang)
    for section in outline.sections(report, lang):
        out += _section(section)
    return "\n".join([*out, *_examples(report, lang), *_glossary(report, lang)]) + "\n"


def _section(section: outline.Section) -> list[str]:
    out = ["", section.title]
    for part in section.parts:
        if isinstance(part, str):
            out += wrap(part, WIDTH, "  ")
        elif part.rows or part.empty:
            out += [""] + ([f"  {part.title}"] if part.title else [])
            out += table(part.headers, part.rows) if part.rows else [f"  {part.empty}"]
    return out


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


def _section_title(title: str, note: str = "") -> list[str]:
    return ["", title, *(wrap(note, WIDTH, "  ") if note else [])]


def _examples(report: Report, lang: str) -> list[str]:
    out = _section_title(phrase("examples", lang),
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
    out = _section_title(phrase("glossary", lang))
    for label, explanation in w.glossary(report, lang):
        out += wrap(f"{label}: {explanation}", WIDTH, "  ", "    ")
    return out
