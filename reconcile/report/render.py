"""Render a `Report` as text (80 columns), Markdown, one self-contained HTML file, or JSON.

Rendering only: every figure and every masked value comes from the `Report`. The HTML has
its CSS and its SVG charts inline and refers to nothing outside the file.
"""

from __future__ import annotations

import html
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

from reconcile.report.build import Change, Example, Misfire, Report, ReportError
from reconcile.safe_text import printable
from reconcile.schema import DEFAULT_VERDICT_POLICY, FLAGS

FORMATS: tuple[str, ...] = ("text", "markdown", "html", "json")
WIDTH = 80
# Rules and templates shown, worst first; the rest are counted in one line.
TOP = 10
NONE_KEY = "(none)"


def render(report: Report, fmt: str) -> str:
    renderers: dict[str, Callable[[Report], str]] = {
        "text": render_text, "markdown": render_markdown, "html": render_html,
        "json": render_json,
    }
    if fmt not in renderers:
        raise ReportError(f"unknown report format {fmt!r} (choose from {', '.join(FORMATS)})")
    # Ids, names and reasons come from the drop: no control code of theirs reaches a
    # terminal or a viewer (a JSON string keeps its value, as \u escapes).
    return printable(renderers[fmt](report), keep="\n")


def write_report(path: str | Path, text: str) -> None:
    """Write the report to path whole or not at all (a temporary file renamed into place)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ReportError(f"cannot write {path}: folder {folder} does not exist")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------------
# Shared wording


def _percent(fraction: float | None) -> str:
    return "–" if fraction is None else f"{100 * fraction:.1f}%"


def _signed(n: int) -> str:
    return f"{n:+d}"


def _key(key: str | None) -> str:
    return NONE_KEY if key is None else key


def _pii_note(report: Report) -> str:
    if report.run.personal_data == "pseudonymised":
        return "phones and names are pseudonymised (#… starts their keyed hash)"
    if report.pii_masked:
        return "phone numbers and names are masked (--show-pii shows them)"
    return "phone numbers and names are NOT masked (--show-pii)"


def _amount_days(amount: str | None, days: int | None) -> str:
    if amount is None and days is None:
        return "–"
    shown_days = "–" if days is None else f"{days} days"
    return f"{amount if amount is not None else '–'}, {shown_days}"


STALENESS_TITLE = "How stale the rules' data was"
STALENESS_NOTE = ("Hours from rule_evaluated_at to the run's as-of, per rule; STALE_DATA's "
                  "age clause starts above max_rule_age_hours (24 h by default).")


def _misfire_note(report: Report, noun: str) -> str:
    if noun == "rule":
        return report.false_positive_definition
    return "False positives and their rate are counted as for rules, per template."


def _shown(items: Sequence[Misfire]) -> tuple[Sequence[Misfire], int]:
    return items[:TOP], max(0, len(items) - TOP)


# ---------------------------------------------------------------------------------------
# Text


def _width(text: str) -> int:
    """Terminal columns: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int, right: bool = False) -> str:
    if _width(text) > width:
        cut = ""
        for ch in text:
            if _width(cut + ch) > width - 1:
                break
            cut += ch
        text = cut + "…"
    pad = " " * (width - _width(text))
    return pad + text if right else text + pad


def _wrap(text: str, width: int, indent: str, hang: str = "") -> list[str]:
    """Word-wrap by display width; a word longer than a line is cut."""
    lines: list[str] = []
    line = indent
    fresh = True
    for word in text.split():
        joiner = "" if fresh else " "
        if _width(line + joiner + word) <= width:
            line += joiner + word
            fresh = False
            continue
        if not fresh:
            lines.append(line)
            line, fresh = indent + hang, True
        while _width(line + word) > width:
            room = width - _width(line)
            lines.append(line + word[:room])
            word = word[room:]
            line = indent + hang
        line += word
        fresh = False
    if not fresh:
        lines.append(line)
    return lines


