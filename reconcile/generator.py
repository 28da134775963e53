"""`generate()`: a synthetic, labelled nightly drop for testing and benchmarking reconcile.

A drop is built case by case from one `random.Random(seed)`: a case is one borrower with
one or two loans, their installments and payments, and the messages the lender's rules
planned for them. Most cases are clean (the rule's claim, template and timing are right,
so the message should be sent); the rest carry one failure mode, drawn at the rates of
`Rates`. What the ledger looks like:

- loans of 3-24 monthly installments, due on days 1-28, with cents; grace_days on a
  quarter of them; installments' updated_at at origination (sometimes empty);
- payments near each due date: single, split in two, prepaying two installments at once, a
  failed auto-debit before the real one, a reversed payment paid again; partial payments
  on the first unpaid installment; small pending payments; payments posted after T;
- the rule ran a few hours before T (one run per rule) and planned sends for the next day.

The claimed amount and days of a message are what the rule saw: the ledger at the rule's
run time, through the rule's own (sometimes wrong) reading. Failure modes change either the
ledger after the rule ran or the rule's reading, and ledger / message rows are sometimes
malformed. The expected verdict and flags of each message are not known here: `labels.csv`
is computed by `reconcile.reference` (the pure-Python oracle of CONTRACT §2-4) on each
chunk's rows, exactly as written to disk.

Rows are generated and written chunk by chunk (`chunk_loans` loans at a time), so memory
is bounded by the chunk, whatever the number of messages. Every id is unique across the
drop, and rows whose duplicates matter (a repeated message_id, payment_id or loans row) are
repeated inside one case, so each chunk can be labelled on its own and the output does not
depend on the chunk size. The same seed and options give byte-identical files.
"""

from __future__ import annotations

import calendar
import csv
import json
import os
import random
import shutil
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import duckdb

from reconcile import __version__
from reconcile.errors import ConfigError
from reconcile.inputs import quote_identifier, quote_literal
from reconcile.reference import (
    FLAGS,
    ID_WEIGHTS,
    Settings,
    luhn_valid,
    parse_timestamp,
    reference,
)
from reconcile.schema import FEED_FLAGS, TABLES_BY_NAME

DEFAULT_AS_OF = "2026-11-23T01:30:00+08:00"
TIMEZONE = "Asia/Shanghai"
TIMESTAMP_STYLES = ("offset", "utc", "naive", "mixed")
FILE_FORMATS = ("csv", "parquet")
DEFAULT_CHUNK_LOANS = 10_000
LABELS_FILE = "labels.csv"
DROP_FILE = "drop.json"
# The settings the labels are for: the flags that judge the night as a whole (FEED_FLAGS:
# money across every loan, the files, the history) are off, as chunk-by-chunk labels
# cannot see them.
CONFIG_FILE = "reconcile.toml"
LABEL_COLUMNS = ("message_id", "source_row", "verdict", "flags", "overdue_amount",
                 "days_past_due")
TABLE_NAMES = ("send_batch", "templates", "loans", "installments", "payments", "rules",
               "send_history", "borrowers", "contact_flags")
# The tables written case by case (templates and rules are fixed).
CASE_TABLES = ("send_batch", "loans", "installments", "payments", "send_history", "borrowers",
               "contact_flags")

CENT = Decimal("0.01")
ZERO = Decimal(0)


# ---------------------------------------------------------------------------------------
# Options.


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
    # Contact policy and message content (docs/contact_checks.md). Each mode also makes
    # near-miss cases that must not be flagged (21:59, an expired flag, +86 written, ...).
    quiet_hours: float = 0.012
    frequency: float = 0.008
    duplicate: float = 0.008
    restricted: float = 0.01
    wrong_phone: float = 0.008
    wrong_name: float = 0.008
    wrong_text: float = 0.01
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
    "ledger_invalid": "a malformed loan, installment or payment row",
    "rejected": "a malformed or repeated send_batch row",
    "quiet_hours": "sent at night local time (21:59/22:00, 07:59/08:00, other zones)",
    "frequency": "several messages a day to one borrower, with today's history",
    "duplicate": "the same borrower, loan and template queued again",
    "restricted": "a contact flag (opted out, dispute, ...) active, expired or not yet",
    "wrong_phone": "a number not the borrower's (or the same one written +86/0086/-)",
    "wrong_name": "another name (or the same one spaced or in pinyin)",
    "wrong_text": "the text states a wrong amount or days (or within tolerance)",
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
    for name in RATE_NAMES:
        rate = getattr(rates, name)
        if not 0 <= rate <= 1:
            raise ConfigError(f"rate {name} = {rate} is not between 0 and 1")
    if rates.total > 1 + 1e-9:
        raise ConfigError(f"the rates add up to {rates.total:g}, more than 1")
    return rates


# ---------------------------------------------------------------------------------------
# The result.


@dataclass(frozen=True)
class GenerateResult:
    out_dir: str
    seed: int
    messages: int
    file_format: str
    timestamp_style: str
    as_of: str
    rates: Rates
    rows: dict[str, int]
    labels: bool
    verdicts: dict[str, int]
    flags: dict[str, int]
    seconds: float = 0.0

    @property
    def messages_per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def run_command(self, out: str | None = None) -> str:
        """The `reconcile run` that the labels are for."""
        target = out or f"{self.out_dir.rstrip('/')}-out"
        config = f"{self.out_dir.rstrip('/')}/{CONFIG_FILE}"
        return (f"reconcile run {self.out_dir} --out {target} --as-of {self.as_of} "
                f"--config {config}")

    def drop_description(self) -> dict[str, Any]:
        """drop.json: what reproduces the drop and how to run it (no path, no timing, so the
        file is as reproducible as the rest)."""
        return {
            "generator": f"reconcile {__version__} generate",
            "seed": self.seed,
            "messages": self.messages,
            "format": self.file_format,
            "timestamp_style": self.timestamp_style,
            "timezone": TIMEZONE,
            "as_of": self.as_of,
            "rates": self.rates.to_dict(),
            "rows": self.rows,
            "labels": {
                "file": LABELS_FILE,
                "settings": "contract defaults, profile cn",
                "verdicts": self.verdicts,
                "flags": self.flags,
            } if self.labels else None,
            "run": f"reconcile run DROP_DIR --out OUT_DIR --as-of {self.as_of} "
                   f"--config DROP_DIR/{CONFIG_FILE}",
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": self.out_dir,
            **self.drop_description(),
            "seconds": round(self.seconds, 3),
            "messages_per_second": round(self.messages_per_second),
        }


# ---------------------------------------------------------------------------------------
# Fixed reference tables: a handful of templates and rules, some of them unusable on purpose.

TEMPLATES: tuple[tuple[str, str, int | None, int | None], ...] = (
    ("TPL_REM_PRE", "reminder", None, 0),
    ("TPL_COL_M1", "collection", 1, 30),
    ("TPL_COL_M2", "collection", 31, 60),
    ("TPL_COL_M3", "collection", 61, 90),
    ("TPL_ESC_M4", "escalation", 91, None),
    ("TPL_COL_GEN", "collection", None, None),
    ("TPL_SMS_OLD", "sms", None, None),  # unusable: unknown kind
    ("TPL_DUP", "collection", 1, 30),  # unusable: template_id twice
    ("TPL_DUP", "escalation", 61, None),
)
RULES: tuple[tuple[str, str], ...] = (
    ("RULE_DPD_M1", "delinquency"),
    ("RULE_DPD_M2", "delinquency"),
    ("RULE_DPD_M3", "delinquency"),
    ("RULE_DPD_M4", "delinquency"),
    ("RULE_DPD_GEN", "delinquency"),
    ("RULE_REM_D3", "reminder"),
    ("RULE_RC_PREDUE", "risk_control"),
    ("RULE_RC_SCORE", "risk_control"),
    ("RULE_LEGACY", "collections"),  # unusable: unknown category
)
RULE_NOT_LISTED = "RULE_MANUAL"  # used by some messages, absent from rules
MISSING_TEMPLATE = "TPL_COL_M1_V2"
# Days-past-due stages: (lowest dpd, template, rule).
STAGES: tuple[tuple[int, str, str], ...] = (
    (1, "TPL_COL_M1", "RULE_DPD_M1"),
    (31, "TPL_COL_M2", "RULE_DPD_M2"),
    (61, "TPL_COL_M3", "RULE_DPD_M3"),
    (91, "TPL_ESC_M4", "RULE_DPD_M4"),
)
BATCH_SUFFIX = {
    "RULE_DPD_M1": "M1", "RULE_DPD_M2": "M2", "RULE_DPD_M3": "M3", "RULE_DPD_M4": "M4",
    "RULE_DPD_GEN": "GEN", "RULE_REM_D3": "REM", "RULE_RC_PREDUE": "RC",
    "RULE_RC_SCORE": "RC", "RULE_LEGACY": "LEG", RULE_NOT_LISTED: "MAN",
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文斌宇浩凯健俊帆"
    "帅旭宁琳晨欣怡佳雪梅颖婷倩琴云莉丹阳海波峰亮宏林雷龙飞鑫"
)
LENDER = "【XX消费金融】"
# Message wording by kind; {name}, {amount} (with thousands separators), {days}, {due}.
WORDING = {
    # A reminder states no amount: CONTENT_MISMATCH compares every stated amount with the
    # overdue amount, which is 0 before the due date.
    "reminder": "{lender}{name}您好，您的本期账单将于{due}到期，请按时还款。",
    "pre_due": "{lender}{name}您好，您的借款应还金额{amount}元，请立即还款，"
               "逾期将影响您的信用记录。",
    "escalation": "{lender}{name}您好，您的借款已逾期{days}天，欠款{amount}元，"
                  "已转入委外催收，请于今日内处理。",
    "collection": "{lender}{name}您好，您的借款已逾期{days}天，应还金额{amount}元，"
                  "请尽快还款，以免影响您的个人信用记录。",
}
# Other wordings of a collection message, each stating the amount in another form.
COLLECTION_VARIANTS = (
    "{lender}{name}您好，您在我司的借款已逾期{days}天，待还¥{amount}，请今日内还款。",
    "{lender}尊敬的{name}，截至今日您的账户逾期 {days} 天，欠款 RMB {amount}，请及时处理。",
    "{lender}{name}您好，您的借款已逾期{days}日，应还￥{amount}，请尽快还款。",
    "[XX Consumer Finance] Dear {name}, your loan is {days} {day_word} overdue. Amount due: "
    "RMB {amount}. Please repay today.",
)
OPT_OUT_SUFFIXES = ("退订回T", "回复TD退订", "拒收请回复R")
RESTRICTING_FLAGS = ("opted_out", "dispute_open", "cease_contact", "deceased", "bankruptcy")
PINYIN_SURNAMES = ("Zhang", "Wang", "Li", "Liu", "Chen", "Yang", "Zhao", "Huang")
PINYIN_GIVEN = ("Wei", "Fang", "Na", "Min", "Jing", "Lei", "Qiang", "Yan Ting")
# How a text states an amount and days overdue (docs/contact_checks.md, "How text is read").
AMOUNT_FORMS = ("{a}元", "{a} 元", "¥{a}", "￥{a}", "¥ {a}", "RMB {a}", "RMB{a}", "CNY {a}",
                "${a}")
