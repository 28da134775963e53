"""The check characters of the numbers the privacy cases write into message texts: an
18-character resident ID's (ISO 7064 MOD 11-2) and a bank card's (Luhn).

The generator's own copy: the oracle (reconcile.synth.reference) that later judges these
numbers keeps its own, so neither one's reading of the rules is taken on trust by the other.
"""

from __future__ import annotations

# The weights of a resident ID's first 17 digits, and the check character of each remainder.
RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECKS = "10X98765432"


def resident_id_check(body: str) -> str:
    """The check character that makes `body` (17 digits) a valid resident ID."""
    total = sum(int(d) * w for d, w in zip(body, RESIDENT_ID_WEIGHTS, strict=True))
    return RESIDENT_ID_CHECKS[total % 11]


def luhn_valid(digits: str) -> bool:
    """Whether a run of digits passes the Luhn check (its last digit the check digit)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0
