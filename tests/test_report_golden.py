"""Golden reports: the hand-written history (tests/history_db.py, run N2) rendered as text,
Markdown and JSON in each language must match tests/fixtures/report_golden/ byte for byte.

A change to the report's wording or layout shows here as a diff to read; when it is meant,
`UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_report_golden.py` writes the files again.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from history_db import build_history

from reconcile.report.build import build_report
from reconcile.report.render import render

GOLDEN = Path(__file__).parent / "fixtures" / "report_golden"
SUFFIXES = {"text": "txt", "markdown": "md", "json": "json"}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_history(tmp_path_factory.mktemp("golden") / "history.duckdb")


@pytest.mark.parametrize("fmt", list(SUFFIXES))
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_report_matches_its_golden_file(db: Path, fmt: str, lang: str) -> None:
    rendered = render(build_report(db), fmt, lang)
    golden = GOLDEN / f"report.{lang}.{SUFFIXES[fmt]}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8")


def test_the_languages_differ_only_in_words(db: Path) -> None:
    """Both languages carry the same figures: the JSON reports differ in their glossary and
    language alone."""
    import json

    zh, en = (json.loads(render(build_report(db), "json", lang)) for lang in ("zh-CN", "en"))
    for document in (zh, en):
        document.pop("glossary")
        document.pop("language")
    assert zh == en