DAYS_FORMS = ("逾期{d}天", "逾期 {d} 天", "逾期{d}日", "{d} {day} overdue", "{d} {day} past due",
              "overdue by {d} {day}", "overdue for {d} {day}")
# Threats and impersonation (simplified, traditional, English), and look-alikes that are not.
THREATS = (
    "逾期不还将通知您的家人。", "如不还款，我们将联系你的单位并上门催收。", "您已被列入黑名单。",
    "拒不还款将移交公安机关，并承担刑事责任。", "再不还款将曝光您的通讯录。", "法院传票即将送达。",
    "逾期不還將上門催收。", "已將您列入黑名單。", "將聯繫你的單位。", "將曝光您的通訊錄。",
    "法院傳票即將送達。", "須承擔刑事責任。", " Failure to pay may lead to your ARREST.",
    " We will contact the police.", " A warrant may be issued.",
)
HARMLESS = (
    "因春节办公安排调整，客服时间有变。", "因春節辦公安排調整，客服時間有變。",
    "如有疑问请联系客服。",
    "（APP头像曝光度已自动调整）", " See our privacy policy.", " Payments are processed daily.",
)
STREETS = ("中山", "人民", "解放", "建设", "和平", "长江", "南京东")


# ---------------------------------------------------------------------------------------
# The ledger of one loan, as the generator builds it.


@dataclass
class _Inst:
    no: int
    due: date
    amount: Decimal
    updated_at: datetime | None


@dataclass
class _Pay:
    payment_id: str
    amount: Decimal
    status: str
    posted_at: datetime
    paid_at: datetime | None


@dataclass
class _Borrower:
    borrower_id: str
    name: str
    phone: str


@dataclass
class _Loan:
    loan_id: str
    borrower: _Borrower
    created: datetime
    insts: list[_Inst]
    pays: list[_Pay] = field(default_factory=list)
    status: str = "active"
    grace: int | None = None


@dataclass
class _Case:
    """The rows of one case, as text, ready for the files and the oracle."""

    tables: dict[str, list[dict[str, str | None]]]
    messages: int
    loans: int


def _view(insts: list[_Inst], pays: list[_Pay], seen_at: datetime, d_s: date, grace: int,
          closed: bool) -> tuple[Decimal, int]:
    """(overdue_amount, days_past_due) at send date d_s of the ledger as it stood at seen_at
    (payments posted by then): what a rule running at seen_at computes, CONTRACT §2."""
    paid = sum((p.amount for p in pays if p.status == "settled" and p.posted_at <= seen_at),
               ZERO)
    ordered = sorted(insts, key=lambda i: (i.due, i.no))
    running, cumulative, last = ZERO, [], -1
    for index, inst in enumerate(ordered):
        running += inst.amount
        cumulative.append(running)
        if (d_s - inst.due).days > grace:
            last = index
    overdue = max(ZERO, (cumulative[last] if last >= 0 else ZERO) - paid)
    if closed or overdue < CENT:
        return overdue, 0
    first = next(k for k, c in enumerate(cumulative) if c - paid >= CENT)
    return overdue, (d_s - ordered[first].due).days


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------------------
# The case factory: one random stream, consumed case by case.


class _Factory:
    def __init__(self, seed: int, as_of: datetime, style: str, rates: Rates) -> None:
        self.rng = random.Random(seed)
        # Mixed timestamp shapes come from their own stream, so the data do not depend on it.
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
        self.modes = [name for name in RATE_NAMES if getattr(rates, name) > 0]
        self.weights = [getattr(rates, name) for name in self.modes]
        self.total = sum(self.weights)
        self.seq = Counter[str]()

    # ---- ids, people, times

    def next_id(self, kind: str) -> int:
        self.seq[kind] += 1
        return self.seq[kind]

    def loan_id(self, created: date) -> str:
        return f"LN{created:%Y%m%d}{self.next_id('loan'):07d}"

    def borrower(self) -> _Borrower:
        name = self.name()
        return _Borrower(f"BR{self.next_id('borrower'):09d}", name, self.phone())

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

    def text(self, pattern: str, name: str, amount: Decimal, days: int,
             due: date | None = None, opt_out: bool | None = None) -> str:
        """A message text; now and then with an opt-out suffix (as Chinese SMS carry)."""
        text = pattern.format(lender=LENDER, name=name, amount=f"{amount:,.2f}", days=days,
                              day_word="day" if days == 1 else "days",
                              due=f"{due.month}月{due.day}日" if due else "近日")
        if opt_out if opt_out is not None else self.rng.random() < 0.3:
            text += (" Reply STOP to opt out." if text.startswith("[")
                     else self.rng.choice(OPT_OUT_SUFFIXES))
        return text

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
        local = moment  # the factory makes every time in TIMEZONE
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

    # ---- loans

    def loan(self, borrower: _Borrower, d_s: date, r: datetime, due_offset: int,
             grace: int | None = None, partial: float = 0.25,
             all_paid: bool = False) -> tuple[_Loan, int]:
        """A loan whose first unpaid installment k was due `due_offset` days before d_s
        (negative: due in the future), every earlier one paid before r. Returns (loan, k).
        With all_paid every installment is paid and the last one was due then."""
        rng = self.rng
        n = rng.choice((3, 6, 6, 9, 12, 12, 12, 18, 24, rng.randint(3, 24)))
        k = n + 1 if all_paid else rng.randint(1, n)
        anchor = min(k, n)
        due_anchor = d_s - timedelta(days=due_offset)
        first_due = _add_months(due_anchor, 1 - anchor)
        created_day = _add_months(first_due, -1) - timedelta(days=rng.randint(0, 5))
        created = self.at(created_day, 9, 21)
        principal = Decimal(rng.randrange(1000, 60001, 100))
        fee = Decimal(rng.choice((0, 50, 75, 100, 120, 150))) / 10000
        per = _money(principal / n + principal * fee)
        insts = []
        no_updated = rng.random() < 0.1
        for i in range(1, n + 1):
            amount = per if i < n else max(ZERO, per + Decimal(rng.randint(-99, 99)) / 100)
            updated = None if no_updated else created + timedelta(seconds=i)
            insts.append(_Inst(i, _add_months(due_anchor, i - anchor), amount, updated))
        if k < n:
            self.restructure(insts, k, r)
        loan = _Loan(self.loan_id(created_day), borrower, created, insts, grace=grace)
        self.pay_history(loan, k, r)
        if k <= n and rng.random() < partial:
            inst = insts[k - 1]
            part = _money(inst.amount * Decimal(rng.randint(15, 85)) / 100)
            if inst.amount - part >= 1:
                when = min(self.at(inst.due + timedelta(days=rng.randint(-3, 20))),
                           r - self.minutes(100, 600))  # posted before the rule ran
                self.settle(loan, part, when)
        return loan, k

    def restructure(self, insts: list[_Inst], k: int, r: datetime) -> None:
        """Now and then a schedule changed before the rule ran, after installment k: one
        installment deferred to the end (its number now out of due-date order), a fee
        installment due with installment k, or a payment holiday (amount 0)."""
        rng = self.rng
        change = rng.random()
        if change >= 0.07:
            return
        when = r - timedelta(days=rng.randint(1, 60), seconds=rng.randint(0, 86399))
        if change < 0.03:
            inst = insts[rng.randrange(k, len(insts))]
            inst.due = _add_months(max(i.due for i in insts), 1)
        elif change < 0.06:
            inst = _Inst(len(insts) + 1, insts[k - 1].due, Decimal(rng.randint(30, 80)), None)
            insts.append(inst)
        else:
            inst = insts[rng.randrange(k, len(insts))]
            inst.amount = ZERO
        if insts[0].updated_at is not None:
            inst.updated_at = when

    def settle(self, loan: _Loan, amount: Decimal, paid: datetime, status: str = "settled",
               posted: datetime | None = None) -> _Pay:
        """A payment paid at `paid` and posted (by default) 1-90 minutes later."""
        posted = posted or paid + self.minutes(1, 90)
        paid_at = None if self.rng.random() < 0.15 else paid
        pay = _Pay(self.payment_id(paid), amount, status, posted, paid_at)
        loan.pays.append(pay)
        return pay

    def pay_history(self, loan: _Loan, k: int, r: datetime) -> None:
        """Installments 1..k-1 paid in full, all posted before r."""
        rng = self.rng
        latest = r - self.minutes(30, 600)
        i = 0
        while i < k - 1:
            inst = loan.insts[i]
            late = rng.choice((-2, -1, 0, 0, 0, 0, 1, 3, 6))  # days after the due date
            when = min(self.at(inst.due + timedelta(days=late)), latest - timedelta(hours=2))
            pattern = rng.random()
            if pattern < 0.08 and i + 1 < k - 1:  # prepays the next installment too
                self.settle(loan, inst.amount + loan.insts[i + 1].amount, when)
                i += 2
                continue
            if pattern < 0.18 and inst.amount >= 2:  # two partial payments
                first = _money(inst.amount * Decimal(rng.randint(20, 80)) / 100)
                self.settle(loan, first, when - timedelta(days=rng.randint(1, 5)))
                self.settle(loan, inst.amount - first, when)
            elif pattern < 0.22:  # a failed auto-debit before the real payment
                self.settle(loan, inst.amount, when - timedelta(hours=6), "failed")
                self.settle(loan, inst.amount, when)
            elif pattern < 0.25:  # reversed (bounced), then paid again
                bounced = self.settle(loan, inst.amount, when - timedelta(days=3))
                bounced.status = "reversed"
                bounced.posted_at = when - timedelta(days=2)
                self.settle(loan, inst.amount, when)
            else:
                self.settle(loan, inst.amount, when)
            i += 1

    def upcoming(self, loan: _Loan, k: int) -> Decimal:
        """What is left to pay on installment k (for reminders and pre-due wording)."""
        return loan.insts[k - 1].amount

    # ---- messages

    def dpd_target(self, grace: int) -> int:
        rng = self.rng
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

    def message(self, loan_id: str, borrower: _Borrower, template: str, rule: str,
                r: datetime, s: datetime, amount: Decimal | None, days: int | None,
                wording: str, stated: tuple[Decimal, int] | None = None,
                due: date | None = None) -> dict[str, str | None]:
        stated_amount, stated_days = stated or (amount or ZERO, days or 0)
        pattern = WORDING[wording]
        if wording == "collection" and self.rng.random() < 0.12:
            pattern = self.rng.choice(COLLECTION_VARIANTS)
        text = self.text(pattern, borrower.name, stated_amount, stated_days, due)
        return {
            "message_id": self.message_id(),
            "borrower_id": borrower.borrower_id,
            "loan_id": loan_id,
            "phone": borrower.phone,
            "template_id": template,
            "rule_id": rule,
            "rule_evaluated_at": self.render(r),
            "scheduled_at": self.render(s),
            "claimed_overdue_amount": None if amount is None else self.amount(amount),
            "claimed_days_past_due": None if days is None else str(days),
            "borrower_name": borrower.name,
            "message_text": text,
            "batch_id": f"CS{self.batch_day}-{BATCH_SUFFIX.get(rule, 'X')}",
        }

    def collection(self, loan: _Loan, r: datetime, s: datetime, *, rule: str | None = None,
                   template: str | None = None, grace: int | None = None,
                   closed: bool = False, claims: str = "both") -> dict[str, str | None]:
        """A collection message whose claims are what the rule saw; its template and rule
        are the stage of that dpd unless given."""
        d_s = s.astimezone(self.tz).date()
        g = (loan.grace or 0) if grace is None else grace
        amount, days = _view(loan.insts, loan.pays, r, d_s, g, closed)
        stage = next((st for st in reversed(STAGES) if days >= st[0]), STAGES[0])
        template = template or stage[1]
        rule = rule or stage[2]
        wording = "escalation" if template == "TPL_ESC_M4" else "collection"
        return self.message(loan.loan_id, loan.borrower, template, rule, r, s,
                            amount if claims in ("both", "amount") else None,
                            days if claims in ("both", "days") else None, wording,
                            stated=(amount, days))

    def claims_choice(self) -> str:
        u = self.rng.random()
        return "none" if u < 0.1 else "amount" if u < 0.13 else "days" if u < 0.15 else "both"

    # ---- cases

    def case(self, budget: int) -> _Case:
        u = self.rng.random()
        mode = "clean"
        if u < self.total:
            mode = self.rng.choices(self.modes, self.weights)[0]
        builder = _CaseBuilder(self, budget)
        getattr(builder, f"mode_{mode}")()
        return builder.finish()


