"""Render a `Report` as text (80 columns), Markdown, one self-contained HTML file, or JSON,
in Chinese (zh-CN) or English (en); and write it to a file whole or not at all.

Rendering only: every figure and every masked value comes from the `Report`; every word
from reconcile.report.vocabulary. Each format has its module (text, markdown, page).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconcile import atomic
from reconcile.report.build import Report, ReportError
from reconcile.report.markdown import render_markdown
from reconcile.report.page import render_html
from reconcile.report.text import render_text
from reconcile.report.vocabulary import (
    COLUMN_TERMS,
    FLAG_TERMS,
    OUTCOME_TERMS,
    Term,
    check_language,
)
from reconcile.safe_text import printable

FORMATS: tuple[str, ...] = ("text", "markdown", "html", "json")


def render(report: Report, fmt: str, lang: str | None = None) -> str:
    """The report in format `fmt` and language `lang` (default: the run's report_language)."""
    renderers: dict[str, Callable[[Report, str], str]] = {
        "text": render_text, "markdown": render_markdown, "html": render_html,
        "json": render_json,
    }
    if fmt not in renderers:
        raise ReportError(f"unknown report format {fmt!r} (choose from {', '.join(FORMATS)})")
    lang = check_language(lang or report.run.language)
    # Ids, names and reasons come from the drop: no control code of theirs reaches a
    # terminal or a viewer (a JSON string keeps its value, as \u escapes).
    return printable(renderers[fmt](report, lang), keep="\n")


def render_json(report: Report, lang: str) -> str:
    """The report's figures with English keys, and the words for them in `lang`."""
    def words(terms: dict[str, Term]) -> dict[str, dict[str, str]]:
        return {key: {"name": t.name(lang), "explanation": t.explained(lang)}
                for key, t in terms.items()}

    document: dict[str, Any] = {
        **report.to_dict(), "language": lang,
        "glossary": {"flags": words(FLAG_TERMS), "verdicts": words(OUTCOME_TERMS),
                     "columns": words(COLUMN_TERMS)},
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def write_report(path: str | Path, text: str) -> None:
    """Write the report to path whole or not at all (reconcile.atomic.write_text)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ReportError(f"cannot write {path}: folder {folder} does not exist")
    atomic.write_text(path, text)
