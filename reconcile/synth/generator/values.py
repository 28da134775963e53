"""One drop's random streams and the single values drawn from them: the night's timing
(send day, when each rule family ran), ids, names and phones, times rendered in the drop's
timestamp style, amounts as text."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from reconcile.synth.generator.layout import TIMEZONE
from reconcile.synth.generator.ledger import Borrower
from reconcile.synth.generator.lender import RULE_NOT_LISTED, RULES
from reconcile.synth.generator.wording import GIVEN, SURNAMES


class Values:
    """Every value of a drop's data is drawn from `rng`, case after case, so one seed gives
    one drop. Every time is made in TIMEZONE."""

    def __init__(self, seed: int, as_of: datetime, style: str) -> None:
        self.rng = random.Random(seed)
        # Mixed timestamp shapes (and amounts' trailing zeros) come from their own stream, so
        # the data do not depend on them.
        self.shape_rng = random.Random(f"{seed}/timestamp-shapes")
        self.tz = ZoneInfo(TIMEZONE)
        self.as_of = as_of.astimezone(self.tz)
        self.style = style
        local = self.as_of
        self.send_day = local.date() if local.hour < 8 else local.date() + timedelta(days=1)
        self.batch_day = f"{self.send_day:%Y%m%d}"
        # One nightly job per rule family: delinquency rules, reminders, risk control.
        delinquency, remind, risk = (self.as_of - timedelta(minutes=self.rng.randint(90, 330))
                                     for _ in range(3))
        self.rule_runs = {rule: risk if category == "risk_control" else
                          remind if category == "reminder" else delinquency
                          for rule, category in [*RULES, (RULE_NOT_LISTED, "delinquency")]}
        self.dq_run = delinquency
        self.seq = Counter[str]()

    # ---- ids, people, times

    def next_id(self, kind: str) -> int:
        self.seq[kind] += 1
        return self.seq[kind]

    def loan_id(self, created: date) -> str:
        return f"LN{created:%Y%m%d}{self.next_id('loan'):07d}"

    def borrower(self) -> Borrower:
        name = self.name()
        return Borrower(f"BR{self.next_id('borrower'):09d}", name, self.phone())

    def payment_id(self, when: datetime) -> str:
        return f"PAY{when:%Y%m%d}{self.next_id('payment'):08d}"  # every time is local

    def at(self, day: date, lo_hour: int = 7, hi_hour: int = 22) -> datetime:
        seconds = self.rng.randint(lo_hour * 3600, hi_hour * 3600 + 3599)
        return datetime(day.year, day.month, day.day, tzinfo=self.tz) + timedelta(seconds=seconds)

    def minutes(self, lo: int, hi: int) -> timedelta:
        return timedelta(minutes=self.rng.randint(lo, hi))

    def scheduled(self) -> datetime:
        """A planned send time inside the allowed hours (08:00-20:59 local); 08:xx local is
        00:xx UTC. Quiet hours come from the quiet_hours mode."""
        day = self.send_day + timedelta(days=1 if self.rng.random() < 0.03 else 0)
        return self.at(day, 8, 20).replace(second=0)

    def message_id(self) -> str:
        return f"SMS{self.batch_day}{self.next_id('message'):08d}"

    def phone(self) -> str:
        rng = self.rng
        return f"1{rng.choice('3578')}{rng.randint(0, 9)}0000{rng.randint(0, 9999):04d}"

    def name(self) -> str:
        rng = self.rng
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN)
                                              for _ in range(rng.choice((1, 2, 2))))

    def written_phone(self, phone: str) -> str:
        """The same number as lenders' systems write it: +86, 0086, dashes, spaces."""
        a, b, c = phone[:3], phone[3:7], phone[7:]
        return self.rng.choice((f"+86{phone}", f"+86 {a} {b} {c}", f"+86-{a}-{b}-{c}",
                                f"0086{phone}", f"0086 {a} {b} {c}", f"{a}-{b}-{c}",
                                f"{a} {b} {c}"))

    def render(self, moment: datetime | None) -> str | None:
        """A timestamp as text in the drop's style (mixed: any of the contract's shapes)."""
        if moment is None:
            return None
        style = self.style
        if style == "mixed":
            style = self.shape_rng.choice(("offset", "utc", "naive", "naive_t", "compact",
                                           "west", "hours", "fraction", "minutes"))
        if style == "utc":
            return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        local = moment  # every time is made in TIMEZONE
        if style == "naive":
            return local.strftime("%Y-%m-%d %H:%M:%S")
        if style == "naive_t":
            return local.strftime("%Y-%m-%dT%H:%M:%S")
        if style == "fraction":
            return local.strftime("%Y-%m-%d %H:%M:%S.%f")
        if style == "minutes" and local.second == 0:
            return local.strftime("%Y-%m-%dT%H:%M%z")
        if style == "compact":
            return local.strftime("%Y-%m-%dT%H:%M:%S%z")
        if style == "hours":
            return local.strftime("%Y-%m-%d %H:%M:%S+08")
        if style == "west":
            return moment.astimezone(timezone(timedelta(hours=-5))).isoformat()
        return local.isoformat()

    def amount(self, value: Decimal) -> str:
        """An amount as text: two decimals, now and then without trailing zeros (1200.5)."""
        if self.shape_rng.random() < 0.03:
            return f"{value.normalize():f}"
        return f"{value:.2f}"