class _CaseBuilder:
    """Builds one case: loans, their ledger rows and messages, then renders them as text."""

    def __init__(self, factory: _Factory, budget: int) -> None:
        self.f = factory
        self.rng = factory.rng
        self.budget = budget
        self.loans: list[_Loan] = []
        self.messages: list[dict[str, str | None]] = []
        self.extra: dict[str, list[dict[str, str | None]]] = {
            "loans": [], "installments": [], "payments": []}
        # Edits applied to rendered rows: (table, loan_id, index or None, column, value).
        self.edits: list[Callable[[dict[str, list[dict[str, str | None]]]], None]] = []
        self.borrower = factory.borrower()
        # When the case's (first) message is to be sent; loans are built around its date.
        self.s = factory.scheduled()
        self.d_s = self.s.date()
        # Contact data of the case's borrower: the borrowers rows (None: the usual ones,
        # made by finish()), time zones they must name, history and contact flags.
        self.borrower_rows: list[dict[str, str | None]] | None = None
        self.zones: list[str] = []
        self.history: list[dict[str, str | None]] = []
        self.contact_flags: list[dict[str, str | None]] = []

    # -- helpers

    def new_loan(self, due_offset: int, r: datetime, grace: int | None = None,
                 partial: float = 0.25, borrower: _Borrower | None = None) -> tuple[_Loan, int]:
        loan, k = self.f.loan(borrower or self.borrower, self.d_s, r, due_offset, grace,
                              partial)
        self.loans.append(loan)
        return loan, k

    def overdue_loan(self, r: datetime, grace: int | None = None,
                     partial: float = 0.25) -> tuple[_Loan, int]:
        if grace is None and self.rng.random() < 0.25:
            grace = self.rng.choice((0, 0, 3, 3, 5, 7))
        return self.new_loan(self.f.dpd_target(grace or 0), r, grace, partial)

    def add(self, message: dict[str, str | None]) -> dict[str, str | None]:
        if len(self.messages) < self.budget:
            self.messages.append(message)
        return message

    def staged(self, r: datetime, s: datetime, loan: _Loan) -> tuple[str, str, int]:
        """The stage's (template, rule, dpd) of loan as the ledger is at T."""
        d_s = s.astimezone(self.f.tz).date()
        _, days = _view(loan.insts, loan.pays, r, d_s, loan.grace or 0, False)
        stage = next((st for st in reversed(STAGES) if days >= st[0]), STAGES[0])
        return stage[1], stage[2], days

    # -- clean cases

    def mode_clean(self) -> None:
        rng, f = self.rng, self.f
        if rng.random() < 0.12:
            self.reminder()
        else:
            self.clean_collection()
        if rng.random() < 0.04 and len(self.messages) < self.budget:  # a second loan
            if rng.random() < 0.5:
                self.reminder()
            else:
                self.clean_collection()
        if rng.random() < 0.05:  # an earlier loan, paid off and closed, no message
            old, _ = f.loan(self.borrower, f.send_day, f.dq_run, rng.randint(200, 500),
                            all_paid=True)
            old.status = "closed"
            self.loans.append(old)

    def reminder(self) -> None:
        f, rng = self.f, self.rng
        r = f.rule_runs["RULE_REM_D3"]
        days_to_due = rng.randint(0, 3)
        loan, k = self.new_loan(-days_to_due, r, partial=0)
        s = self.s
        amount, due = f.upcoming(loan, k), loan.insts[k - 1].due
        if rng.random() < 0.01:  # a new loan whose schedule is not in the extract yet
            loan.insts, loan.pays = [], []
        claims = rng.random()
        self.add(f.message(loan.loan_id, loan.borrower, "TPL_REM_PRE", "RULE_REM_D3", r, s,
                           None, 0 if claims < 0.6 else None, "reminder",
                           stated=(amount, 0), due=due))

    def clean_collection(self) -> None:
        f, rng = self.f, self.rng
        r = f.dq_run
        loan, _ = self.overdue_loan(r)
        s = self.s
        extra = rng.random()
        claims = f.claims_choice()
        if extra < 0.05:  # paid after T: does not count yet
            amount, _ = _view(loan.insts, loan.pays, f.as_of, s.astimezone(f.tz).date(),
                              loan.grace or 0, False)
            paid = f.as_of + f.minutes(-60, 400)
            f.settle(loan, amount, paid, rng.choice(("settled", "settled", "pending")),
                     posted=max(paid, f.as_of) + f.minutes(1, 80))
        elif extra < 0.07:  # a small pending payment that would not clear it
            amount, _ = _view(loan.insts, loan.pays, r, s.astimezone(f.tz).date(),
                              loan.grace or 0, False)
            part = _money(amount * Decimal(rng.randint(30, 90)) / 100)
            if amount - part >= CENT:
                f.settle(loan, part if rng.random() < 0.8 else amount - CENT,
                         r - f.minutes(100, 2000), "pending")
        elif extra < 0.08:  # posted exactly when the rule ran: seen, not stale
            owed, _ = _view(loan.insts, loan.pays, r, self.d_s, loan.grace or 0, False)
            part = min(_money(loan.insts[-1].amount / 3), (owed / 2).quantize(CENT, ROUND_DOWN))
            if part >= CENT:
                f.settle(loan, part, r - f.minutes(5, 60), posted=r)
        elif extra < 0.09:  # an installment row touched after T
            inst = self.rng.choice(loan.insts)
            inst.updated_at = f.as_of + f.minutes(1, 600)
        elif extra < 0.11:  # an installment row touched long before the rule ran
            inst = self.rng.choice(loan.insts)
            inst.updated_at = r - f.minutes(600, 40000)
        template, rule, days = self.staged(r, s, loan)
        rule_choice = rng.random()
        if rule_choice < 0.02:
            rule = "RULE_RC_SCORE"  # a risk rule on an overdue borrower: fine
        elif rule_choice < 0.03:
            rule = "RULE_LEGACY"
        elif rule_choice < 0.04:
            rule = RULE_NOT_LISTED
        elif rule_choice < 0.08:
            template, rule = "TPL_COL_GEN", "RULE_DPD_GEN"
        message = f.collection(loan, r, s, rule=rule, template=template, claims=claims)
        near = rng.random()
        if near < 0.03 and message["claimed_overdue_amount"]:  # a cent off: within tolerance
            claimed = Decimal(message["claimed_overdue_amount"])
            message["claimed_overdue_amount"] = f"{claimed + rng.choice((CENT, -CENT)):.2f}"
        elif near < 0.06 and message["claimed_days_past_due"] and days > 1:  # a day off
            message["claimed_days_past_due"] = str(days + rng.choice((1, -1)))
        self.add(message)
        # The general rule picked it too (its own template: no duplicate; within the
        # allowed hours and at most 3 messages a borrower: no FREQUENCY_CAP in a clean case).
        if rng.random() < 0.08 and template != "TPL_COL_GEN" and len(self.messages) < 2:
            r2 = f.rule_runs["RULE_DPD_GEN"]
            self.add(f.collection(loan, r2, self.s + f.minutes(5, 60), rule="RULE_DPD_GEN",
                                  template="TPL_COL_GEN", claims=f.claims_choice()))

    # -- failure modes

    def mode_paid(self) -> None:
        f, rng = self.f, self.rng
        r = f.dq_run
        loan, _ = self.overdue_loan(r)
        s = self.s
        message = f.collection(loan, r, s, claims="none" if rng.random() < 0.15 else "both",
                               template="TPL_COL_GEN" if rng.random() < 0.2 else None)
        owed, _ = _view(loan.insts, loan.pays, r, s.astimezone(f.tz).date(), loan.grace or 0,
                        False)
        when = r - f.minutes(30, 3000)
        extra = Decimal(rng.choice((0, 0, 0, 1, 100)))
        if rng.random() < 0.3 and owed > 2:
            first = _money(owed / 2)
            f.settle(loan, first, when - timedelta(days=1), posted=when - timedelta(hours=20))
            f.settle(loan, owed - first + extra, when, posted=when + f.minutes(1, 20))
        else:
            f.settle(loan, owed + extra, when, posted=when + f.minutes(1, 20))
        self.add(message)  # the rule missed the payment

    def mode_stale(self) -> None:
        f, rng = self.f, self.rng
        r = f.dq_run
        loan, k = self.overdue_loan(r)
        s = self.s
        message = f.collection(loan, r, s)
        owed, _ = _view(loan.insts, loan.pays, r, s.astimezone(f.tz).date(), loan.grace or 0,
                        False)
        window = int((f.as_of - r).total_seconds())
        posted = f.as_of if rng.random() < 0.1 else r + timedelta(seconds=rng.randint(1, window))
        variant = rng.random()
        if variant < 0.4:  # paid in full after the rule ran
            f.settle(loan, owed, posted - f.minutes(0, 90), posted=posted)
        elif variant < 0.65 and owed >= 2:  # paid in part after the rule ran
            f.settle(loan, _money(owed * Decimal(rng.randint(10, 90)) / 100),
                     posted - f.minutes(0, 90), posted=posted)
        elif variant < 0.75:  # a pending payment settled after the rule ran (posted_at is
            f.settle(loan, owed, r - f.minutes(60, 1500), posted=posted)  # its last change)
        elif variant < 0.85 and loan.pays:  # an earlier payment reversed after the rule ran
            pay = rng.choice([p for p in loan.pays if p.status == "settled"] or loan.pays)
            pay.status = "reversed"
            pay.posted_at = posted
        elif variant < 0.95:  # an installment reduced (减免) after the rule ran
            inst = loan.insts[k - 1]
            inst.amount = _money(inst.amount * Decimal(rng.choice((50, 80, 90))) / 100)
            inst.updated_at = posted
        else:  # a failed auto-debit logged after the rule ran
            f.settle(loan, owed, posted - f.minutes(0, 30), "failed", posted=posted)
        self.add(message)

    def mode_old_rule(self) -> None:
        f, rng = self.f, self.rng
        if rng.random() < 0.25:
            r = f.as_of - timedelta(hours=24)  # exactly 24 h: still fresh
        else:
            r = f.as_of - timedelta(hours=24) - timedelta(seconds=rng.randint(1, 48 * 3600))
        loan, _ = self.overdue_loan(r)
        self.add(f.collection(loan, r, self.s))

    def mode_clock_skew(self) -> None:
        f, rng = self.f, self.rng
        r = f.as_of if rng.random() < 0.25 else f.as_of + timedelta(
            seconds=rng.randint(1, 12 * 3600))
        loan, _ = self.overdue_loan(f.dq_run)
        self.add(f.collection(loan, r, self.s))

    def mode_not_due(self) -> None:
        f, rng = self.f, self.rng
        rule = rng.choice(("RULE_DPD_M1", "RULE_DPD_GEN"))
        r = f.rule_runs[rule]
        days_to_due = 0 if rng.random() < 0.3 else rng.randint(1, 20)
        loan, k = self.new_loan(-days_to_due, r, partial=0.1)
        s = self.s
        template = "TPL_COL_M1" if rule == "RULE_DPD_M1" else "TPL_COL_GEN"
        amount = f.upcoming(loan, k)
        if rng.random() < 0.05:  # a new loan whose schedule is not in the extract yet
            loan.insts, loan.pays = [], []
        variant = rng.random()
        days: int | None
        if variant < 0.4:
            claimed: Decimal | None
            claimed, days = amount, -days_to_due
        elif variant < 0.7:
            claimed, days = None, None
        else:
            claimed, days = amount, 1  # the rule's off-by-one
        self.add(f.message(loan.loan_id, loan.borrower, template, rule, r, s, claimed, days,
                           "pre_due", stated=(amount, days or 0)))

    def mode_grace(self) -> None:
        f, rng = self.f, self.rng
        grace = rng.choice((3, 5, 7, 10))
        rule = "RULE_DPD_M1"
        r = f.rule_runs[rule]
        loan, _ = self.new_loan(grace if rng.random() < 0.3 else rng.randint(1, grace), r,
                                grace=grace, partial=0.1)
        self.add(f.collection(loan, r, self.s, grace=0, rule=rule,
                              template=rng.choice(("TPL_COL_M1", "TPL_COL_GEN"))))

    def mode_closed(self) -> None:
        f, rng = self.f, self.rng
        r = f.dq_run
        loan, _ = self.overdue_loan(r)
        s = self.s
        message = f.collection(loan, r, s)
        loan.status = "closed"
        if rng.random() < 0.5:  # settled in full earlier, the rule still had it open
            owed, _ = _view(loan.insts, loan.pays, r, s.astimezone(f.tz).date(),
                            loan.grace or 0, False)
            rest = sum((i.amount for i in loan.insts), ZERO) - sum(
                (p.amount for p in loan.pays if p.status == "settled"), ZERO)
            f.settle(loan, max(owed, rest, CENT), r - f.minutes(100, 9000))
        self.add(message)

    def mode_risk_control(self) -> None:
        f, rng = self.f, self.rng
        rule = rng.choice(("RULE_RC_PREDUE", "RULE_RC_SCORE"))
        r = f.rule_runs[rule]
        days_to_due = rng.randint(0, 25)
        loan, k = self.new_loan(-days_to_due, r, partial=0.15)
        amount = f.upcoming(loan, k)
        template = "TPL_COL_GEN" if rng.random() < 0.6 else "TPL_COL_M1"
        claims = rng.random()
        claimed = amount if claims < 0.5 else None
        days = 0 if claims < 0.3 else None
        self.add(f.message(loan.loan_id, loan.borrower, template, rule, r, self.s,
                           claimed, days, "pre_due", stated=(amount, 0)))

    def mode_pending(self) -> None:
        f, rng = self.f, self.rng
        r = f.dq_run
        loan, _ = self.overdue_loan(r)
        s = self.s
        owed, _ = _view(loan.insts, loan.pays, r, s.astimezone(f.tz).date(), loan.grace or 0,
                        False)
        when = r - f.minutes(100, 4000)
        if rng.random() < 0.25 and owed >= 2:  # two pending payments
            half = _money(owed / 2)
            f.settle(loan, half, when - timedelta(hours=5), "pending")
            f.settle(loan, owed - half, when, "pending")
        else:
            f.settle(loan, owed + Decimal(rng.choice((0, 0, 0, 10))), when, "pending")
        self.add(f.collection(loan, r, s))

    def mode_wrong_amount(self) -> None:
        f, rng = self.f, self.rng
        r = f.dq_run
        loan, k = self.overdue_loan(r)
        message = f.collection(loan, r, self.s)
        claimed = Decimal(message["claimed_overdue_amount"] or "0")
        delta = rng.choice((Decimal("0.02"), Decimal("-0.02"), Decimal("50.00"),
                            loan.insts[k - 1].amount, Decimal(rng.randint(3, 99999)) / 100))
        message["claimed_overdue_amount"] = f"{max(ZERO, claimed + delta):.2f}"
        if claimed + delta < 0:
            message["claimed_overdue_amount"] = f"{claimed + abs(delta):.2f}"
        self.add(message)

    def mode_wrong_days(self) -> None:
        f, rng = self.f, self.rng
        r = f.dq_run
        loan, _ = self.overdue_loan(r)
        message = f.collection(loan, r, self.s, template="TPL_COL_GEN")
        days = int(message["claimed_days_past_due"] or 0)
        delta = rng.choice((2, -2, 30, 31, -30, rng.randint(3, 200)))
        if days + delta < 0:
            delta = abs(delta)
        message["claimed_days_past_due"] = str(days + delta)
        self.add(message)

    def mode_wrong_stage(self) -> None:
        f, rng = self.f, self.rng
        r = f.dq_run
        loan, _ = self.overdue_loan(r)
        s = self.s
        template, rule, _ = self.staged(r, s, loan)
        others = [t for t in ("TPL_COL_M1", "TPL_COL_M2", "TPL_COL_M3", "TPL_ESC_M4",
                              "TPL_REM_PRE") if t != template]
        self.add(f.collection(loan, r, s, rule=rule, template=rng.choice(others)))

    def mode_borrower_mismatch(self) -> None:
        f, rng = self.f, self.rng
        r = f.dq_run
        loan, _ = self.overdue_loan(r)
        message = f.collection(loan, r, self.s)
        other = f.borrower()
        message["borrower_id"] = other.borrower_id
        if rng.random() < 0.5:  # the other person's name and phone too
            message["borrower_name"] = other.name
            message["phone"] = other.phone
        self.add(message)

    def mode_unknown_loan(self) -> None:
        f, rng = self.f, self.rng
        r = f.dq_run
        loan, _ = self.overdue_loan(r)
        message = f.collection(loan, r, self.s)
        self.loans.remove(loan)
        if rng.random() < 0.3:  # the payments feed knows the loan, the loans extract not
            for pay in loan.pays[-3:]:
                if rng.random() < 0.2:
                    pay.posted_at = r + f.minutes(1, 60)
                self.extra["payments"].append(self.payment_row(loan, pay))
        self.add(message)

    def mode_unknown_template(self) -> None:
        f, rng = self.f, self.rng
        r = f.dq_run
        loan, _ = self.overdue_loan(r)
        template = rng.choice((MISSING_TEMPLATE, MISSING_TEMPLATE, "TPL_SMS_OLD", "TPL_DUP"))
        self.add(f.collection(loan, r, self.s, template=template))

    def mode_ledger_invalid(self) -> None:
        f, rng = self.f, self.rng
        r = f.dq_run
        loan, _ = self.overdue_loan(r, partial=0.5)
        self.add(f.collection(loan, r, self.s))
        loan_id = loan.loan_id
        variant = rng.randrange(12)
        if not loan.pays and variant >= 4:
            f.settle(loan, loan.insts[0].amount, r - f.minutes(600, 6000))
        pay_index = rng.randrange(len(loan.pays)) if loan.pays else 0
        inst_index = rng.randrange(len(loan.insts))

        def edit(table: str, index: int, column: str, value: str | None) -> None:
            self.edits.append(lambda tables: _edit(tables[table], loan_id, index, column, value))

        if variant == 0:
            edit("installments", inst_index, "amount_due",
                 f"-{loan.insts[inst_index].amount:.2f}")
        elif variant == 1:
            edit("installments", inst_index, "due_date",
                 f"{loan.insts[inst_index].due:%Y/%m/%d}")
        elif variant == 2:
            edit("installments", inst_index, "amount_due", None)
        elif variant == 3:  # the same installment_no twice
            edit("installments", inst_index, "installment_no",
                 str(loan.insts[inst_index - 1 if inst_index else 1].no))
        elif variant == 4:
            edit("payments", pay_index, "amount", rng.choice(("0.00", "-120.00")))
        elif variant == 5:
            edit("payments", pay_index, "status", rng.choice(("SUCCESS", "refunded", "ok")))
        elif variant == 6:
            edit("payments", pay_index, "posted_at", None)
        elif variant == 7:
            paid = loan.pays[pay_index].posted_at
            edit("payments", pay_index, "paid_at", rng.choice((
                f"{paid:%Y-%m-%d}T24:00:00", f"{paid:%Y/%m/%d %H:%M:%S}", f"{paid:%Y-%m-%d}")))
        elif variant == 8:  # a payment_id used twice
            f.settle(loan, loan.insts[0].amount, r - f.minutes(600, 6000))
            twin = loan.pays[pay_index].payment_id
            loan.pays[-1].payment_id = twin
        elif variant == 9:
            edit("loans", 0, "grace_days", rng.choice(("-3", "3.5", "三")))
        elif variant == 10:
            edit("loans", 0, "status", rng.choice(("ACTIVE", "overdue", None)))
        else:  # the loans row twice
            self.edits.append(lambda tables: _repeat_loan_row(tables["loans"], loan_id))
        if rng.random() < 0.2:  # and a payment that names no loan (holds nothing)
            pay = _Pay(f.payment_id(r), Decimal("100.00"), "settled", r - f.minutes(60, 600),
                       None)
            row = self.payment_row(loan, pay)
            row["loan_id"] = None
            self.extra["payments"].append(row)

    def mode_rejected(self) -> None:
        f, rng = self.f, self.rng
        r = f.dq_run
        loan, _ = self.overdue_loan(r)
        message = f.collection(loan, r, self.s)
        variant = rng.randrange(6)
        if variant == 0 and self.budget >= 2:  # sent to the queue twice
            self.add(message)
            self.add(dict(message))
            return
        if variant <= 1:
            message["phone"] = None
        elif variant == 2:
            message["rule_evaluated_at"] = None
        elif variant == 3:
            s = self.s
            message["scheduled_at"] = rng.choice((f"{s:%Y/%m/%d %H:%M}", f"{s:%d/%m/%Y %H:%M}",
                                                  f"{s:%Y-%m-%d} 9:00", f"{s:%Y-%m-%d}"))
        elif variant == 4:
            claimed = Decimal(message["claimed_overdue_amount"] or "1234.5")
            message["claimed_overdue_amount"] = f"{claimed:,.2f}" if claimed >= 1000 \
                else f"¥{claimed:.2f}"
        else:
            message["template_id"] = None
        self.add(message)

    # -- contact policy and message content (docs/contact_checks.md)

    def at_clock(self, day: date, hour: int, minute: int, second: int = 0) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=self.f.tz)

    def mode_quiet_hours(self) -> None:
        f, rng = self.f, self.rng
        today, tomorrow = f.send_day, f.send_day + timedelta(days=1)
        variant = rng.randrange(9)
        if variant == 0:
            s = self.at_clock(today, 22, 0)  # the first minute of quiet hours
        elif variant == 1:
            s = self.at_clock(today, 21, 59, rng.choice((0, 59)))  # still allowed
        elif variant == 2:
            s = self.at_clock(today, rng.randint(22, 23), rng.randint(0, 59))
        elif variant == 3:
            s = self.at_clock(tomorrow, 7, 59, rng.choice((0, 59)))  # 23:59 UTC the day before
        elif variant == 4:
            s = self.at_clock(tomorrow, 8, 0)  # the first allowed minute
        elif variant == 5:
            s = self.at_clock(tomorrow, rng.randint(0, 6), rng.randint(0, 59))
        elif variant == 6:  # the borrower lives in Xinjiang time (UTC+6): 09:59 is 07:59
            s = self.at_clock(today, rng.choice((9, 10)), 59 if rng.random() < 0.5 else 0)
            self.zones = ["Asia/Urumqi"]
        elif variant == 7:  # in Tokyo (UTC+9): 21:00 Beijing time is 22:00 there
            s = self.at_clock(today, rng.choice((20, 21)), rng.choice((0, 59)))
            self.zones = ["Asia/Tokyo"]
        else:  # two zones on file: outside the window in either holds
            s = self.at_clock(today, rng.choice((15, 16, 17)), 30)
            self.zones = ["Asia/Shanghai", rng.choice(("Europe/London", "America/New_York"))]
        self.s, self.d_s = s, s.date()
        self.clean_collection()

    def mode_frequency(self) -> None:
        f, rng = self.f, self.rng
        r = f.dq_run
        loans = [self.overdue_loan(r, partial=0.1)[0] for _ in range(rng.choice((1, 2, 2, 3)))]
        slots = []
        for loan in loans:
            template, rule, _ = self.staged(r, self.s, loan)
            slots += [(loan, template, rule), (loan, "TPL_COL_GEN", "RULE_DPD_GEN")]
        rng.shuffle(slots)
        count = min(len(slots), rng.choice((2, 3, 3, 4, 4, 5)))
        start = self.at_clock(self.d_s, 8, 0)
        times = sorted(start + f.minutes(0, 12 * 60) for _ in range(count))
        if count > 1 and rng.random() < 0.2:
            times[1] = times[0]  # the same minute: the row order decides
        if rng.random() < 0.15:
            times[-1] += timedelta(days=1)  # tomorrow's cap, not today's
        for (loan, template, rule), s in zip(slots, times, strict=False):
            self.add(f.collection(loan, r, s, rule=rule, template=template))
        if rng.random() < 0.3:
            rng.shuffle(self.messages)  # written out of time order
        if rng.random() < 0.3:  # a reminder too: reminders are not counted
            loan, k = self.new_loan(-rng.randint(0, 3), f.rule_runs["RULE_REM_D3"], partial=0)
            self.add(f.message(loan.loan_id, loan.borrower, "TPL_REM_PRE", "RULE_REM_D3",
                               f.rule_runs["RULE_REM_D3"], times[0] + f.minutes(1, 60), None,
                               0, "reminder", due=loan.insts[k - 1].due))
        # Messages already sent today (an earlier wave), some never delivered.
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            loan, template, _ = rng.choice(slots)
            sent = times[0] - f.minutes(1, 120) if rng.random() < 0.7 else \
                rng.choice(times)  # at a batch message's very time: it counts (sent <= s)
            status = rng.choice(("delivered", "delivered", "delivered", "sent", None, "failed",
                                 "cancelled", "rejected"))
            self.history.append(self.history_row(
                loan.loan_id, max(sent, start), rng.choice((template, template,
                                                            "TPL_REM_PRE")), status))

    def mode_duplicate(self) -> None:
        f, rng = self.f, self.rng
        r = f.dq_run
        loan, _ = self.overdue_loan(r)
        template, rule, _ = self.staged(r, self.s, loan)
        first = f.collection(loan, r, self.s, rule=rule, template=template)
        copy = {**first, "message_id": f.message_id()}
        variant = rng.randrange(5)
        if variant == 0:  # queued twice for the same minute: the second row is the copy
            rows = [first, copy]
        elif variant == 1:  # re-queued later
            copy["scheduled_at"] = f.render(self.s + f.minutes(5, 60))
            rows = [first, copy]
        elif variant == 2:  # re-queued later but written first: the later one is the copy
            copy["scheduled_at"] = f.render(self.s + f.minutes(5, 60))
            rows = [copy, first]
        elif variant == 3:  # the general rule's template: not the same message
            rows = [first, f.collection(loan, f.rule_runs["RULE_DPD_GEN"],
                                        self.s + f.minutes(0, 30), rule="RULE_DPD_GEN",
                                        template="TPL_COL_GEN")]
        else:  # the other copy is unreadable (rejected): nothing earlier to duplicate
            copy["scheduled_at"] = f"{self.s:%Y/%m/%d %H:%M}"
            rows = [copy, first]
        if rng.random() < 0.25:
            rows.append({**first, "message_id": f.message_id()})  # a third time
        for row in rows:
            self.add(row)

    def mode_restricted(self) -> None:
        f, rng = self.f, self.rng
        self.clean_collection()
        s = self.s

        def days() -> timedelta:
            return timedelta(days=rng.randint(1, 120), seconds=rng.randint(0, 86399))

        kind = rng.choice(RESTRICTING_FLAGS)
        until: datetime | None = None
        variant = rng.randrange(8)
        if variant == 0:  # active, open-ended
            since = s - days()
        elif variant == 1:  # starts at the very instant of the send: active
            since = s
        elif variant == 2:  # ends at the very instant of the send (exclusive): not active
            since, until = s - days(), s
        elif variant == 3:  # expired
            until = s - days()
            since = until - days()
        elif variant == 4:  # not yet started
            since = s + f.minutes(1, 3000)
        elif variant == 5:  # a complaint is informational
            kind, since = "complaint_open", s - days()
        elif variant == 6:  # active until later
            since, until = s - days(), s + days()
        else:  # an expired flag and an active one
            self.contact_flags.append(self.flag_row(kind, s - 2 * days() - days(),
                                                    s - 2 * days()))
            since = s - days()
        self.contact_flags.append(self.flag_row(kind, since, until))

    def mode_wrong_phone(self) -> None:
        f, rng = self.f, self.rng
        self.clean_collection()
        b = self.borrower
        row = self.borrower_row(b.name, b.phone)
        rows = [row]
        variant = rng.randrange(8)
        if variant == 0:  # a relative's (or an old) number
            self.set_messages("phone", f.phone())
        elif variant == 1:  # the second verified number
            second = f.phone()
            rows.append(self.borrower_row(None, second, zone=False))
            self.set_messages("phone", rng.choice((second, f.written_phone(second))))
        elif variant == 2:  # the same number written internationally or grouped
            self.set_messages("phone", f.written_phone(b.phone))
        elif variant == 3:
            row["phone"] = f.written_phone(b.phone)
        elif variant == 4:  # no verified number on file: not checked
            row["phone"] = None
            self.set_messages("phone", f.phone())
        elif variant == 5:  # 86 without + or 00 is not international: another number
            self.set_messages("phone", f"86{b.phone}")
        elif variant == 6:  # the borrower is not in the borrowers extract: not checked
            rows = []
            self.set_messages("phone", f.phone())
        else:  # two numbers on file, the message to neither
            rows.append(self.borrower_row(None, f.phone(), zone=False))
            self.set_messages("phone", f.phone())
        self.borrower_rows = rows

    def mode_wrong_name(self) -> None:
        f, rng = self.f, self.rng
        self.clean_collection()
        b = self.borrower
        row = self.borrower_row(b.name, b.phone)
        rows = [row]
        variant = rng.randrange(7)
        spaced = rng.choice((" ", "\u3000", "\u00a0", "  ")).join((b.name[0], b.name[1:]))
        if variant == 0:  # someone else's name
            self.set_name(f.name())
        elif variant == 1:  # the same name with a space (ASCII, ideographic, no-break)
            self.set_name(spaced)
        elif variant == 2:  # a romanised name on file, written in another case or spacing
            latin = f"{rng.choice(PINYIN_SURNAMES)} {rng.choice(PINYIN_GIVEN)}"
            rows.append(self.borrower_row(latin, None, zone=False))
            self.set_name(rng.choice((latin.upper(), latin.lower().replace(" ", ""),
                                      latin.replace(" ", "  "), latin)))
        elif variant == 3:  # no name in the message: not checked
            self.set_messages("borrower_name", None)
        elif variant == 4:  # no name on file: not checked
            row["name"] = None
            self.set_name(f.name())
        elif variant == 5:  # the file has the spaced form
            row["name"] = spaced
        else:  # a former name on file too
            rows.append(self.borrower_row(f.name(), None, zone=False))
            self.set_name(rng.choice((f.name(), b.name)))
        self.borrower_rows = rows

    def mode_wrong_text(self) -> None:
        f, rng = self.f, self.rng
        r = f.dq_run
        loan, _ = self.overdue_loan(r)
        template, rule, _ = self.staged(r, self.s, loan)
        message = f.collection(loan, r, self.s, rule=rule, template=template)
        amount, days = _view(loan.insts, loan.pays, r, self.d_s, loan.grace or 0, False)
        variant = rng.randrange(8)
        stated_amount, stated_days = amount, days
        if variant in (0, 5):  # a wrong amount
            stated_amount = max(ZERO, amount + rng.choice((
                Decimal("0.02"), Decimal("-0.02"), Decimal("100"), -loan.insts[-1].amount,
                Decimal(rng.randint(3, 99999)) / 100)))
        if variant == 1:  # a cent off: within tolerance
            stated_amount = max(ZERO, amount + rng.choice((CENT, -CENT)))
        if variant in (2, 5, 6):  # wrong days
            stated_days = days + rng.choice((2, -2, 30, rng.randint(3, 90)))
            stated_days = stated_days if stated_days >= 0 else days + 2
        if variant == 3:  # a day off: within tolerance
            stated_days = days + rng.choice((1, -1))
        if variant == 7:  # a wrong amount in another currency form
            stated_amount = amount + Decimal(rng.randint(1, 5000))
        amount_text = f"{stated_amount:,.2f}" if rng.random() < 0.6 else f"{stated_amount:.2f}"
        amount_form = rng.choice(AMOUNT_FORMS).format(a=amount_text)
        if variant == 4:  # digits that run on are no amount: a reference, not the debt
            amount_form = f"{amount:,.2f}元（流水号{stated_amount + 7:.2f}7元）"
        day_word = "day" if stated_days == 1 else "days"
        days_form = rng.choice(DAYS_FORMS).format(d=stated_days, day=day_word)
        if days_form[0].isascii():
            text = (f"[XX Consumer Finance] Dear {self.borrower.name}, your loan is "
                    f"{days_form}. Amount due: {amount_form}. Please repay today.")
        else:
            text = f"{LENDER}{self.borrower.name}您好，您的借款已{days_form}，应还{amount_form}，" \
                   "请尽快还款。"
        message["message_text"] = text
        self.add(message)

    def mode_prohibited(self) -> None:
        rng = self.rng
        self.clean_collection()
        sentence = rng.choice(THREATS if rng.random() < 0.65 else HARMLESS)
        self.messages[0]["message_text"] = (self.messages[0]["message_text"] or "") + sentence

    def mode_privacy(self) -> None:
        rng = self.rng
        self.clean_collection()
        variant = rng.randrange(9)
        if variant == 0:
            sentence = f"您登记的身份证号为{resident_id(rng, valid=True)}。"
        elif variant == 1:
            sentence = f"您登记的身份证号为{resident_id(rng, valid=False)}。"
        elif variant == 2:
            sentence = f"请向尾号为{card_number(rng, True, '')[-4:]}的银行卡存入款项。"
        elif variant == 3:
            sentence = f"还款账户卡号{card_number(rng, True, rng.choice(('', ' ', '-')))}。"
        elif variant == 4:
            sentence = f"还款账户卡号{card_number(rng, False, rng.choice(('', ' ', '-')))}。"
        elif variant == 5:
            sentence = f"扣款卡****{rng.randint(0, 9999):04d}余额不足。"
        elif variant == 6:
            sentence = rng.choice(("我司工作人员将前往", "请携带证件至")) + \
                f"{rng.choice(STREETS)}{rng.choice(('路', '街', '大道', '巷'))}" \
                f"{rng.randint(1, 999)}号。"
        elif variant == 7:
            sentence = f"您登记的地址为{rng.choice(STREETS)}小区{rng.randint(1, 30)}" \
                f"{rng.choice(('号楼', '栋'))}{rng.randint(1, 28)}{rng.randint(1, 4):02d}" \
                f"{rng.choice(('室', '单元'))}。"
        else:
            sentence = f" Mail: {rng.randint(1, 9999)} {rng.choice(('Main', 'Oak', 'Park'))} " \
                f"{rng.choice(('Street', 'St', 'Avenue', 'Rd', 'Blvd'))}."
        self.messages[0]["message_text"] = (self.messages[0]["message_text"] or "") + sentence

    def mode_contact_invalid(self) -> None:
        f, rng = self.f, self.rng
        self.clean_collection()
        b, s = self.borrower, self.s
        variant = rng.randrange(6)
        if variant == 0:  # a time zone that is no IANA name
            self.borrower_rows = [self.borrower_row(b.name, b.phone)]
            bad = self.borrower_row(None, None, zone=False)
            bad["timezone"] = rng.choice(("Beijing", "Asia/Beijing", "UTC+8", "GMT+8",
                                          "asia/shanghai"))
            self.borrower_rows.append(bad)
        elif variant == 1:
            self.contact_flags.append({**self.flag_row("opted_out", s - timedelta(days=3), None),
                                       "flag": rng.choice(("OPTED_OUT", "blacklist", "opt-out"))})
        elif variant == 2:
            since = rng.choice((None, f"{s:%Y/%m/%d %H:%M}", f"{s:%Y}-02-30 09:00",
                                f"{s:%Y-%m-%d}"))
            self.contact_flags.append({**self.flag_row("dispute_open", s, None),
                                       "since": since})
        elif variant == 3:
            self.contact_flags.append({**self.flag_row("cease_contact", s - timedelta(days=9),
                                                       None),
                                       "until": rng.choice(("2026-12-01", "31/12/2026 00:00"))})
        elif variant == 4:
            loan_id = self.loans[0].loan_id if self.loans else None
            row = self.history_row(loan_id, s - timedelta(days=2), None, "delivered")
            column = rng.choice(("sent_at", "loan_id", "message_id"))
            row[column] = f"{s:%d/%m/%Y} 10:00" if column == "sent_at" else None
            self.history.append(row)
        else:  # one history message_id twice
            loan_id = self.loans[0].loan_id if self.loans else None
            row = self.history_row(loan_id, s - timedelta(days=3), None, "delivered")
            self.history += [row, {**row, "sent_at": f.render(s - timedelta(days=2))}]
        if rng.random() < 0.2:  # and a row that names no borrower (listed, holds nothing)
            self.contact_flags.append({**self.flag_row("deceased", s - timedelta(days=1), None),
                                       "borrower_id": None})

    # -- contact rows

    def set_messages(self, column: str, value: str | None) -> None:
        for message in self.messages:
            if message["borrower_id"] == self.borrower.borrower_id:
                message[column] = value

    def set_name(self, name: str) -> None:
        """The messages name (and greet) someone as `name`."""
        for message in self.messages:
            message["message_text"] = (message["message_text"] or "").replace(
                self.borrower.name, name, 1)
        self.set_messages("borrower_name", name)

    def borrower_row(self, name: str | None, phone: str | None,
                     zone: bool = True) -> dict[str, str | None]:
        return {"borrower_id": self.borrower.borrower_id, "name": name, "phone": phone,
                "timezone": self.zone() if zone else None}

    def zone(self) -> str | None:
        u = self.rng.random()
        if u < 0.1:
            return "Asia/Shanghai"
        if u < 0.13:
            return self.rng.choice(("Asia/Hong_Kong", "Asia/Taipei"))  # the same clock
        return None

    def history_row(self, loan_id: str | None, sent: datetime, template: str | None,
                    status: str | None) -> dict[str, str | None]:
        f = self.f
        return {"message_id": f"HS{sent:%Y%m%d}{f.next_id('history'):08d}",
                "borrower_id": self.borrower.borrower_id, "loan_id": loan_id,
                "phone": self.borrower.phone, "template_id": template,
                "sent_at": f.render(sent), "status": status}

    def flag_row(self, flag: str, since: datetime,
                 until: datetime | None) -> dict[str, str | None]:
        return {"borrower_id": self.borrower.borrower_id, "flag": flag,
                "since": self.f.render(since), "until": self.f.render(until)}

    def contact_tables(self) -> dict[str, list[dict[str, str | None]]]:
        """The borrower's rows in send_history, borrowers and contact_flags: what the mode
        made, plus the usual ones (earlier messages, the CRM record, an old flag)."""
        f, rng, b = self.f, self.rng, self.borrower
        rows = self.borrower_rows
        if rows is None:
            rows = []
            if self.zones or rng.random() >= 0.06:  # some borrowers are not in the extract
                phone = b.phone if rng.random() < 0.9 else f.written_phone(b.phone)
                rows.append(self.borrower_row(b.name, phone))
                if rng.random() < 0.08:  # a second verified number
                    rows.append(self.borrower_row(None, f.phone(), zone=False))
                if rng.random() < 0.04:  # a romanised name too
                    rows.append(self.borrower_row(
                        f"{rng.choice(PINYIN_SURNAMES)} {rng.choice(PINYIN_GIVEN)}", None,
                        zone=False))
            if self.zones:  # the zones the quiet_hours mode needs, on rows of their own
                rows[0]["timezone"] = self.zones[0]
                rows += [{**self.borrower_row(None, None, zone=False), "timezone": zone}
                         for zone in self.zones[1:]]
        history = list(self.history)
        if self.loans and rng.random() < 0.1:  # texted daily on one loan (a 7-day cap's
            loan = rng.choice(self.loans)     # 7th and 8th), some exactly 7 x 24 h before s
            clock = self.s if rng.random() < 0.5 else None
            for back in range(1, rng.randint(4, 9)):
                day = self.d_s - timedelta(days=back)
                sent = self.at_clock(day, clock.hour, clock.minute) if clock else \
                    self.at_clock(day, rng.randint(9, 20), rng.randint(0, 59))
                history.append(self.history_row(loan.loan_id, sent, "TPL_COL_GEN", rng.choice(
                    ("delivered", "delivered", "delivered", "delivered", "sent", "failed"))))
        elif self.loans and rng.random() < 0.5:  # messages on earlier days
            for _ in range(rng.randint(1, 4)):
                loan = rng.choice(self.loans)
                sent = self.at_clock(self.d_s - timedelta(days=rng.randint(1, 20)),
                                     rng.randint(9, 20), rng.randint(0, 59))
                template = "TPL_REM_PRE" if loan.status == "closed" else \
                    rng.choice(("TPL_COL_M1", "TPL_COL_GEN", "TPL_COL_M2", "TPL_REM_PRE"))
                history.append(self.history_row(loan.loan_id, sent, template, rng.choice((
                    "delivered", "delivered", "delivered", "sent", None, "failed"))))
        flags = list(self.contact_flags)
        if rng.random() < 0.03:  # a complaint on file, or a flag that has expired
            until = self.s - timedelta(days=rng.randint(1, 30))
            flags.append(self.flag_row("complaint_open", until, None) if rng.random() < 0.5
                         else self.flag_row(rng.choice(RESTRICTING_FLAGS),
                                            until - timedelta(days=20), until))
        return {"send_history": history, "borrowers": rows, "contact_flags": flags}

    # -- rendering

    def payment_row(self, loan: _Loan, pay: _Pay) -> dict[str, str | None]:
        return {
            "payment_id": pay.payment_id,
            "loan_id": loan.loan_id,
            "amount": self.f.amount(pay.amount),
            "status": pay.status,
            "posted_at": self.f.render(pay.posted_at),
            "paid_at": self.f.render(pay.paid_at),
        }

    def finish(self) -> _Case:
        tables: dict[str, list[dict[str, str | None]]] = {
            "send_batch": self.messages, "loans": [], "installments": [], "payments": [],
            **self.contact_tables()}
        render = self.f.render
        for loan in self.loans:
            tables["loans"].append({
                "loan_id": loan.loan_id,
                "borrower_id": loan.borrower.borrower_id,
                "status": loan.status,
                "grace_days": None if loan.grace is None else str(loan.grace),
            })
            for inst in loan.insts:
                tables["installments"].append({
                    "loan_id": loan.loan_id,
                    "installment_no": str(inst.no),
                    "due_date": inst.due.isoformat(),
                    "amount_due": self.f.amount(inst.amount),
                    "updated_at": render(inst.updated_at),
                })
            ordered = sorted(loan.pays, key=lambda p: p.posted_at)
            tables["payments"] += [self.payment_row(loan, pay) for pay in ordered]
        for name, rows in self.extra.items():
            tables[name] += rows
        for apply in self.edits:
            apply(tables)
        return _Case(tables, len(self.messages), len(tables["loans"]))