def _text_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
                indent: int = 2) -> list[str]:
    """First column left-aligned and shrunk to fit WIDTH; the others right-aligned."""
    widths = [max([_width(h), *(_width(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    rest = sum(widths[1:]) + 2 * (len(widths) - 1)
    widths[0] = max(8, min(widths[0], WIDTH - indent - rest))
    out = []
    for cells in [headers, *rows]:
        parts = [_fit(cells[0], widths[0])]
        parts += [_fit(c, w, right=True) for c, w in zip(cells[1:], widths[1:], strict=True)]
        out.append((" " * indent + "  ".join(parts)).rstrip())
    return out


def _bar(fraction: float, width: int) -> str:
    return "#" * round(max(0.0, min(1.0, fraction)) * width)


def _misfire_rows(items: Sequence[Misfire]) -> list[list[str]]:
    return [[_key(m.key), str(m.messages), str(m.blocked), str(m.held), str(m.false_positives),
             _percent(m.rate), _percent(m.previous_rate)] for m in items]


def _change_label(change: Change) -> str:
    return change.name if change.kind != "verdict" else f"verdict {change.name}"


def render_text(report: Report) -> str:
    run = report.run
    out = [f"reconcile morning report  run {run.run_id}"]
    out += _wrap(f"as of {run.as_of} ({report.timezone}), finished {run.finished_at}",
                 WIDTH, "  ", "  ")
    out += _wrap(f"drop {run.data_dir}, reconcile {run.reconcile_version}", WIDTH, "  ", "  ")
    if report.comparison:
        prev = report.comparison.previous
        out += _wrap(f"previous night: run {prev.run_id}, as of {prev.as_of}", WIDTH, "  ", "  ")
    else:
        out.append("  previous night: none recorded")
    out.append(f"  {_pii_note(report)}")
    for warning in run.warnings:
        out += _wrap(f"warning: {warning}", WIDTH, "  ", "    ")

    total = sum(c.count for c in report.verdicts)
    out += ["", f"Verdicts: {total} send_batch rows, {report.false_positives} false positives "
                "(block + hold)"]
    name_width = max(len(c.name) for c in report.verdicts)
    for c in report.verdicts:
        out.append(f"  {c.name:<{name_width}}  {c.count:>9}  {_percent(c.share):>6}  "
                   f"{_bar(c.share, 40)}".rstrip())

    out += ["", "Flags (a message counts under each flag it carries)"]
    name_width = max(len(c.name) for c in report.flags)
    top = max([c.count for c in report.flags] + [1])
    for c in report.flags:
        out.append(f"  {c.name:<{name_width}}  {c.count:>9}  {_percent(c.share):>6}  "
                   f"{_bar(c.count / top, 30)}".rstrip())

    for title, noun, items in (("Rules that misfire most", "rule", report.rules),
                               ("Templates that misfire most", "template", report.templates)):
        out += ["", title]
        out += _wrap(_misfire_note(report, noun), WIDTH, "  ", "")
        shown, more = _shown(items)
        out += _text_table([noun, "rows", "block", "hold", "false pos.", "rate", "previous"],
                           _misfire_rows(shown))
        if more:
            out.append(f"  … and {more} more {noun}s")

    out += ["", STALENESS_TITLE]
    out += _wrap(STALENESS_NOTE, WIDTH, "  ", "")
    out += _text_table(
        ["rule", *report.staleness_buckets, "median h", "max h"],
        [[_key(s.rule_id), *(str(n) for n in s.buckets), f"{s.median_hours:.1f}",
          f"{s.max_hours:.1f}"] for s in report.staleness],
    )

    out.append("")
    if report.comparison is None:
        out += ["Compared with the previous night", "  no earlier night is recorded"]
    else:
        prev = report.comparison.previous
        out.append("Compared with the previous night")
        out += _wrap(f"run {prev.run_id}, as of {prev.as_of}", WIDTH, "  ", "  ")
        out += _text_table(["measure", "previous", "now", "change"],
                           [[_change_label(c), str(c.previous), str(c.current),
                             _signed(c.delta)] for c in report.comparison.changes])

    out += ["", "Examples (up to 3 per flag, evidence as recorded)"]
    if not report.examples:
        out.append("  no message carries a flag")
    for flag in FLAGS:
        examples = report.examples_of(flag)
        if examples:
            out.append(f"  {flag}")
            for example in examples:
                out += _text_example(example)
    return "\n".join(out) + "\n"


def _text_example(e: Example) -> list[str]:
    who = "  ".join(v for v in (e.phone, e.borrower_name) if v)
    head = f"    {e.message_id or '(no id)'}  {e.verdict}  {who}  loan {e.loan_id or '–'}"
    lines = [head] if _width(head) <= WIDTH else _wrap(head, WIDTH, "    ", "  ")
    lines += _wrap(f"ledger {_amount_days(e.overdue_amount, e.days_past_due)}; claimed "
                   f"{_amount_days(e.claimed_overdue_amount, e.claimed_days_past_due)}",
                   WIDTH, "      ", "  ")
    for part in e.evidence:
        lines += _wrap(part, WIDTH, "      ", "  ")
    return lines


# ---------------------------------------------------------------------------------------
# Markdown


# Escaped in a value placed in Markdown: what would start markup (HTML, a link, an image,
# a code span) or end a table cell; & < > become entities, the others take a backslash.
_MD_SPECIAL = re.compile(r"[\\|`\[\]]")
# What starts a block (heading, list item, ordered item) at the start of a list item's text.
_MD_BLOCK_START = re.compile(r"^(\s*\d*)([#*+\-=.)])")
# A value shown as code as it is: nothing in it can end the code span or read as markup.
_MD_CODE_SAFE = re.compile(r"[^\\|`<>&\s]+")


def _md(text: str, line_start: bool = False) -> str:
    """A value from the data as Markdown text that shows it and nothing else."""
    text = html.escape(text.replace("\r", " ").replace("\n", " "), quote=False)
    text = _MD_SPECIAL.sub(lambda m: "\\" + m.group(), text)
    return _MD_BLOCK_START.sub(r"\1\\\2", text) if line_start else text


def _md_code(text: str) -> str:
    """`text` as code when nothing in it needs escaping, else as escaped text."""
    return f"`{text}`" if _MD_CODE_SAFE.fullmatch(text) else _md(text)


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
              right_from: int = 1, code_first: bool = False) -> list[str]:
    """A table of data values; with code_first the first column's are shown as code."""
    align = ["---" if i < right_from else "---:" for i in range(len(headers))]
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join(align) + "|"]
    out += ["| " + " | ".join(_md_code(c) if code_first and i == 0 else _md(c)
                              for i, c in enumerate(row)) + " |" for row in rows]
    return out


def render_markdown(report: Report) -> str:
    run = report.run
    out = [f"# reconcile morning report: run {_md_code(run.run_id)}", ""]
    out.append(f"- **as of** {run.as_of} ({_md(report.timezone)}); finished {run.finished_at}")
    out.append(f"- **drop** {_md_code(run.data_dir)}, reconcile {run.reconcile_version}")
    if report.comparison:
        prev = report.comparison.previous
        out.append(f"- **previous night** run {_md_code(prev.run_id)}, as of {prev.as_of}")
    else:
        out.append("- **previous night** none recorded")
    out.append(f"- {_pii_note(report)}")
    out += [f"- **warning** {_md(warning)}" for warning in run.warnings]

    total = sum(c.count for c in report.verdicts)
    out += ["", "## Verdicts", "",
            f"{total} send_batch rows, {report.false_positives} false positives (block + hold).",
            ""]
    out += _md_table(["verdict", "rows", "share"],
                     [[c.name, str(c.count), _percent(c.share)] for c in report.verdicts])
    out += ["", "## Flags", "", "A message counts under each flag it carries.", ""]
    out += _md_table(["flag", "messages", "share"],
                     [[c.name, str(c.count), _percent(c.share)] for c in report.flags],
                     code_first=True)

    for title, noun, items in (("Rules that misfire most", "rule", report.rules),
                               ("Templates that misfire most", "template", report.templates)):
        shown, more = _shown(items)
        out += ["", f"## {title}", "", _misfire_note(report, noun), ""]
        out += _md_table([noun, "rows", "block", "hold", "false positives", "rate",
                          "previous night"],
                         _misfire_rows(shown), code_first=True)
        if more:
            out += ["", f"… and {more} more {noun}s."]

    out += ["", f"## {STALENESS_TITLE}", "", STALENESS_NOTE, ""]
    out += _md_table(
        ["rule", *report.staleness_buckets, "median h", "max h"],
        [[_key(s.rule_id), *(str(n) for n in s.buckets), f"{s.median_hours:.1f}",
          f"{s.max_hours:.1f}"] for s in report.staleness],
        code_first=True,
    )

    out += ["", "## Compared with the previous night", ""]
    if report.comparison is None:
        out.append("No earlier night is recorded.")
    else:
        prev = report.comparison.previous
        out += [f"Run {_md_code(prev.run_id)}, as of {prev.as_of}.", ""]
        out += _md_table(["measure", "previous", "now", "change"],
                         [[_change_label(c), str(c.previous), str(c.current), _signed(c.delta)]
                          for c in report.comparison.changes])

    out += ["", "## Examples", "", "Up to 3 messages per flag, with their evidence."]
    for flag in FLAGS:
        examples = report.examples_of(flag)
        if not examples:
            continue
        out += ["", f"### `{flag}`", ""]
        for e in examples:
            out.append(f"- **{_md(e.message_id or '(no id)')}** {e.verdict} · "
                       f"{_md(e.phone or '–')} · {_md(e.borrower_name or '–')} · "
                       f"loan {_md_code(e.loan_id or '–')} · ledger "
                       f"{_amount_days(e.overdue_amount, e.days_past_due)} · claimed "
                       f"{_amount_days(e.claimed_overdue_amount, e.claimed_days_past_due)}")
            out += [f"  - {_md(part, line_start=True)}" for part in e.evidence]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------
# JSON


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"


# ---------------------------------------------------------------------------------------
# HTML: one file, inline CSS and SVG, no script, nothing fetched.

VERDICT_COLORS = {"send": "#2e7d32", "hold": "#e6a100", "block": "#c62828",
                  "rejected": "#6d6d6d"}
STALENESS_COLORS = ("#2e7d32", "#7cb342", "#e6a100", "#ef6c00", "#c62828")

CSS = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC",
"PingFang SC","Microsoft YaHei",sans-serif;color:#1d1d1f;background:#f4f5f7}
main{max-width:960px;margin:0 auto;padding:12px}
header.top{background:#1f2a44;color:#fff;border-radius:10px;padding:14px 16px;margin-bottom:12px}
header.top h1{margin:0 0 4px;font-size:1.25rem}
header.top p{margin:2px 0;font-size:.9rem;opacity:.9;overflow-wrap:anywhere}
header.top .pii{margin-top:6px;font-size:.8rem;opacity:.8}
section{background:#fff;border-radius:10px;padding:12px 14px;margin-bottom:12px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:1.1rem;margin:0 0 8px}
h3{font-size:1rem;margin:14px 0 6px}
p.note{font-size:.85rem;color:#555;margin:4px 0 8px}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:8px;
margin-bottom:10px}
.tile{border-radius:8px;padding:8px 10px;color:#fff}
.tile .n{display:block;font-size:1.6rem;font-weight:700;line-height:1.1}
.tile .l{font-size:.9rem}
.tile .s{float:right;font-size:.85rem;opacity:.9}
.tile.send{background:#2e7d32}.tile.hold{background:#b37d00}
.tile.block{background:#c62828}.tile.rejected{background:#6d6d6d}
svg{display:block;width:100%;height:auto}
svg text{font-size:13px;fill:#1d1d1f}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{padding:4px 6px;border-bottom:1px solid #e3e3e3;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
th{background:#f0f1f3;font-weight:600}
td.worse{color:#c62828;font-weight:600}td.better{color:#2e7d32;font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:.8rem;margin:6px 0}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px}
.example{border:1px solid #e3e3e3;border-left:4px solid #6d6d6d;border-radius:6px;
padding:8px 10px;margin:8px 0}
.example.block{border-left-color:#c62828}.example.hold{border-left-color:#e6a100}
.example .id{font-weight:600;overflow-wrap:anywhere}
.badge{display:inline-block;font-size:.75rem;color:#fff;border-radius:4px;padding:0 6px;
margin-left:6px;vertical-align:middle}
.badge.block{background:#c62828}.badge.hold{background:#b37d00}.badge.send{background:#2e7d32}
.example dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:6px 0;
font-size:.85rem}
.example dt{color:#666}.example dd{margin:0;overflow-wrap:anywhere}
.example ul{margin:4px 0 0;padding-left:18px;font-size:.85rem}
.example li{overflow-wrap:anywhere}
code{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.9em}
footer{font-size:.75rem;color:#777;text-align:center;padding:8px}
@media (max-width:480px){main{padding:8px}section{padding:10px}
table{font-size:.78rem}th,td{padding:3px 4px}}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _svg_bars(rows: Sequence[tuple[str, float, str, str]], label: str) -> str:
    """Horizontal bars: (label, fraction of the bar area, value text, colour) per row."""
    row_height, label_width, bar_width, width = 24, 150, 170, 400
    height = row_height * len(rows) + 4
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{_e(label)}">']
    for i, (name, fraction, value, color) in enumerate(rows):
        y = 2 + i * row_height
        length = max(0.0, min(1.0, fraction)) * bar_width
        parts.append(f'<text x="0" y="{y + 16}">{_e(name)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y + 4}" width="{bar_width}" height="16" '
                     'rx="3" fill="#eceef1"/>')
        if length:
            parts.append(f'<rect x="{label_width}" y="{y + 4}" width="{length:.1f}" '
                         f'height="16" rx="3" fill="{color}"/>')
        parts.append(f'<text x="{label_width + bar_width + 6}" y="{y + 16}">{_e(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _svg_stacked(rows: Sequence[tuple[str, Sequence[int]]], colors: Sequence[str],
                 label: str) -> str:
    """One 100% stacked bar per row: each segment a bucket's share of the row's total."""
    row_height, label_width, bar_width, width = 24, 150, 200, 400
    height = row_height * len(rows) + 4
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{_e(label)}">']
    for i, (name, counts) in enumerate(rows):
        y = 2 + i * row_height
        total = sum(counts) or 1
        parts.append(f'<text x="0" y="{y + 16}">{_e(name)}</text>')
        x = float(label_width)
        for count, color in zip(counts, colors, strict=True):
            length = bar_width * count / total
            if length:
                parts.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{length:.1f}" height="16" '
                             f'fill="{color}"/>')
            x += length
        parts.append(f'<text x="{label_width + bar_width + 6}" y="{y + 16}">'
                     f'{sum(counts)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
                classes: Sequence[Sequence[str]] | None = None) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cells = []
        for j, cell in enumerate(row):
            css = classes[i][j] if classes else ""
            cells.append(f'<td class="{css}">{_e(cell)}</td>' if css else f"<td>{_e(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _html_misfires(title: str, noun: str, items: Sequence[Misfire], report: Report,
                   anchor: str) -> str:
    shown, more = _shown(items)
    chart = _svg_bars([(_key(m.key), m.rate, f"{_percent(m.rate)} ({m.false_positives})",
                        "#c62828" if m.blocked else "#e6a100") for m in shown],
                      f"false-positive rate per {noun}")
    # The columns a phone shows without scrolling come first.
    table = _html_table([noun, "rate", "previous", "false pos.", "block", "hold", "rows"],
                        [[_key(m.key), _percent(m.rate), _percent(m.previous_rate),
                          str(m.false_positives), str(m.blocked), str(m.held), str(m.messages)]
                         for m in shown])
    tail = f'<p class="note">… and {more} more {noun}s.</p>' if more else ""
    return (f'<section id="{anchor}"><h2>{_e(title)}</h2>'
            f'<p class="note">{_e(_misfire_note(report, noun))}</p>'
            f"{chart if shown else ''}{table}{tail}</section>")


def _html_example(e: Example) -> str:
    fields = [("phone", e.phone or "–"), ("name", e.borrower_name or "–"),
              ("loan", e.loan_id or "–"),
              ("ledger", _amount_days(e.overdue_amount, e.days_past_due)),
              ("claimed", _amount_days(e.claimed_overdue_amount, e.claimed_days_past_due))]
    facts = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in fields)
    evidence = "".join(f"<li>{_e(part)}</li>" for part in e.evidence)
    return (f'<article class="example {_e(e.verdict)}"><div><span class="id">'
            f'{_e(e.message_id or "(no id)")}</span><span class="badge {_e(e.verdict)}">'
            f"{_e(e.verdict)}</span></div><dl>{facts}</dl><ul>{evidence}</ul></article>")


def _delta_class(change: Change) -> str:
    """`worse` or `better` where a rise is bad (false positives, hold, block, rejected, a
    flag); no colour for messages and send, whose change is neither good nor bad."""
    if change.delta == 0 or change.name in ("messages", "send"):
        return ""
    return "worse" if change.delta > 0 else "better"


def render_html(report: Report) -> str:
    run = report.run
    total = sum(c.count for c in report.verdicts)
    if report.comparison:
        prev = report.comparison.previous
        previous = f"previous night: run {prev.run_id}, as of {prev.as_of}"
    else:
        previous = "previous night: none recorded"
    header = (
        '<header class="top"><h1>reconcile morning report</h1>'
        f'<p>run <code id="run-id">{_e(run.run_id)}</code></p>'
        f"<p>as of {_e(run.as_of)} ({_e(report.timezone)}) · finished {_e(run.finished_at)}</p>"
        f"<p>drop {_e(run.data_dir)} · reconcile {_e(run.reconcile_version)}</p>"
        f"<p>{_e(previous)}</p>"
        f'<p class="pii">{_e(_pii_note(report))}</p>'
        + "".join(f'<p class="warning">warning: {_e(w)}</p>' for w in run.warnings)
        + "</header>"
    )

    tiles = "".join(
        f'<div class="tile {_e(c.name)}" id="verdict-{_e(c.name)}"><span class="n">{c.count}'
        f'</span><span class="l">{_e(c.name)}</span><span class="s">{_percent(c.share)}</span>'
        "</div>" for c in report.verdicts)
    verdicts = (
        f'<section id="verdicts"><h2>Verdicts</h2><p class="note">{total} send_batch rows, '
        f"{report.false_positives} false positives (block + hold).</p>"
        f'<div class="tiles">{tiles}</div>'
        + _svg_bars([(c.name, c.share, f"{c.count} ({_percent(c.share)})",
                      VERDICT_COLORS.get(c.name, "#6d6d6d")) for c in report.verdicts],
                    "messages by verdict")
        + "</section>"
    )

    top = max([c.count for c in report.flags] + [1])
    flags = (
        '<section id="flags"><h2>Flags</h2>'
        '<p class="note">A message counts under each flag it carries; bar colour = the '
        "flag's default verdict.</p>"
        + _svg_bars([(c.name, c.count / top, str(c.count),
                      VERDICT_COLORS[DEFAULT_VERDICT_POLICY.get(c.name, "hold")])
                     for c in report.flags], "messages by flag")
        + "</section>"
    )

    legend = "".join(f'<span><i style="background:{color}"></i>{_e(name)}</span>'
                     for name, color in zip(report.staleness_buckets, STALENESS_COLORS,
                                            strict=True))
    staleness = (
        f'<section id="staleness"><h2>{_e(STALENESS_TITLE)}</h2>'
        f'<p class="note">{_e(STALENESS_NOTE)}</p>'
        + (_svg_stacked([(_key(s.rule_id), s.buckets) for s in report.staleness],
                        STALENESS_COLORS, "rule data age by rule") if report.staleness else "")
        + f'<div class="legend">{legend}</div>'
        + _html_table(["rule", *report.staleness_buckets, "median h", "max h"],
                      [[_key(s.rule_id), *(str(n) for n in s.buckets), f"{s.median_hours:.1f}",
                        f"{s.max_hours:.1f}"] for s in report.staleness])
        + "</section>"
    )

    if report.comparison is None:
        comparison_body = '<p class="note">No earlier night is recorded.</p>'
    else:
        prev = report.comparison.previous
        changes = report.comparison.changes
        comparison_body = (
            f'<p class="note">Run {_e(prev.run_id)}, as of {_e(prev.as_of)}.</p>'
            + _html_table(
                ["measure", "previous", "now", "change"],
                [[_change_label(c), str(c.previous), str(c.current), _signed(c.delta)]
                 for c in changes],
                [["", "", "", _delta_class(c)] for c in changes])
        )
    comparison = (f'<section id="comparison"><h2>Compared with the previous night</h2>'
                  f"{comparison_body}</section>")

    example_parts = []
    for flag in FLAGS:
        examples = report.examples_of(flag)
        if examples:
            example_parts.append(f"<h3><code>{_e(flag)}</code></h3>"
                                 + "".join(_html_example(e) for e in examples))
    examples_html = (
        '<section id="examples"><h2>Examples</h2><p class="note">Up to 3 messages per flag, '
        "with their evidence.</p>"
        + ("".join(example_parts) or '<p class="note">No message carries a flag.</p>')
        + "</section>"
    )

    body = "".join([
        header, verdicts, flags,
        _html_misfires("Rules that misfire most", "rule", report.rules, report, "rules"),
        _html_misfires("Templates that misfire most", "template", report.templates, report,
                       "templates"),
        staleness, comparison, examples_html,
    ])
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>reconcile report {_e(run.run_id)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}<footer>reconcile {_e(run.reconcile_version)} · run "
        f"{_e(run.run_id)}</footer></main></body></html>\n"
    )
