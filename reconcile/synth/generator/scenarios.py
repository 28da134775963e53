"""Which builder makes each scenario (a clean case, or one failure mode of rates.Rates), and
the drop's cases drawn one after another: a scenario at the rates, then its case built."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from reconcile.synth.generator import (
    clean_cases,
    contact_cases,
    content_cases,
    ledger_cases,
    pause_cases,
    rule_cases,
)
from reconcile.synth.generator.builder import Case, CaseBuilder
from reconcile.synth.generator.rates import RATE_NAMES, Rates
from reconcile.synth.generator.values import Values

SCENARIOS: dict[str, Callable[[CaseBuilder], None]] = {
    "clean": clean_cases.clean,
    "paid": ledger_cases.paid,
    "stale": ledger_cases.stale,
    "old_rule": rule_cases.old_rule,
    "clock_skew": rule_cases.clock_skew,
    "not_due": rule_cases.not_due,
    "grace": rule_cases.grace,
    "closed": ledger_cases.closed,
    "risk_control": rule_cases.risk_control,
    "pending": ledger_cases.pending,
    "wrong_amount": rule_cases.wrong_amount,
    "wrong_days": rule_cases.wrong_days,
    "wrong_stage": rule_cases.wrong_stage,
    "borrower_mismatch": rule_cases.borrower_mismatch,
    "unknown_loan": ledger_cases.unknown_loan,
    "unknown_template": rule_cases.unknown_template,
    "ledger_invalid": ledger_cases.ledger_invalid,
    "rejected": rule_cases.rejected,
    "paused": pause_cases.paused,
    "own_tolerance": ledger_cases.own_tolerance,
    "allocated": ledger_cases.allocated,
    "quiet_hours": contact_cases.quiet_hours,
    "frequency": contact_cases.frequency,
    "duplicate": contact_cases.duplicate,
    "restricted": contact_cases.restricted,
    "wrong_phone": contact_cases.wrong_phone,
    "wrong_name": contact_cases.wrong_name,
    "wrong_text": content_cases.wrong_text,
    "components": content_cases.components,
    "prohibited": content_cases.prohibited,
    "privacy": content_cases.privacy,
    "contact_invalid": contact_cases.contact_invalid,
}
# Every failure mode of Rates has its builder (listed in Rates' order).
if tuple(SCENARIOS) != ("clean", *RATE_NAMES):
    raise AssertionError("SCENARIOS must list clean, then every failure mode of Rates")


class CaseStream:
    """The cases of one drop, from one random stream (`values`), each to a message budget."""

    def __init__(self, seed: int, as_of: datetime, style: str, rates: Rates) -> None:
        self.values = Values(seed, as_of, style)
        self.modes = [name for name in RATE_NAMES if getattr(rates, name) > 0]
        self.weights = [getattr(rates, name) for name in self.modes]
        self.total = sum(self.weights)

    def next_case(self, budget: int) -> Case:
        """The next case, with at most `budget` messages."""
        rng = self.values.rng
        mode = "clean"
        if rng.random() < self.total:
            mode = rng.choices(self.modes, self.weights)[0]
        builder = CaseBuilder(self.values, budget)
        SCENARIOS[mode](builder)
        return builder.finish()