def resident_id(rng: random.Random, valid: bool) -> str:
    """An 18-character resident ID (area, birth date, sequence, check character); an invalid
    one has a wrong check character and no digit run that passes the Luhn check either."""
    while True:
        birth = date(1960, 1, 1) + timedelta(days=rng.randint(0, 15000))
        body = (rng.choice(("110105", "310104", "440305", "330106", "510107"))
                + f"{birth:%Y%m%d}{rng.randint(1, 999):03d}")
        check = "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS,
                                                             strict=True)) % 11]
        if valid:
            return body + check
        wrong = rng.choice([c for c in "0123456789X" if c != check])
        run = body if wrong == "X" else body + wrong
        if not luhn_valid(run):
            return body + wrong


def card_number(rng: random.Random, valid: bool, separator: str) -> str:
    """A 16-digit bank card number, Luhn-valid or not, in groups of four."""
    body = rng.choice(("622202", "621700", "436742", "622848")) + \
        "".join(str(rng.randint(0, 9)) for _ in range(9))
    check = next(d for d in "0123456789" if luhn_valid(body + d))
    if not valid:
        check = str((int(check) + rng.randint(1, 9)) % 10)
    digits = body + check
    return separator.join(digits[i:i + 4] for i in range(0, 16, 4))


def _edit(rows: list[dict[str, str | None]], loan_id: str, index: int, column: str,
          value: str | None) -> None:
    mine = [row for row in rows if row["loan_id"] == loan_id]
    mine[index % len(mine)][column] = value


