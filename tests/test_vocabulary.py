"""The report's words (reconcile/report/vocabulary.py): every flag, verdict and column has a
name and a one-line explanation in both languages, and each phrase asks for the same fields
in both."""

from __future__ import annotations

import re
import string

import pytest

from reconcile.checks import FLAGS
from reconcile.config import REPORT_LANGUAGES
from reconcile.report.vocabulary import (
    COLUMN_TERMS,
    FLAG_TERMS,
    LANGUAGES,
    OUTCOME_TERMS,
    PHRASES,
    Term,
    flag_name,
    phrase,
)
from reconcile.schema import OUTCOMES

CJK = re.compile(r"[\u3400-\u9fff]")


def test_every_flag_and_outcome_has_words() -> None:
    assert list(FLAG_TERMS) == list(FLAGS)
    assert list(OUTCOME_TERMS) == list(OUTCOMES)
    assert LANGUAGES == REPORT_LANGUAGES


@pytest.mark.parametrize("term", [*FLAG_TERMS.values(), *OUTCOME_TERMS.values(),
                                  *COLUMN_TERMS.values()], ids=lambda t: t.en)
def test_each_term_is_said_in_both_languages(term: Term) -> None:
    assert CJK.search(term.zh) and CJK.search(term.zh_explained)
    for english in (term.en, term.en_explained):
        assert english.strip() and not CJK.search(english)
    # One line each: an explanation is a sentence, not a paragraph.
    for explanation in (term.zh_explained, term.en_explained):
        assert "\n" not in explanation and len(explanation) <= 160


def test_names_are_unique_within_a_language() -> None:
    for lang in LANGUAGES:
        names = [t.name(lang) for t in FLAG_TERMS.values()]
        assert len(names) == len(set(names)), lang


@pytest.mark.parametrize("key", list(PHRASES))
def test_a_phrase_asks_for_the_same_fields_in_both_languages(key: str) -> None:
    zh, en = PHRASES[key]
    fields = [{name for _, name, _, _ in string.Formatter().parse(text) if name}
              for text in (zh, en)]
    assert fields[0] == fields[1], key
    assert CJK.search(zh) or not CJK.search(en), key


def test_lookups() -> None:
    assert flag_name("NOT_OVERDUE", "zh-CN") == "未逾期"
    assert flag_name("NOT_OVERDUE", "en") == "Not overdue"
    # A flag from a newer history than this reconcile knows is shown as recorded.
    assert flag_name("SOME_NEW_FLAG", "zh-CN") == "SOME_NEW_FLAG"
    assert phrase("days", "zh-CN", days=3) == "3 天"
