"""How a message text is read (terms, amounts, labelled amount components, days, private
data) and the content flags."""

from __future__ import annotations

import re
from decimal import Decimal

from reconcile.synth.reference.contract import Settings
from reconcile.synth.reference.ledger import AMOUNT_LIMIT, COMPONENTS, Template
from reconcile.synth.reference.truth import Truth

# How texts are compared (docs/contact_checks.md).

# Simplified -> traditional, for the characters of the default terms and exceptions (and a
# few more a collection text may use); characters written alike in both are absent.
TRADITIONAL_OF = {
    "传": "傳", "讯": "訊", "录": "錄", "单": "單", "联": "聯", "系": "繫", "责": "責",
    "门": "門", "罚": "罰", "办": "辦", "补": "補", "偿": "償", "诉": "訴", "讼": "訟",
    "监": "監", "狱": "獄", "亲": "親", "属": "屬", "债": "債", "务": "務", "执": "執",
}


def traditional_form(text: str) -> str:
    return "".join(TRADITIONAL_OF.get(c, c) for c in text)


def _forms(phrase: str) -> set[str]:
    simplified = phrase.strip().lower()
    return {simplified, traditional_form(simplified)}


def _is_word_char(char: str) -> bool:
    """A word character of ASCII \\b: [0-9A-Za-z_]."""
    return char.isascii() and (char.isalnum() or char == "_")


def _remove_phrases(text: str, phrases: set[str]) -> str:
    """text without any occurrence of phrases, leftmost first, the longest at a position."""
    longest_first = sorted((p for p in phrases if p), key=len, reverse=True)
    kept, i = [], 0
    while i < len(text):
        found = next((p for p in longest_first if text.startswith(p, i)), None)
        if found:
            i += len(found)
        else:
            kept.append(text[i])
            i += 1
    return "".join(kept)


def _contains_term(text: str, form: str) -> bool:
    """A Latin (all-ASCII) term as a whole word (ASCII word boundaries); any other as is."""
    if not form.isascii():
        return form in text
    start = text.find(form)
    while start >= 0:
        end = start + len(form)
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        left = _is_word_char(before) != _is_word_char(form[0])
        right = _is_word_char(form[-1]) != _is_word_char(after)
        if left and right:
            return True
        start = text.find(form, start + 1)
    return False


def prohibited_terms_found(text: str, settings: Settings) -> list[str]:
    lower = text.lower()
    exceptions: set[str] = set()
    for phrase in settings.prohibited_term_exceptions:
        exceptions |= _forms(phrase)
    rest = _remove_phrases(lower, exceptions)
    return [term for term in settings.prohibited_terms
            if any(_contains_term(rest, form) for form in _forms(term) if form)]


# Amounts: a number (1234.56 or 1,234.56) with a currency before it or 元 after it. A
# number is read as a whole run of digits joined by single commas or points, so digits
# that run on (1234.567元) make a run that is not an amount.
NUMBER_RUN = re.compile(r"[0-9]+(?:[.,][0-9]+)*")
AMOUNT_SHAPE = re.compile(r"(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]{1,2})?")
CURRENCY_BEFORE = ("¥", "￥", "RMB", "CNY", "$")
DAYS_PATTERNS = (
    re.compile(r"逾期 *([0-9]+) *[天日]"),
    re.compile(r"(?<![0-9])([0-9]+) +days? +(?:overdue|past +due)", re.IGNORECASE),
    re.compile(r"overdue +(?:by|for) +([0-9]+) +days?", re.IGNORECASE),
)


def stated_amounts(text: str) -> list[Decimal]:
    amounts = []
    for run in NUMBER_RUN.finditer(text):
        if not AMOUNT_SHAPE.fullmatch(run.group()):
            continue
        before = text[:run.start()].rstrip(" ")
        after = text[run.end():].lstrip(" ")
        if before.endswith(CURRENCY_BEFORE) or after.startswith("元"):
            amounts.append(Decimal(run.group().replace(",", "")))
    return amounts


# docs/contact_checks.md: a LABELLED amount (本金 500元, interest: ¥12.50, late fee of $3).
# Written with explicit ASCII classes, not Python's Unicode \s and \b, to read exactly as
# RE2 does: its \s is [\t\n\f\r ] and its word boundaries are ASCII. Each component's
# labels sit in its named group, longer alternatives first (leftmost-first, as RE2's
# alternation).
_S = r"[\t\n\f\r ]"
# RE2's (?i) folds a letter to its two ASCII cases and s also to ſ (U+017F), k to the
# Kelvin sign (U+212A); Python's IGNORECASE folds i to İ and ı as well, so the case-blind
# classes are spelt out here rather than left to Python.
_RE2_EXTRA_FOLDS = {"s": "\u017f", "k": "\u212a"}
_WORD_CHAR = "[0-9A-Za-z_]"  # RE2's \b is between an ASCII word character and another


def _re2_caseless(phrase: str) -> str:
    """A case-blind pattern of an English phrase, its spaces standing for ASCII white space."""
    words = ["".join(f"[{c}{c.upper()}{_RE2_EXTRA_FOLDS.get(c, '')}]" for c in word)
             for word in phrase.split(" ")]
    return f"{_S}+".join(words)