def _repeat_loan_row(rows: list[dict[str, str | None]], loan_id: str) -> None:
    row = next(row for row in rows if row["loan_id"] == loan_id)
    rows.append(dict(row))


# ---------------------------------------------------------------------------------------
# Writing: CSV appended chunk by chunk; Parquet through a scratch DuckDB database.


def _columns(table: str) -> tuple[str, ...]:
    return tuple(c.name for c in TABLES_BY_NAME[table].columns)


def _fixed_tables() -> dict[str, list[dict[str, str | None]]]:
    return {
        "templates": [
            {"template_id": t, "kind": kind, "min_dpd": None if low is None else str(low),
             "max_dpd": None if high is None else str(high)}
            for t, kind, low, high in TEMPLATES
        ],
        "rules": [{"rule_id": rule, "category": category} for rule, category in RULES],
    }


class _CsvTables:
    """One open CSV writer per table (`labels` for labels.csv), appended to chunk by chunk."""

    def __init__(self, folder: Path, names: Iterable[str]) -> None:
        self.handles: dict[str, TextIO] = {}
        self.writers: dict[str, Any] = {}
        self.columns: dict[str, tuple[str, ...]] = {}
        self.rows = Counter[str]()
        for name in names:
            path = folder / (LABELS_FILE if name == "labels" else f"{name}.csv")
            handle = path.open("w", newline="", encoding="utf-8")
            self.handles[name] = handle
            self.writers[name] = csv.writer(handle, lineterminator="\n")
            self.columns[name] = LABEL_COLUMNS if name == "labels" else _columns(name)
            self.writers[name].writerow(self.columns[name])

    def write(self, table: str, rows: Sequence[Mapping[str, object]]) -> None:
        columns = LABEL_COLUMNS if table == "labels" else _columns(table)
        self.write_rows(table, [[row.get(c) for c in columns] for row in rows])

    def write_rows(self, table: str, rows: Sequence[Sequence[object]]) -> None:
        """Rows as sequences in the table's column order; None is written as an empty cell."""
        self.writers[table].writerows(rows)
        self.rows[table] += len(rows)

    def end_chunk(self) -> None:
        """Every row of the chunk has been written (CSV files need nothing more)."""

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()

    def finish(self) -> None:
        """The tables are complete and closed (CSV files are the drop already)."""

    def release(self) -> None:
        """Free what is held, after finish() or a failure (nothing for CSV files)."""


