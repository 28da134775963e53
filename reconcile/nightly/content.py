"""Term lists of the content checks, as the regular expressions the SQL checks use.

The settings name terms and phrases in plain words; DuckDB (RE2) gets one alternation per
list. Each prohibited term is also matched in its traditional-Chinese form, made with the
character table below, so a lender adding a term adds both forms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Simplified → traditional, for the characters of the default terms and other words a
# collection text is likely to use. Characters written the same way in both are absent.
TRADITIONAL: dict[str, str] = {
    "传": "傳", "讯": "訊", "录": "錄", "单": "單", "联": "聯", "系": "繫", "责": "責", "门": "門",
    "罚": "罰", "监": "監", "狱": "獄", "诉": "訴", "讼": "訟", "们": "們", "亲": "親", "属": "屬",
    "对": "對", "账": "賬", "债": "債", "务": "務", "执": "執", "档": "檔", "报": "報", "纸": "紙",
    "网": "網", "络": "絡", "员": "員", "关": "關", "坏": "壞", "杀": "殺", "灭": "滅", "骗": "騙",
    "贼": "賊", "处": "處", "国": "國", "检": "檢", "书": "書", "给": "給", "让": "讓", "难": "難",
    "烦": "煩", "办": "辦", "补": "補", "偿": "償",
}

# A pattern that matches nothing: an empty list must find no term.
NEVER = "$.^"


def traditional(text: str) -> str:
    return "".join(TRADITIONAL.get(char, char) for char in text)


def term_forms(term: str) -> tuple[str, ...]:
    """The lower-cased term, and its traditional form when that differs."""
    simplified = term.strip().lower()
    forms = (simplified, traditional(simplified))
    return tuple(dict.fromkeys(forms))


def _term_pattern(form: str) -> str:
    # Terms written in ASCII match whole words only ("police" is not in "policy").
    escaped = re.escape(form)
    return rf"\b{escaped}\b" if form.isascii() else escaped


def alternation(phrases: Iterable[str], *, with_forms: bool = False, words: bool = False) -> str:
    """One case-insensitive RE2 pattern matching any of phrases, longest first."""
    forms = {form for phrase in phrases
             for form in (term_forms(phrase) if with_forms else (phrase.strip().lower(),))}
    ordered = sorted(forms, key=lambda f: (-len(f), f))
    parts = [_term_pattern(f) if words else re.escape(f) for f in ordered]
    # Case folding in the pattern, not lower() on every text: most texts never match.
    return "(?i)" + "|".join(parts) if parts else NEVER


def content_patterns(prohibited_terms: Iterable[str], exceptions: Iterable[str],
                     opt_out_phrases: Iterable[str]) -> dict[str, str]:
    """Macro name → RE2 pattern, for the content checks in sql/nightly/checks/."""
    return {
        "prohibited_terms_pattern": alternation(prohibited_terms, with_forms=True, words=True),
        "prohibited_exceptions_pattern": alternation(exceptions, with_forms=True),
        "opt_out_pattern": alternation(opt_out_phrases),
    }
