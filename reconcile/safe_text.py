"""Text from the drop is data: shown escaped, never obeyed as a terminal control code.

An id or a message text may hold ESC sequences (colours, a cleared screen, a window title,
a hyperlink), a carriage return that overwrites the line before it, or a bidi override
that reorders what is shown. `printable` is applied where reconcile's output meets a
terminal or a rendered document; it leaves every other character as it is.

`display_width` is how many terminal columns a text takes, for the tables and the wrapped
lines of the text report and `reconcile query`.
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls, DEL, C1 controls (0x9b is CSI on some terminals), the line and paragraph
# separators, and the bidi embeddings, overrides, isolates and marks.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def printable(text: str, keep: str = "") -> str:
    r"""text with every control character shown as a visible escape, except those in keep.

    Tab, newline and carriage return become \t, \n and \r; any other one \u followed by
    its four hex digits (ESC is \u001b). Both are also valid escapes inside a JSON string,
    so a JSON document passed through here still parses, to the same values.
    """
    def escaped(match: re.Match[str]) -> str:
        char = match.group()
        if char in keep:
            return char
        return _SHORT.get(char) or f"\\u{ord(char):04x}"

    return _UNSAFE.sub(escaped, text)


def display_width(text: str) -> int:
    """Terminal columns text takes: East Asian wide and full-width characters take two, a
    combining mark (drawn on the character before it) none, any other character one."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in text if not unicodedata.combining(ch))