class _ParquetTables(_CsvTables):
    """Parquet tables: each chunk is written as CSV into a scratch folder and appended, typed,
    to a table of a scratch DuckDB database (insertion order kept); at the end each table is
    copied to NAME.parquet. Scratch disk is the database (compressed), not a CSV drop."""

    def __init__(self, folder: Path, labels: bool, types: dict[str, dict[str, str]]) -> None:
        super().__init__(folder, ["labels"] if labels else [])
        self.folder = folder
        self.types = types
        self.scratch = folder / ".chunk"
        self.scratch.mkdir()
        self.con = duckdb.connect(str(folder / ".tables.duckdb"))
        self.con.execute("SET enable_progress_bar = false")
        self.con.execute(f"SET TimeZone = {quote_literal(TIMEZONE)}")
        self.con.execute("SET memory_limit = '1GB'")
        self.con.execute(f"SET temp_directory = {quote_literal(str(folder / '.spill'))}")
        for table, columns in types.items():
            definition = ", ".join(f"{quote_identifier(c)} {t}" for c, t in columns.items())
            self.con.execute(f"CREATE TABLE {table} ({definition})")
        self.chunk = _CsvTables(self.scratch, TABLE_NAMES)

    def write_rows(self, table: str, rows: Sequence[Sequence[object]]) -> None:
        if table == "labels":
            super().write_rows(table, rows)
        else:
            self.chunk.write_rows(table, rows)
            self.rows[table] += len(rows)

    def end_chunk(self) -> None:
        self.chunk.close()
        for table, columns in self.types.items():
            source = self.scratch / f"{table}.csv"
            spec = ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in columns)
            select = ", ".join(f"CAST({quote_identifier(c)} AS {t})" for c, t in columns.items())
            self.con.execute(
                f"INSERT INTO {table} SELECT {select} FROM read_csv("
                f"{quote_literal(str(source))}, header = true, auto_detect = false, "
                f"delim = ',', quote = '\"', escape = '\"', columns = {{{spec}}})")
        self.chunk = _CsvTables(self.scratch, TABLE_NAMES)

    def close(self) -> None:
        super().close()
        self.chunk.close()

    def finish(self) -> None:
        for table in self.types:
            target = quote_literal(str(self.folder / f"{table}.parquet"))
            self.con.execute(f"COPY {table} TO {target} (FORMAT parquet, COMPRESSION zstd)")

    def release(self) -> None:
        self.con.close()
        for scratch in (self.scratch, self.folder / ".spill"):
            shutil.rmtree(scratch, ignore_errors=True)
        (self.folder / ".tables.duckdb").unlink(missing_ok=True)