def _at_word_start(label: str) -> str:
    """An English label after RE2's \\b: its first letter in an ASCII case where no ASCII
    word character precedes it; in its other fold (ſ, not a word character itself) only
    where one does, as \\b then demands."""
    first = label[0]
    start = f"(?<!{_WORD_CHAR})[{first}{first.upper()}]"
    if first in _RE2_EXTRA_FOLDS:
        start = f"(?:{start}|(?<={_WORD_CHAR}){_RE2_EXTRA_FOLDS[first]})"
    return start + _re2_caseless(label[1:])


def _english(*labels: str) -> str:
    return "(?:" + "|".join(_at_word_start(label) for label in labels) + ")"


LABELLED_AMOUNT = re.compile(
    "(?:"
    f"(?P<principal>本金|{_english('principal')})"
    f"|(?P<interest>利息|{_english('interest')})"
    f"|(?P<fee>服务费|{_english('service fee')})"
    f"|(?P<penalty>罚息|违约金|滞纳金|{_english('penalty interest', 'penalty', 'late fee')})"
    ")"
    f"{_S}*(?:[:：]{_S}*)?(?:{_re2_caseless('of')}{_S}+|为{_S}*|是{_S}*)?"  # the gap
    rf"(?:(?:¥|￥|RMB|CNY|\$){_S}*)?"  # the currency
    "(?P<number>[0-9]+(?:[.,][0-9]+)*)"  # the whole number run (greedy)
    f"(?:{_S}*元)?"
)
PERCENT_SIGNS = ("%", "％")


def stated_components(text: str) -> list[tuple[str, Decimal | None]]:
    """(component, value) of every labelled amount the text states; value None when the
    number is too large to be an amount (>= 10^16: it mismatches, as a plain one does). A
    labelled number that is not of amount shape, or is a percentage, states nothing."""
    found: list[tuple[str, Decimal | None]] = []
    for match in LABELLED_AMOUNT.finditer(text):
        number = match.group("number")
        percentage = text.startswith(PERCENT_SIGNS, match.end("number"))
        if percentage or not AMOUNT_SHAPE.fullmatch(number):
            continue
        component = next(c for c in COMPONENTS if match.group(c) is not None)
        value = Decimal(number.replace(",", ""))
        found.append((component, value if value < AMOUNT_LIMIT else None))
    return found


def without_labelled_amounts(text: str) -> str:
    """docs/contact_checks.md: every labelled match (stating an amount or not) replaced by
    "|", so that the plain-amount reader never reads a labelled number again."""
    return LABELLED_AMOUNT.sub("|", text)


def stated_days(text: str) -> list[int]:
    return [int(match.group(1)) for pattern in DAYS_PATTERNS
            for match in pattern.finditer(text)]


RESIDENT_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
GROUPED_DIGITS = re.compile(r"[0-9]+(?:[ -][0-9]+)*")
# docs/contact_checks.md, "How text is read": a Han character before the street word; a
# building number; 1-5 digits and 1-3 capitalised words before an English street word.
# Word boundaries and white space are ASCII ones, as in RE2.
CN_ADDRESS = (re.compile(r"[\u4e00-\u9fff](?:路|街|大道|道|巷|弄|胡同)[0-9]+号"),
              re.compile(r"[0-9]+(?:号楼|栋|幢)[0-9]+(?:室|单元)"))
_ASCII_SPACE = "[\t\n\f\r ]+"
EN_ADDRESS = re.compile(
    rf"(?<![0-9A-Za-z_])[0-9]{{1,5}}{_ASCII_SPACE}(?:[A-Z][a-z]*{_ASCII_SPACE}){{1,3}}"
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr)(?![0-9A-Za-z_])")


def valid_resident_id(number: str) -> bool:
    """ISO 7064 MOD 11-2: the 18th character checks the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(number[:17], ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17]


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def privacy_leaks(text: str) -> list[str]:
    found = []
    if any(valid_resident_id(m.group()) for m in RESIDENT_ID.finditer(text)):
        found.append("resident ID number")
    for run in GROUPED_DIGITS.finditer(text):
        digits = run.group().replace(" ", "").replace("-", "")
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            found.append("bank card number")
            break
    if any(p.search(text) for p in CN_ADDRESS) or EN_ADDRESS.search(text):
        found.append("street address")
    return found


def amount_mismatches(stated: Decimal | None, true: Decimal, settings: Settings) -> bool:
    """A stated amount differs by more than amount_tolerance, or is too large to be an
    amount at all (the engine reads it as NULL, which mismatches)."""
    return (stated is None or stated >= AMOUNT_LIMIT
            or abs(stated - true) > settings.amount_tolerance)


def content_mismatch(text: str, t: Truth | None, template: Template | None,
                     settings: Settings) -> bool:
    """Stated days overdue are read in every text; stated amounts and labelled components
    only in collection and escalation texts (a reminder states the coming bill, not an
    overdue amount)."""
    if t is None:
        return False
    if any(abs(n - t.days_past_due) > settings.dpd_tolerance for n in stated_days(text)):
        return True
    if template is None or template[0] not in ("collection", "escalation"):
        return False
    plain = stated_amounts(without_labelled_amounts(text))
    return (any(amount_mismatches(a, t.overdue_amount, settings) for a in plain)
            or any(amount_mismatches(v, t.overdue_components[c], settings)
                   for c, v in stated_components(text)))


def missing_opt_out(text: str, settings: Settings) -> bool:
    lower = text.lower()
    return settings.require_opt_out and not any(
        phrase.lower() in lower for phrase in settings.opt_out_phrases)
