"""The failure modes a drop can carry: their rates (`Rates`), what each one does
(`RATE_HELP`, for --help and the README), and reading `--rate NAME=R` options."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

from reconcile.errors import ConfigError


@dataclass(frozen=True)
class Rates:
    """Share of cases (about: of messages) given each failure mode; the rest are clean."""

    paid: float = 0.02
    stale: float = 0.03
    old_rule: float = 0.01
    clock_skew: float = 0.003
    not_due: float = 0.02
    grace: float = 0.015
    closed: float = 0.01
    risk_control: float = 0.015
    pending: float = 0.015
    wrong_amount: float = 0.02
    wrong_days: float = 0.015
    wrong_stage: float = 0.01
    borrower_mismatch: float = 0.01
    unknown_loan: float = 0.005
    unknown_template: float = 0.005
    ledger_invalid: float = 0.01
    rejected: float = 0.01
    # Optional ledger inputs (docs/inputs.md): collection pauses, a loan's own
    # min_overdue_amount, payments naming an installment. Near misses included too.
    paused: float = 0.01
    own_tolerance: float = 0.008
    allocated: float = 0.006
    # Contact policy and message content (docs/contact_checks.md). Each mode also makes
    # near-miss cases that must not be flagged (21:59, an expired flag, +86 written, ...).
    quiet_hours: float = 0.012
    frequency: float = 0.008
    duplicate: float = 0.008
    restricted: float = 0.01
    wrong_phone: float = 0.008
    wrong_name: float = 0.008
    wrong_text: float = 0.01
    components: float = 0.008
    prohibited: float = 0.008
    privacy: float = 0.008
    contact_invalid: float = 0.005

    @classmethod
    def zero(cls) -> Rates:
        return cls(**{name: 0.0 for name in RATE_NAMES})

    @property
    def total(self) -> float:
        return float(sum(getattr(self, name) for name in RATE_NAMES))

    def to_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in RATE_NAMES}


RATE_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Rates))

# What each failure mode does, for --help and the README.
RATE_HELP: dict[str, str] = {
    "paid": "paid in full before the rule ran; it claims the debt",
    "stale": "a payment or installment changed after the rule ran",
    "old_rule": "rule data over 24 h old (some exactly 24 h: fresh)",
    "clock_skew": "the rule claims to have run after as-of (some exactly at it: fine)",
    "not_due": "a delinquency rule picks a loan not yet due",
    "grace": "the rule ignores the loan's grace days",
    "closed": "the loan is closed (settled, or written off)",
    "risk_control": "a risk-control rule targets a loan not overdue",
    "pending": "a pending payment would clear the overdue amount",
    "wrong_amount": "claimed amount off by 0.02 or more",
    "wrong_days": "claimed days past due off by 2 or more",
    "wrong_stage": "a template for another days-past-due range",
    "borrower_mismatch": "the message names another borrower",
    "unknown_loan": "the loan is not in loans",
    "unknown_template": "the template is missing or its row unusable",
    "ledger_invalid": "a malformed loan, installment, payment or pause row",
    "rejected": "a malformed or repeated send_batch row",
    "paused": "a collection text inside a pause period (or a day outside it)",
    "own_tolerance": "the loan's own min_overdue_amount (overdue below, at or above it)",
    "allocated": "a payment names a later installment while an earlier one is unpaid",
    "quiet_hours": "sent at night local time (21:59/22:00, 07:59/08:00, other zones)",
    "frequency": "several messages a day to one borrower, with today's history",
    "duplicate": "the same borrower, loan and template queued again",
    "restricted": "a contact flag (opted out, dispute, ...) active, expired or not yet",
    "wrong_phone": "a number not the borrower's (or the same one written +86/0086/-)",
    "wrong_name": "another name (or the same one spaced or in pinyin)",
    "wrong_text": "the text states a wrong amount or days (or within tolerance)",
    "components": "the text states a wrong principal, interest, fee or penalty (or right)",
    "prohibited": "a threat or police/court term (or a harmless look-alike)",
    "privacy": "an ID or card number or an address in the text (or masked/invalid)",
    "contact_invalid": "a malformed send_history, borrowers or contact_flags row",
}


def parse_rates(rate_items: Iterable[str], base: Rates | None = None) -> Rates:
    """Rates from `NAME=R` items (`all=R` sets every rate first); checked, ConfigError if not."""
    values = (base or Rates()).to_dict()
    pairs = []
    for item in rate_items:
        name, sep, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or (name not in values and name != "all"):
            raise ConfigError(f"{item!r}: expected NAME=R with NAME one of all, "
                              + ", ".join(RATE_NAMES), parameter="rate_items")
        try:
            rate = float(text)
        except ValueError:
            raise ConfigError(f"{item!r}: {text!r} is not a number",
                              parameter="rate_items") from None
        if not 0 <= rate <= 1:
            raise ConfigError(f"{item!r}: a rate is between 0 and 1", parameter="rate_items")
        pairs.append((name, rate))
    for name, rate in sorted(pairs, key=lambda pair: pair[0] != "all"):
        if name == "all":
            values = dict.fromkeys(values, rate)
        else:
            values[name] = rate
    return check_rates(Rates(**values))


def check_rates(rates: Rates) -> Rates:
    """rates, if each is between 0 and 1 and they add up to at most 1; ConfigError if not."""
    for name in RATE_NAMES:
        rate = getattr(rates, name)
        if not 0 <= rate <= 1:
            raise ConfigError(f"rate {name} = {rate} is not between 0 and 1")
    if rates.total > 1 + 1e-9:
        raise ConfigError(f"the rates add up to {rates.total:g}, more than 1")
    return rates