def _parquet_types(style: str, rates: Rates) -> dict[str, dict[str, str]]:
    """DuckDB types of the Parquet columns: typed where every value is well-formed, text
    where this drop may carry a malformed value (or, with mixed timestamps, any shape)."""
    stamp = {"offset": "TIMESTAMPTZ", "utc": "TIMESTAMPTZ", "naive": "TIMESTAMP"}.get(style,
                                                                                    "VARCHAR")
    kinds = {"amount": "DECIMAL(18, 2)", "integer": "INTEGER", "date": "DATE",
             "timestamp": stamp, "text": "VARCHAR", "timezone": "VARCHAR"}
    malformed_text = set()
    if rates.rejected > 0:
        malformed_text |= {("send_batch", "scheduled_at"),
                           ("send_batch", "claimed_overdue_amount")}
    if rates.ledger_invalid > 0:
        malformed_text |= {("installments", "due_date"), ("payments", "paid_at"),
                           ("loans", "grace_days")}
    if rates.contact_invalid > 0:
        malformed_text |= {("send_history", "sent_at"), ("contact_flags", "since"),
                           ("contact_flags", "until")}
    if rates.duplicate > 0:  # an unreadable copy of a message
        malformed_text.add(("send_batch", "scheduled_at"))
    return {
        name: {c.name: "VARCHAR" if (name, c.name) in malformed_text else kinds[c.kind]
               for c in TABLES_BY_NAME[name].columns}
        for name in TABLE_NAMES
    }


