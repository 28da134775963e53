"""The messages a rule plans: the days past due it targets, its claims (what it saw in the
ledger when it ran), the template and rule of that stage, and the message text."""

from __future__ import annotations

import random
from datetime import date, datetime
from decimal import Decimal

from reconcile.synth.generator.layout import Row
from reconcile.synth.generator.ledger import ZERO, Borrower, Loan, overdue_view
from reconcile.synth.generator.lender import BATCH_SUFFIX, stage_of
from reconcile.synth.generator.values import Values
from reconcile.synth.generator.wording import (
    COLLECTION_VARIANTS,
    LENDER,
    OPT_OUT_SUFFIXES,
    WORDING,
)


def dpd_target(rng: random.Random, grace: int) -> int:
    """The days past due of a loan a delinquency rule picks: mostly the first stage, now and
    then a stage's edge or the first day past grace."""
    if grace and rng.random() < 0.1:
        return grace + 1  # the first day past grace
    bucket = rng.random()
    if bucket < 0.5:
        low, high = 1, 30
    elif bucket < 0.7:
        low, high = 31, 60
    elif bucket < 0.82:
        low, high = 61, 90
    else:
        low, high = 91, 240
    if rng.random() < 0.06:  # a stage edge
        return max(grace + 1, rng.choice((low, high)))
    return max(grace + 1, rng.randint(low, high))


def claims_choice(rng: random.Random) -> str:
    """Which claims a message carries: both (mostly), the amount, the days, or none."""
    u = rng.random()
    return "none" if u < 0.1 else "amount" if u < 0.13 else "days" if u < 0.15 else "both"


def message_text(rng: random.Random, pattern: str, name: str, amount: Decimal, days: int,
                 due: date | None = None) -> str:
    """A message text; now and then with an opt-out suffix (as Chinese SMS carry)."""
    text = pattern.format(lender=LENDER, name=name, amount=f"{amount:,.2f}", days=days,
                          day_word="day" if days == 1 else "days",
                          due=f"{due.month}月{due.day}日" if due else "近日")
    if rng.random() < 0.3:
        text += (" Reply STOP to opt out." if text.startswith("[")
                 else rng.choice(OPT_OUT_SUFFIXES))
    return text


def message_row(values: Values, loan_id: str, borrower: Borrower, template: str, rule: str,
                r: datetime, s: datetime, amount: Decimal | None, days: int | None,
                wording: str, stated: tuple[Decimal, int] | None = None,
                due: date | None = None) -> Row:
    """A send_batch row: rule `rule` ran at r and planned the message for s, claiming amount
    and days (None: not claimed); its text, in `wording`, states `stated` (default: the
    claims)."""
    rng = values.rng
    stated_amount, stated_days = stated or (amount or ZERO, days or 0)
    pattern = WORDING[wording]
    if wording == "collection" and rng.random() < 0.12:
        pattern = rng.choice(COLLECTION_VARIANTS)
    text = message_text(rng, pattern, borrower.name, stated_amount, stated_days, due)
    return {
        "message_id": values.message_id(),
        "borrower_id": borrower.borrower_id,
        "loan_id": loan_id,
        "phone": borrower.phone,
        "template_id": template,
        "rule_id": rule,
        "rule_evaluated_at": values.render(r),
        "scheduled_at": values.render(s),
        "claimed_overdue_amount": None if amount is None else values.amount(amount),
        "claimed_days_past_due": None if days is None else str(days),
        "borrower_name": borrower.name,
        "message_text": text,
        "batch_id": f"CS{values.batch_day}-{BATCH_SUFFIX.get(rule, 'X')}",
    }


def collection_row(values: Values, loan: Loan, r: datetime, s: datetime, *,
                   rule: str | None = None, template: str | None = None,
                   grace: int | None = None, claims: str = "both") -> Row:
    """A collection message whose claims are what the rule saw at r (with `grace` days, by
    default the loan's); its template and rule are the stage of that dpd unless given."""
    d_s = s.astimezone(values.tz).date()
    amount, days = overdue_view(loan, r, d_s, grace)
    _, stage_template, stage_rule = stage_of(days)
    template = template or stage_template
    rule = rule or stage_rule
    wording = "escalation" if template == "TPL_ESC_M4" else "collection"
    return message_row(values, loan.loan_id, loan.borrower, template, rule, r, s,
                       amount if claims in ("both", "amount") else None,
                       days if claims in ("both", "days") else None, wording,
                       stated=(amount, days))