# ---------------------------------------------------------------------------------------
# generate()


def generate(
    out_dir: str | Path,
    messages: int,
    seed: int,
    file_format: str = "csv",
    rates: Rates | None = None,
    timestamp_style: str = "offset",
    as_of: str | None = None,
    chunk_loans: int = DEFAULT_CHUNK_LOANS,
    labels: bool = True,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> GenerateResult:
    """Write a drop of `messages` messages into out_dir (replaced whole; it must be absent,
    empty or an earlier generated drop), with labels.csv and drop.json.

    progress is told the number of messages finished after each chunk. workers: processes
    that label chunks while the next one is generated (None: one per spare core, up to 4,
    when there is more than one chunk; 0: label inline). The output never depends on it.
    """
    started = time.perf_counter()
    rates = check_rates(rates or Rates())
    if messages < 1:
        raise ConfigError("must be at least 1 (a send_batch needs a row)",
                          parameter="messages")
    if chunk_loans < 1:
        raise ConfigError("must be at least 1", parameter="chunk_loans")
    if file_format not in FILE_FORMATS:
        raise ConfigError(f"{file_format!r} is not one of {', '.join(FILE_FORMATS)}",
                          parameter="file_format")
    if timestamp_style not in TIMESTAMP_STYLES:
        raise ConfigError(f"{timestamp_style!r} is not one of "
                          + ", ".join(TIMESTAMP_STYLES), parameter="timestamp_style")
    as_of_text = as_of or DEFAULT_AS_OF
    instant = parse_timestamp(as_of_text, ZoneInfo(TIMEZONE))
    if instant is None:
        raise ConfigError(f"{as_of_text!r} is not a timestamp "
                          "(ISO 8601, e.g. 2026-11-23T01:30:00+08:00)", parameter="as_of")
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)

    staging = out_dir.resolve().parent / f".{out_dir.name}.generate-{os.getpid()}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        factory = _Factory(seed, instant, timestamp_style, rates)
        writer = (_ParquetTables(staging, labels, _parquet_types(timestamp_style, rates))
                  if file_format == "parquet" else
                  _CsvTables(staging, [*TABLE_NAMES, "labels"] if labels else TABLE_NAMES))
        if workers is None:  # worth a process only when there is a next chunk to overlap
            workers = min(max(1, (os.cpu_count() or 1) - 1), 4) if messages > chunk_loans else 0
        labeller = _Labeller(instant, workers) if labels else None
        try:
            outcome = _write_chunks(factory, writer, messages, chunk_loans, labeller,
                                    progress)
            writer.close()
            writer.finish()
        finally:
            writer.close()
            writer.release()
            if labeller is not None:
                labeller.close()
        result = GenerateResult(
            out_dir=str(out_dir),
            seed=seed,
            messages=messages,
            file_format=file_format,
            timestamp_style=timestamp_style,
            as_of=instant.astimezone(ZoneInfo(TIMEZONE)).isoformat(),
            rates=rates,
            rows={name: writer.rows[name] for name in TABLE_NAMES},
            labels=labels,
            verdicts=outcome[0],
            flags=outcome[1],
        )
        (staging / DROP_FILE).write_text(
            json.dumps(result.drop_description(), ensure_ascii=False, indent=2) + "\n",
            encoding="utf-8")
        (staging / CONFIG_FILE).write_text(labels_config(), encoding="utf-8")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return replace(result, seconds=time.perf_counter() - started)


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / DROP_FILE).is_file():
        raise ConfigError(f"{out_dir}: folder is not empty and holds no generated drop")


Chunk = dict[str, list[dict[str, str | None]]]
# A label row without its source_row: message_id, verdict, flags, overdue_amount, dpd.
LabelRow = tuple[str | None, str, str, str | None, int | None]


def label_chunk(tables: Chunk, as_of: datetime) -> list[LabelRow]:
    """The oracle's answer for every send_batch row of one chunk (with templates and rules),
    without the flags that need the whole drop (labels_config)."""
    return [
        (f.message_id, f.verdict, ";".join(f.flags),
         None if f.overdue_amount is None else f"{f.overdue_amount:.2f}", f.days_past_due)
        for f in reference(tables, as_of, Settings(whole_drop=False))
    ]


def labels_config() -> str:
    """reconcile.toml of a generated drop: the settings its labels are for."""
    flags = ", ".join(f'"{flag}"' for flag in FEED_FLAGS)
    return ("# The flags that judge the night as a whole are off: the labels are worked out\n"
            "# one chunk of loans at a time, which cannot see them.\n"
            f"disabled_checks = [{flags}]\n")


class _Labeller:
    """Labels chunks in order: inline, or in worker processes while the next chunk is being
    generated (the oracle is the slow half; chunks are independent, results kept in order)."""

    def __init__(self, as_of: datetime, workers: int) -> None:
        self.as_of = as_of
        self.workers = workers
        self.pool = (ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
                     if workers else None)
        self.queue: deque[tuple[Future[list[LabelRow]] | list[LabelRow], int]] = deque()

    def submit(self, tables: Chunk, messages: int) -> None:
        if self.pool is None:
            self.queue.append((label_chunk(tables, self.as_of), messages))
        else:
            self.queue.append((self.pool.submit(label_chunk, tables, self.as_of), messages))

    def done(self, wait_all: bool = False) -> Iterable[tuple[list[LabelRow], int]]:
        """Finished chunks, oldest first; waits while more than `workers` are in flight."""
        while self.queue and (wait_all or len(self.queue) > self.workers):
            job, messages = self.queue.popleft()
            yield (job if isinstance(job, list) else job.result()), messages

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def _write_chunks(factory: _Factory, writer: _CsvTables, messages: int, chunk_loans: int,
                  labeller: _Labeller | None,
                  progress: Callable[[int], None] | None
                  ) -> tuple[dict[str, int], dict[str, int]]:
    fixed = _fixed_tables()
    for name, rows in fixed.items():
        writer.write(name, rows)
    verdicts = Counter[str]()
    flags = Counter[str]()
    source_row = 0

    def write_labels(wait_all: bool = False) -> None:
        nonlocal source_row
        if labeller is None:
            return
        for rows, count in labeller.done(wait_all):
            numbered = []
            for message_id, verdict, flag_text, amount, days in rows:
                source_row += 1
                verdicts[verdict] += 1
                flags.update(flag_text.split(";") if flag_text else ())
                numbered.append((message_id, source_row, verdict, flag_text, amount, days))
            writer.write_rows("labels", numbered)
            if progress:
                progress(count)

    remaining = messages
    while remaining:
        chunk: Chunk = {name: [] for name in CASE_TABLES}
        loans = 0
        while remaining and loans < chunk_loans:
            case = factory.case(remaining)
            for name, rows in case.tables.items():
                chunk[name] += rows
            remaining -= case.messages
            loans += case.loans
        for name, rows in chunk.items():
            writer.write(name, rows)
        writer.end_chunk()
        if labeller is None:
            if progress:
                progress(len(chunk["send_batch"]))
            continue
        labeller.submit({**chunk, **fixed}, len(chunk["send_batch"]))
        write_labels()
    if labeller is None:
        return {}, {}
    write_labels(wait_all=True)
    return ({v: verdicts[v] for v in ("send", "hold", "block", "rejected")},
            {flag: flags[flag] for flag in FLAGS})
