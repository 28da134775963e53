"""Property tests: `reconcile run` against the pure-Python oracle in tests/reference.py.

A hypothesis strategy builds small random drops around the edges the contract cares about
(due dates, local midnight, grace days, the 24 h rule age, posted_at vs T, claims off by a
cent or a day, malformed cells, duplicates) and checks:

a. conservation: every send_batch row appears once in findings.csv and once across the four
   split files, which agree with the findings' verdicts;
b. agreement: verdict, flags, overdue_amount and days_past_due equal the oracle's;
c. determinism: two runs of one drop write identical outputs;
d. CSV and Parquet inputs give identical findings.csv.

The plain tests at the bottom check the oracle itself on hand-computed cases.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from drops import TABLE_COLUMNS, Drop, disabled_config, invoke, read_csv_rows, run_drop
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.synth.reference import (
    DEFAULT_POLICY,
    Finding,
    Settings,
    parse_amount,
    parse_date,
    parse_integer,
    parse_timestamp,
    reference,
)

OUTCOMES = ("send", "hold", "block", "rejected")
BASE = date(2026, 11, 20)
SHANGHAI = ZoneInfo("Asia/Shanghai")
PROPERTY_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass
class Case:
    drop: Drop
    as_of: datetime
    settings: Settings
    config: str | None
    rules_file: str  # "full", "empty" (header only) or "missing"

    @property
    def as_of_text(self) -> str:
        return self.as_of.isoformat()


# ---------------------------------------------------------------------------------------
# The strategy.

TIME_STYLES = ("offset", "offset", "z", "naive", "naive", "compact", "hours", "minutes",
               "fraction", "west")
TIMES_OF_DAY = (time(0, 0, 0), time(0, 0, 1), time(23, 59, 59), time(9, 0), time(12, 30))

BAD_INTEGERS = ("3.5", "3.0", "1e2", "x", "2147483648")
BAD_AMOUNTS = ("1,234.00", "10.001", "¥5", "abc", "99999999999999999.99")
BAD_DATES = ("2026/11/01", "2026-11-31", "2026-13-01")
BAD_TIMESTAMPS = ("2026-11-31 09:00", "11/20/2026 09:00", "2026-11-20T23:60:00",
                  "2026-11-20 9:00", "2026-11-20 09:00:60", "2026-11-20T24:00:00",
                  "2026-11-20T09:00:00+08:60", "2026-11-20T09:00:00+25:00")
REQUIRED = {
    "send_batch": ("message_id", "borrower_id", "loan_id", "phone", "template_id", "rule_id",
                   "rule_evaluated_at", "scheduled_at"),
    "templates": ("template_id", "kind"),
    "loans": ("loan_id", "borrower_id", "status"),
    "installments": ("loan_id", "installment_no", "due_date", "amount_due"),
    "payments": ("payment_id", "loan_id", "amount", "status", "posted_at"),
    "rules": ("rule_id", "category"),
}


def render(instant: datetime, style: str, tz: ZoneInfo) -> str:
    """One instant as text in one of the ISO 8601 shapes a lender's export may use."""
    local = instant.astimezone(tz)
    beijing = instant.astimezone(SHANGHAI)
    if style == "offset":
        return beijing.isoformat()
    if style == "west":
        return instant.astimezone(timezone(timedelta(hours=-5))).isoformat()
    if style == "z":
        return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == "compact":
        return beijing.strftime("%Y-%m-%dT%H:%M:%S+0800")
    if style == "hours":
        return beijing.strftime("%Y-%m-%d %H:%M:%S+08")
    if style == "minutes" and local.second == 0:
        return local.strftime("%Y-%m-%dT%H:%M")
    if style == "fraction":
        return local.strftime("%Y-%m-%d %H:%M:%S") + ".0"
    return local.strftime("%Y-%m-%d %H:%M:%S")


@st.composite
def run_settings(draw: Any) -> tuple[Settings, str | None]:
    if draw(st.integers(0, 2)) > 0:
        return Settings(), None
    lines: list[str] = []
    values: dict[str, Any] = {}
    zone = draw(st.sampled_from([None, "UTC", "Asia/Kolkata", "Asia/Shanghai"]))
    if zone:
        lines.append(f'timezone = "{zone}"')
        values["timezone"] = zone
    grace = draw(st.sampled_from([None, 0, 2]))
    if grace is not None:
        lines.append(f"grace_days = {grace}")
        values["grace_days"] = grace
    for name, choices in (("min_overdue_amount", [None, "0.01", "1.00", "50"]),
                          ("amount_tolerance", [None, "0", "0.05"]),
                          ("max_rule_age_hours", [None, "12", "1.5", "48"])):
        choice = draw(st.sampled_from(choices))
        if choice is not None:
            lines.append(f"{name} = {choice}")
            values[name] = Decimal(choice)
    policy = draw(st.sampled_from([None, None, "hold_all"]))
    if policy is not None:
        lines.append(f'unplaced_payment_policy = "{policy}"')
        values["unplaced_payment_policy"] = policy
    most = draw(st.sampled_from([None, None, 0, 1]))
    if most is not None:
        lines.append(f"max_unplaced_payments = {most}")
        values["max_unplaced_payments"] = most
    dpd_tolerance = draw(st.sampled_from([None, 0, 2]))
    if dpd_tolerance is not None:
        lines.append(f"dpd_tolerance = {dpd_tolerance}")
        values["dpd_tolerance"] = dpd_tolerance
    overrides = draw(st.sampled_from([{}, {}, {"STALE_DATA": "send"},
                                      {"NOT_OVERDUE": "hold", "RULE_MISMATCH": "block"}]))
    if overrides:
        lines.append("[verdicts]")
        lines += [f'{flag} = "{verdict}"' for flag, verdict in overrides.items()]
        values["verdicts"] = {**DEFAULT_POLICY, **overrides}
    return Settings(**values), ("\n".join(lines) + "\n") if lines else None


def _amount_text(value: Decimal) -> str:
    return f"{value:.2f}"


@st.composite
def cases(draw: Any) -> Case:
    run, config = draw(run_settings())
    tz = ZoneInfo(run.timezone)
    as_of = datetime.combine(BASE + timedelta(days=draw(st.integers(0, 4))),
                             draw(st.sampled_from([time(2, 0), time(0, 0), time(23, 59, 59)])),
                             tzinfo=tz)

    def stamp(instant: datetime) -> str:
        return render(instant, draw(st.sampled_from(TIME_STYLES)), tz)

    drop = Drop()
    drop.template("T_ESC", "escalation")
    drop.template("T_RNG", "collection", min_dpd=draw(st.sampled_from([None, "1", "3"])),
                  max_dpd=draw(st.sampled_from([None, "5", "30"])))
    drop.template("T_PRE", "reminder", max_dpd="0")
    drop.rule("R_REM", "reminder")

    ledger_changes: list[datetime] = []
    due_dates: dict[str, list[date]] = {}
    n_loans = draw(st.integers(1, 6))
    for i in range(1, n_loans + 1):
        loan_id = f"L{i}"
        if draw(st.integers(0, 7)) > 0:  # else a ledger whose loan is not in `loans`
            drop.loan(loan_id, f"B{i}", draw(st.sampled_from(["active"] * 4 + ["closed"])),
                      draw(st.sampled_from([None, None, None, "0", "1", "3"])))
        amounts: list[Decimal] = []
        due_dates[loan_id] = []
        for number in draw(st.permutations(range(1, draw(st.integers(0, 5)) + 1))):
            due = BASE + timedelta(days=draw(st.sampled_from([-30, -10, -3, -1, 0, 1, 5])))
            amount = draw(st.sampled_from(["100.00", "50.50", "0", "33.33", "0.01", "200"]))
            updated = None
            if draw(st.integers(0, 2)) == 0:
                instant = as_of + timedelta(hours=draw(st.sampled_from([-40, -20, -20, -3, 0,
                                                                         5])))
                ledger_changes.append(instant)
                updated = stamp(instant)
            drop.installment(loan_id, number, due.isoformat(), amount, updated)
            amounts.append(Decimal(amount))
            due_dates[loan_id].append(due)
        for j in range(draw(st.integers(0, 4))):
            if amounts and draw(st.booleans()):
                prefix = sum(amounts[: draw(st.integers(1, len(amounts)))], Decimal(0))
                paid = prefix + draw(st.sampled_from([Decimal("-0.02"), Decimal("-0.01"),
                                                      Decimal(0), Decimal("0.01")]))
                amount = _amount_text(paid) if paid > 0 else "10.00"
            else:
                amount = draw(st.sampled_from(["100.00", "50.5", "0.01", "33.32", "150"]))
            if draw(st.integers(0, 3)) == 0:  # a change near T
                posted = as_of + draw(st.sampled_from(
                    [timedelta(hours=-3), timedelta(seconds=-1), timedelta(0),
                     timedelta(seconds=1), timedelta(hours=2)]))
            else:
                posted = as_of - timedelta(hours=draw(st.sampled_from([48, 25, 12])))
            ledger_changes.append(posted)
            paid_at = stamp(posted - timedelta(hours=1)) if draw(st.booleans()) else None
            drop.payment(f"P{i}_{j}", loan_id, amount,
                         draw(st.sampled_from(["settled", "settled", "pending", "reversed",
                                               "failed"])),
                         stamp(posted), paid_at)
    # Now and then money no loan of loans can take: a typo of a loan_id (the same up to case,
    # punctuation and leading zeros, or not), an unknown loan, an empty one; UNPLACED_PAYMENT.
    for j in range(draw(st.integers(0, 2)) if draw(st.integers(0, 3)) == 0 else 0):
        drop.payment(f"PX{j}", draw(st.sampled_from(["l-1", "L01", "L1x", "LX", ""])),
                     draw(st.sampled_from(["100.00", "50.50", "0.01", "33.32"])),
                     draw(st.sampled_from(["settled", "pending", "reversed"])),
                     stamp(as_of - timedelta(hours=draw(st.sampled_from([3, -1])))))

    # rule_evaluated_at: mostly a fresh snapshot, else at the 24 h edge or at a ledger change
    evaluated_edges = [as_of - timedelta(hours=24), as_of - timedelta(hours=24, seconds=1),
                       as_of - timedelta(hours=30)]
    for change in ledger_changes:
        evaluated_edges += [change - timedelta(seconds=1), change]

    def evaluated_at() -> datetime:
        if draw(st.integers(0, 9)) < 6:
            return as_of - timedelta(hours=draw(st.sampled_from([4, 6, 8])))
        return draw(st.sampled_from(evaluated_edges))

    loan_choices = [f"L{i}" for i in range(1, n_loans + 1)] * 3 + ["LX"]
    message_ids: list[str] = []
    for k in range(draw(st.integers(1, 15))):
        if message_ids and draw(st.integers(0, 19)) == 0:
            message_id = draw(st.sampled_from(message_ids))  # a duplicate
        else:
            message_id = f"M{k + 1}"
        message_ids.append(message_id)
        loan_id = draw(st.sampled_from(loan_choices))
        borrower_id = "B9" if loan_id == "LX" or draw(st.integers(0, 7)) == 0 else f"B{loan_id[1:]}"
        around = due_dates.get(loan_id) or [as_of.astimezone(tz).date()]
        send_day = draw(st.sampled_from(around)) + timedelta(
            days=draw(st.sampled_from([-1, 0, 1, 2, 3, 4, 10])))
        scheduled = datetime.combine(send_day, draw(st.sampled_from(TIMES_OF_DAY)), tzinfo=tz)
        drop.message(
            message_id, loan_id, borrower_id,
            template_id=draw(st.sampled_from(["T_COL", "T_COL", "T_ESC", "T_REM", "T_RNG",
                                              "T_PRE", "T_X"])),
            rule_id=draw(st.sampled_from(["R_DEL", "R_DEL", "R_RISK", "R_REM", "R_X"])),
            rule_evaluated_at=stamp(evaluated_at()),
            scheduled_at=stamp(scheduled),
            borrower_name=f"name {k}", batch_id="BATCH1")

    rules_file = draw(st.sampled_from(["full"] * 6 + ["empty", "missing"]))
    if rules_file != "full":
        drop.tables["rules"] = []
    add_claims(draw, drop, as_of, run)
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3]))):
        corrupt(draw, drop)
    return Case(drop, as_of, run, config, rules_file)


def add_claims(draw: Any, drop: Drop, as_of: datetime, run: Settings) -> None:
    """Claims right, a cent or a day off, or absent: relative to the oracle's truth."""
    truths = reference(drop, as_of, run)
    for row, truth in zip(drop.tables["send_batch"], truths, strict=True):
        amount = truth.overdue_amount if truth.overdue_amount is not None else Decimal("100")
        mode = draw(st.sampled_from([None, None, "0", "0", "0", "0.01", "-0.01", "0.02", "-0.02",
                                     "junk"]))
        if mode == "junk":
            row["claimed_overdue_amount"] = "0.00"
        elif mode is not None:
            row["claimed_overdue_amount"] = _amount_text(amount + Decimal(mode))
        days = truth.days_past_due if truth.days_past_due is not None else 5
        shift = draw(st.sampled_from([None, None, 0, 0, 0, 1, -1, 2, -2, "zero", "minus"]))
        if shift == "zero":
            row["claimed_days_past_due"] = "0"
        elif shift == "minus":
            row["claimed_days_past_due"] = "-1"
        elif shift is not None:
            row["claimed_days_past_due"] = str(days + shift)


PAD = "<pad>"  # marker: surround the cell's own value with spaces (still valid)
CELL_FAULTS: list[tuple[str, str, str | None]] = [
    *[(table, column, value)
      for table, column in (("send_batch", "claimed_days_past_due"),
                            ("installments", "installment_no"), ("loans", "grace_days"),
                            ("templates", "min_dpd"))
      for value in (*BAD_INTEGERS, "-1")],
    *[(table, column, value)
      for table, column in (("send_batch", "claimed_overdue_amount"),
                            ("installments", "amount_due"), ("payments", "amount"))
      for value in (*BAD_AMOUNTS, "0", "-5.00")],
    *[("installments", "due_date", value) for value in BAD_DATES],
    *[(table, column, value)
      for table, column in (("send_batch", "scheduled_at"), ("send_batch", "rule_evaluated_at"),
                            ("installments", "updated_at"), ("payments", "posted_at"),
                            ("payments", "paid_at"))
      for value in BAD_TIMESTAMPS],
    *[(table, column, "other")
      for table, column in (("loans", "status"), ("payments", "status"), ("templates", "kind"),
                            ("rules", "category"))],
    *[(table, column, value)
      for table, columns in REQUIRED.items() for column in columns for value in (None, "  ")],
    *[(table, column, PAD)
      for table, column in (("send_batch", "claimed_overdue_amount"),
                            ("installments", "amount_due"), ("payments", "amount"),
                            ("installments", "installment_no"), ("payments", "posted_at"))],
    ("installments", "loan_id", None),  # rows that cannot be tied to a loan
    ("payments", "loan_id", None),
]
ROW_FAULTS = ["send_batch", "payments", "loans", "installments", "templates", "rules"] * 3
FAULTS: list[Any] = [*CELL_FAULTS, *ROW_FAULTS]


def corrupt(draw: Any, drop: Drop) -> None:
    """One malformed cell or duplicated row, of the kinds docs/interpretations.md names."""
    fault = draw(st.sampled_from(FAULTS))
    if isinstance(fault, str):  # duplicate a row of that table
        rows = drop.tables[fault]
        if rows:
            copy = dict(rows[draw(st.integers(0, len(rows) - 1))])
            if fault == "send_batch":  # the same message_id on a different message
                copy["phone"] = "13900000000"
            if fault == "payments":  # the same payment_id, perhaps on another loan
                copy["loan_id"] = draw(st.sampled_from([copy["loan_id"], "L1"]))
            rows.insert(draw(st.integers(0, len(rows))), copy)
        return
    table, column, value = fault
    rows = drop.tables[table]
    if not rows:
        return
    row = rows[draw(st.integers(0, len(rows) - 1))]
    if value == PAD:
        if row.get(column) is None:
            return
        value = f" {row[column]} "
    row[column] = value


# ---------------------------------------------------------------------------------------
# Running a case and reading what it wrote.


def write_case(case: Case, folder: Path, fmt: str = "csv") -> Path:
    data_dir = case.drop.write(folder / f"drop_{fmt}", fmt)
    if case.rules_file == "missing":
        (data_dir / f"rules.{fmt}").unlink()
    return data_dir


# The checks of the files as a whole, which the oracle does not model (a drop of a few rows
# is no night's feed); UNPLACED_PAYMENT it does, on the whole drop.
NOT_IN_ORACLE_CONFIG = disabled_config("STALE_FEED", "INCOMPLETE_FEED")


def run_case(case: Case, data_dir: Path, out_dir: Path) -> Path:
    args: list[Any] = ["run", data_dir, "--out", out_dir, "--as-of", case.as_of_text]
    config_path = out_dir.parent / f"{out_dir.name}.toml"
    config_path.write_text(NOT_IN_ORACLE_CONFIG + (case.config or ""), encoding="utf-8")
    args += ["--config", config_path]
    result = invoke(*args)
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}\n{describe(case)}"
    return out_dir


def original_header(drop: Drop) -> list[str]:
    columns = list(TABLE_COLUMNS["send_batch"])
    for row in drop.tables["send_batch"]:
        columns += [key for key in row if key not in columns]
    return columns


def read_split(path: Path) -> tuple[list[str], list[tuple[str, ...]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows, f"{path.name} has no header"
    return rows[0], [tuple(r) for r in rows[1:]]


def find_verdict_counts(document: Any) -> dict[str, int] | None:
    """The first mapping in summary.json that counts every verdict."""
    if isinstance(document, dict):
        if all(isinstance(document.get(v), int) for v in OUTCOMES):
            return {v: document[v] for v in OUTCOMES}
        children = list(document.values())
    elif isinstance(document, list):
        children = document
    else:
        return None
    for child in children:
        found = find_verdict_counts(child)
        if found is not None:
            return found
    return None


def describe(case: Case, message_row: dict[str, Any] | None = None) -> str:
    """The case, or just the rows relevant to one message, as text for a failure message."""
    lines = [f"as_of={case.as_of_text} rules_file={case.rules_file} config={case.config!r}"]
    tables = case.drop.tables
    if message_row is None:
        for name, rows in tables.items():
            lines += [f"{name}: {row}" for row in rows]
        return "\n".join(lines)
    loan_id = message_row.get("loan_id")
    lines.append(f"message: {message_row}")
    for name in ("loans", "installments", "payments"):
        lines += [f"{name}: {row}" for row in tables[name] if row.get("loan_id") == loan_id]
    lines += [f"payments (same id): {row}" for row in tables["payments"]
              if row.get("loan_id") != loan_id and any(
                  row.get("payment_id") == other.get("payment_id")
                  for other in tables["payments"] if other.get("loan_id") == loan_id)]
    lines += [f"templates: {row}" for row in tables["templates"]
              if row.get("template_id") == message_row.get("template_id")]
    lines += [f"rules: {row}" for row in tables["rules"]
              if row.get("rule_id") == message_row.get("rule_id")]
    return "\n".join(lines)


def expected_cells(finding: Finding) -> dict[str, str]:
    return {
        "verdict": finding.verdict,
        "flags": ";".join(finding.flags),
        "overdue_amount": "" if finding.overdue_amount is None
        else _amount_text(finding.overdue_amount),
        "days_past_due": "" if finding.days_past_due is None else str(finding.days_past_due),
    }


def by_source_row(out_dir: Path) -> dict[int, dict[str, str]]:
    rows = read_csv_rows(out_dir / "findings.csv")
    numbers = [int(row["source_row"]) for row in rows]
    assert len(numbers) == len(set(numbers)), f"source_row repeated: {sorted(numbers)}"
    return dict(zip(numbers, rows, strict=True))


# ---------------------------------------------------------------------------------------
# Properties.


@pytest.mark.slow
@PROPERTY_SETTINGS
@given(case=cases())
def test_conservation_and_agreement_with_reference(case: Case) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        out_dir = run_case(case, write_case(case, folder), folder / "out")
        findings = by_source_row(out_dir)
        messages = case.drop.tables["send_batch"]

        # a. conservation: each input row once in findings.csv and once across the split
        assert sorted(findings) == list(range(1, len(messages) + 1)), describe(case)
        header = original_header(case.drop)
        expected_split: dict[str, Counter] = {v: Counter() for v in OUTCOMES}
        for number, row in enumerate(messages, start=1):
            cells = tuple("" if row.get(c) is None else row[c] for c in header)
            expected_split[findings[number]["verdict"]][cells] += 1
        total = 0
        for outcome in OUTCOMES:
            split_header, split_rows = read_split(out_dir / f"{outcome}.csv")
            assert split_header == header, f"{outcome}.csv header {split_header}"
            assert Counter(split_rows) == expected_split[outcome], (
                f"{outcome}.csv rows differ from the inputs findings.csv gives {outcome}")
            total += len(split_rows)
        assert total == len(messages)
        summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
        counts = find_verdict_counts(summary)
        assert counts == {v: sum(Counter(expected_split[v]).values()) for v in OUTCOMES}, (
            f"summary.json verdict counts {counts}")

        # b. agreement with the oracle, message by message
        oracle = reference(case.drop, case.as_of, case.settings)
        problems = []
        for number, (row, finding) in enumerate(zip(messages, oracle, strict=True), start=1):
            engine = findings[number]
            expected = expected_cells(finding)
            actual = {key: engine[key] for key in expected}
            if actual != expected:
                problems.append(
                    f"--- send_batch row {number}\n{describe(case, row)}\n"
                    f"expected (reference): {expected}\nactual   (engine):    {actual}\n"
                    f"engine reason: {engine.get('reason')!r}  oracle notes: {finding.reasons}")
            if not is_blank(row.get("message_id")):
                assert engine["message_id"] == row["message_id"]
            if finding.verdict == "rejected":
                assert engine["reason"].strip(), f"row {number} rejected without a reason"
        assert not problems, "\n".join(problems)


def is_blank(value: str | None) -> bool:
    return value is None or not value.strip(" ")


@pytest.mark.slow
@settings(PROPERTY_SETTINGS, max_examples=25)
@given(case=cases())
def test_runs_are_deterministic(case: Case) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data_dir = write_case(case, folder)
        first = run_case(case, data_dir, folder / "out_1")
        second = run_case(case, data_dir, folder / "out_2")
        for name in ("findings.csv", *(f"{v}.csv" for v in OUTCOMES)):
            assert (first / name).read_bytes() == (second / name).read_bytes(), name
        one = pl.read_parquet(first / "findings.parquet")
        two = pl.read_parquet(second / "findings.parquet")
        assert one.schema == two.schema
        assert one.to_dicts() == two.to_dicts()


@pytest.mark.slow
@settings(PROPERTY_SETTINGS, max_examples=25)
@given(case=cases())
def test_csv_and_parquet_inputs_agree(case: Case) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        from_csv = read_csv_rows(run_case(case, write_case(case, folder, "csv"),
                                          folder / "out_csv") / "findings.csv")
        from_parquet = read_csv_rows(run_case(case, write_case(case, folder, "parquet"),
                                              folder / "out_parquet") / "findings.csv")
        assert len(from_csv) == len(from_parquet)
        for row in from_parquet:  # a reason names the file it read: the same, but .parquet
            row["reason"] = re.sub(r"\b(\w+)\.parquet\b", r"\1.csv", row["reason"])
        differences = [
            f"row {row_csv.get('source_row')} {column}: csv {row_csv[column]!r} "
            f"parquet {row_parquet.get(column)!r}"
            for row_csv, row_parquet in zip(from_csv, from_parquet, strict=True)
            for column in row_csv if row_csv[column] != row_parquet.get(column)
        ]
        assert not differences, "\n".join(differences) + "\n" + describe(case)


# ---------------------------------------------------------------------------------------
# The oracle itself, on cases computed by hand.

AS_OF = datetime(2026, 11, 23, 2, 0, tzinfo=SHANGHAI)


def ledger_drop(grace_days: str | None = None, status: str = "active") -> Drop:
    """L1 owes 100 on 11-10, 100 on 11-20 and 100 on 12-10, and has paid 150."""
    drop = Drop().loan("L1", "B1", status, grace_days)
    drop.installment("L1", 1, "2026-11-10", "100.00")
    drop.installment("L1", 2, "2026-11-20", "100.00")
    drop.installment("L1", 3, "2026-12-10", "100.00")
    return drop.payment("P1", "L1", "150.00")


def only(drop: Drop, as_of: datetime = AS_OF, run: Settings | None = None) -> Finding:
    (finding,) = reference(drop, as_of, run)
    return finding


def test_reference_overdue_amount_and_days_past_due() -> None:
    # On 11-23, installments 1 and 2 are past due: C = 200, P = 150, overdue 50.00; the
    # first installment with C_k - P >= 0.01 is no. 2 (200 - 150), due 11-20: 3 days.
    finding = only(ledger_drop().message("M1", claimed_overdue_amount="50.00",
                                         claimed_days_past_due="3"))
    assert (finding.verdict, finding.flags) == ("send", [])
    assert (finding.overdue_amount, finding.days_past_due) == (Decimal("50.00"), 3)


def test_reference_grace_days_and_pre_due_claim() -> None:
    # grace 3: 11-23 > 11-20 + 3 is false, so only no. 1 is past due: 100 - 150 -> 0.
    finding = only(ledger_drop(grace_days="3").message(
        "M1", claimed_overdue_amount="50.00", claimed_days_past_due="0"))
    assert finding.flags == ["NOT_OVERDUE", "PRE_DUE_TARGETING", "RULE_MISMATCH"]
    assert (finding.verdict, finding.overdue_amount, finding.days_past_due) == (
        "block", Decimal(0), 0)


def test_reference_local_midnight_decides_the_day() -> None:
    just_before = only(ledger_drop().message("M1", scheduled_at="2026-11-20T15:59:59Z"))
    just_after = only(ledger_drop().message("M1", scheduled_at="2026-11-20T16:00:00Z"))
    naive = only(ledger_drop().message("M1", scheduled_at="2026-11-21 00:00"))
    # Both are at night in Shanghai, so QUIET_HOURS holds as well; only the day differs.
    assert just_before.flags == ["NOT_OVERDUE", "QUIET_HOURS"]  # 11-20 23:59:59
    assert (just_after.flags, just_after.overdue_amount, just_after.days_past_due) == (
        ["QUIET_HOURS"], Decimal("50.00"), 1)
    assert (naive.overdue_amount, naive.days_past_due) == (Decimal("50.00"), 1)
    in_utc = only(ledger_drop().message("M1", scheduled_at="2026-11-20T16:00:00Z"),
                  run=Settings(timezone="UTC"))
    assert in_utc.flags == ["NOT_OVERDUE"]  # 11-20 16:00 in UTC


def test_reference_closed_loan_reports_amount_but_is_not_overdue() -> None:
    finding = only(ledger_drop(status="closed").message("M1", claimed_days_past_due="3"))
    assert finding.flags == ["NOT_OVERDUE", "RULE_MISMATCH"]  # claim 3 vs truth 0 days
    assert (finding.overdue_amount, finding.days_past_due) == (Decimal("50.00"), 0)


def test_reference_tolerances_are_strict() -> None:
    def flags(amount: str, days: str) -> list[str]:
        return only(ledger_drop().message("M1", claimed_overdue_amount=amount,
                                          claimed_days_past_due=days)).flags

    assert flags("50.01", "4") == []
    assert flags("49.99", "2") == []
    assert flags("50.02", "3") == ["RULE_MISMATCH"]
    assert flags("50.00", "5") == ["RULE_MISMATCH"]


def test_reference_template_range_and_risk_rule() -> None:
    drop = ledger_drop().template("T_RNG", "collection", min_dpd="5", max_dpd="30")
    assert only(drop.message("M1", template_id="T_RNG")).flags == ["RULE_MISMATCH"]
    paid = ledger_drop().payment("P2", "L1", "50.00")  # now nothing is overdue on 11-23
    finding = only(paid.message("M1", rule_id="R_RISK"))
    assert (finding.flags, finding.verdict) == (["NOT_OVERDUE", "PRE_DUE_TARGETING"], "block")
    # a reminder is not collection wording: no NOT_OVERDUE
    assert only(ledger_drop().payment("P2", "L1", "50.00")
                .message("M1", template_id="T_REM")).flags == []


def test_reference_payment_pending_counts_only_known_pending() -> None:
    pending = ledger_drop().payment("P2", "L1", "50.00", status="pending",
                                    posted_at="2026-11-22T10:00:00+08:00")
    assert only(pending.message("M1")).flags == ["PAYMENT_PENDING"]
    later = ledger_drop().payment("P2", "L1", "50.00", status="pending",
                                  posted_at="2026-11-23T03:00:00+08:00")  # after T
    assert only(later.message("M1")).flags == []
    short = ledger_drop().payment("P2", "L1", "49.99", status="pending",
                                  posted_at="2026-11-22T10:00:00+08:00")
    assert only(short.message("M1")).flags == []


def test_reference_stale_data_clauses() -> None:
    changed = ledger_drop().payment("P2", "L1", "1.00", status="failed",
                                    posted_at="2026-11-22T23:00:00+08:00")
    assert only(changed.message("M1")).flags == ["STALE_DATA"]  # after r, before T
    assert only(ledger_drop().message("M1", rule_evaluated_at="2026-11-22T02:00:00+08:00")
                ).flags == []  # exactly 24 h
    assert only(ledger_drop().message("M1", rule_evaluated_at="2026-11-22T01:59:59+08:00")
                ).flags == ["STALE_DATA"]
    updated = ledger_drop()
    updated.tables["installments"][2]["updated_at"] = "2026-11-23 01:00:00"  # naive: local
    assert only(updated.message("M1")).flags == ["STALE_DATA"]


def test_reference_rejected_rows() -> None:
    drop = ledger_drop()
    drop.message("M1", claimed_days_past_due="3.5")
    drop.message("M2", scheduled_at="2026-11-31 09:00")
    drop.message("M3").message("M3")
    drop.message("M4", phone="  ")
    drop.message("M5", claimed_overdue_amount="10.001")
    drop.message("M6", claimed_overdue_amount=" +50 ", claimed_days_past_due="+3")
    verdicts = [f.verdict for f in reference(drop, AS_OF)]
    assert verdicts == ["rejected"] * 6 + ["send"]


def test_reference_unusable_ledger_rows() -> None:
    shared = ledger_drop().loan("L2", "B2").payment("P1", "L2", "5.00")  # P1 twice
    shared.message("M1", borrower_id="B7").message("M2", loan_id="L2", borrower_id="B2")
    first, second = reference(shared, AS_OF)
    assert first.flags == ["BORROWER_MISMATCH", "LEDGER_INVALID"]  # the loan row is fine
    assert (first.verdict, first.overdue_amount, first.days_past_due) == ("block", None, None)
    assert second.flags == ["LEDGER_INVALID"]
    doubled = ledger_drop().loan("L1", "B7")  # loan row twice: not evaluated, not unknown
    assert only(doubled.message("M1", borrower_id="B9")).flags == ["LEDGER_INVALID"]
    bad = ledger_drop().installment("L1", 4, "2026-11-31", "1.00")
    assert only(bad.message("M1")).flags == ["LEDGER_INVALID"]
    twice = ledger_drop().installment("L1", 2, "2026-11-25", "1.00")
    assert only(twice.message("M1")).flags == ["LEDGER_INVALID"]


def test_reference_unknown_loan_and_template() -> None:
    drop = ledger_drop().payment("P9", "LX", "5.00", posted_at="2026-11-23T01:00:00+08:00")
    finding = only(drop.message("M1", loan_id="LX", claimed_overdue_amount="999"))
    # Ledger rows of LX still count; its payment is money no loan of loans can take, and
    # the message is on the loan it names.
    assert finding.flags == ["STALE_DATA", "UNKNOWN_LOAN", "UNPLACED_PAYMENT"]
    assert (finding.verdict, finding.overdue_amount) == ("block", None)
    paid = ledger_drop().payment("P2", "L1", "50.00")
    finding = only(paid.message("M1", template_id="T_X", claimed_overdue_amount="5.00"))
    assert finding.flags == ["RULE_MISMATCH", "UNKNOWN_TEMPLATE"]  # no NOT_OVERDUE
    assert (finding.verdict, finding.overdue_amount) == ("hold", Decimal(0))


def test_reference_text_shapes() -> None:
    assert parse_amount(" 12.3 ") == Decimal("12.30")
    assert [parse_amount(t) for t in ("1,234.00", ".5", "10.001", "1e3", "¥5")] == [None] * 5
    assert parse_integer("-2") == -2
    assert [parse_integer(t) for t in ("3.5", "3.0", "1e2")] == [None] * 3
    assert parse_date("2026-02-28") == date(2026, 2, 28)
    assert [parse_date(t) for t in ("2026/11/01", "2026-11-31", "20261101")] == [None] * 3
    instant = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    for text in ("2026-11-20T09:00:00+08:00", "2026-11-20 09:00+0800", "2026-11-20T09:00+08",
                 "2026-11-20T01:00:00Z", "2026-11-20 09:00:00.000", "2026-11-20T09:00"):
        assert parse_timestamp(text, SHANGHAI) == instant, text
    rejected = ("2026-11-31 09:00", "2026-11-20", "11/20/2026 09:00", "2026-11-20T24:00")
    assert [parse_timestamp(t, SHANGHAI) for t in rejected] == [None] * 4


@pytest.mark.slow
def test_engine_matches_a_hand_computed_case(tmp_path: Path) -> None:
    findings = run_drop(ledger_drop().message("M1", claimed_overdue_amount="50.00",
                                              claimed_days_past_due="3"), tmp_path)
    row = findings["M1"]
    assert (row["verdict"], row["flags"], row["overdue_amount"], row["days_past_due"]) == (
        "send", "", "50.00", "3")


# ---------------------------------------------------------------------------------------
# Text shapes, one cell at a time: the engine against the oracle on one drop in which each
# variant sits on its own message (message cells), loan (ledger cells) or template.

SHAPES = [
    *[pytest.param("scheduled_at", value, id=f"scheduled_at={value}") for value in (
        "2026-11-23T09:00:00+08:00", "2026-11-23 09:00+0800", "2026-11-23T09:00:00+08",
        "2026-11-23T01:00:00Z", "2026-11-23T01:00:00-00:00", "2026-11-22T20:00:00-05:00",
        "2026-11-23T06:30:00+05:30", "2026-11-23T09:00", "2026-11-23 09:00:00.5",
        "2026-11-23T01:00:00.000001Z", " 2026-11-23T09:00 ", "2026-11-23t09:00",
        "2026-11-23T09:00:00z", "2026-11-23T09:00:00.1234567", "2026-11-23T09:00:00 +08:00",
        "2026-11-23T09:00:00+08:00:00", "2026-11-23T9:00", "2026-11-23T09:00:00.",
        "2026-11-23T24:00:01", "2026-11-23T24:30", "2026-11-23T23:60", "2026-02-29 09:00",
        "2026-11-23", "20261123T090000", "２０２６-11-23 09:00", "2026-11-23T09:00:00+23:59")],
    pytest.param("scheduled_at", "2026-11-23T24:00:00", id="scheduled_at=T24"),
    *[pytest.param("scheduled_at", value, id=f"scheduled_at={value}")
      for value in ("2026-11-23T09:00:00+25:00", "2026-11-23T09:00:00+08:60",
                    "2026-11-23T09:00:00+2400", "2026-11-23T09:00:00+99")],
    *[pytest.param("claimed_overdue_amount", value, id=f"claimed_overdue_amount={value}")
      for value in ("+50", "-0", "00050.00", "50.", "٥٠", "50.5 ", "1e1", "0x10", "50.000",
                    "-50.00", "NaN", "Infinity", "1234567890123456.78")],
    pytest.param("claimed_overdue_amount", "99999999999999999.99",
                 id="claimed_overdue_amount=1e17"),
    *[pytest.param("claimed_days_past_due", value, id=f"claimed_days_past_due={value}")
      for value in ("+2", "-0", "03", "٣", " 3 ", "1_0", "9223372036854775807")],
    pytest.param("claimed_days_past_due", "99999999999999999999",
                 id="claimed_days_past_due=1e20"),
    *[pytest.param("installments.due_date", value, id=f"due_date={value}") for value in (
        "2026-02-29", "2026-1-05", "2026-11-10 ", "2026-11-10T00:00", "+2026-11-10")],
    *[pytest.param("installments.amount_due", value, id=f"amount_due={value}") for value in (
        "100", "+100.0", "-0", "-0.01", "1e2", "100.", " 100 ")],
    pytest.param("installments.amount_due", "99999999999999999.99",
                 id="amount_due=1e17"),
    *[pytest.param("installments.installment_no", value, id=f"installment_no={value}")
      for value in ("+1", "01", "1.0", "-1")],
    pytest.param("installments.installment_no", "99999999999999999999",
                 id="installment_no=1e20"),
    *[pytest.param("installments.updated_at", value, id=f"updated_at={value}")
      for value in ("2026-11-22", "2026-11-23 01:00", "2026-11-22T17:00:00Z")],
    pytest.param("installments.updated_at", "2026-11-23T24:00:00",
                 id="updated_at=T24"),
    pytest.param("installments.updated_at", "2026-11-22T09:00:00+08:60",
                 id="updated_at=+08:60"),
    *[pytest.param("payments.amount", value, id=f"amount={value}")
      for value in ("0.00", "-0.01", "0.01", "+1")],
    pytest.param("payments.amount", "99999999999999999.99",
                 id="amount=1e17"),
    *[pytest.param("payments.status", value, id=f"status={value}")
      for value in ("Settled", "SETTLED", "pending", "")],
    *[pytest.param("payments.posted_at", value, id=f"posted_at={value}")
      for value in ("2026-11-21T09:00", "2026-11-22T23:00:00", "2026-11-22T15:00:00Z")],
    pytest.param("payments.posted_at", "2026-11-22T24:00:00",
                 id="posted_at=T24"),
    pytest.param("payments.posted_at", "2026-11-21T09:00:00+08:60",
                 id="posted_at=+08:60"),
    *[pytest.param("payments.paid_at", value, id=f"paid_at={value}")
      for value in ("2026-11-31 09:00", "yesterday", "2026-11-21T09:00")],
    pytest.param("payments.paid_at", "2026-11-21T24:00:00", id="paid_at=T24"),
    *[pytest.param("loans.status", value, id=f"loan_status={value}")
      for value in ("Active", "CLOSED", "closed")],
    *[pytest.param("loans.grace_days", value, id=f"grace_days={value}")
      for value in ("-0", "+2", "02", "-1", "2.0", "3", "1000000000")],
    *[pytest.param("templates.min_dpd", value, id=f"min_dpd={value}")
      for value in ("+4", " 1 ", "-5", "10", "4.0")],
    *[pytest.param("templates.kind", value, id=f"kind={value}")
      for value in ("Collection", "escalation", "reminder")],
]


def _shape_drop() -> tuple[Drop, dict[tuple[str, str], str]]:
    """One drop holding every SHAPES variant; returns it and variant -> message_id."""
    drop = ledger_drop()
    where: dict[tuple[str, str], str] = {}
    for number, param in enumerate(SHAPES, start=1):
        cell, value = param.values
        message_id = f"M{number}"
        where[(cell, value)] = message_id
        if "." not in cell:  # a message cell, on loan L1
            claims = {"claimed_overdue_amount": "50.00", "claimed_days_past_due": "3"}
            drop.message(message_id, **{**claims, cell: value})
            continue
        table, column = cell.split(".")
        loan_id, template_id = ("L1", f"T{number}") if table == "templates" else (
            f"L{number}_", "T_COL")
        if table == "templates":
            drop.template(template_id, value if column == "kind" else "collection",
                          min_dpd=value if column == "min_dpd" else None)
        else:
            cells = {"loans": {}, "installments": {}, "payments": {}}
            cells[table][column] = value
            loan = {"status": "active", "grace_days": None, **cells["loans"]}
            drop.loan(loan_id, "B1", loan["status"], loan["grace_days"])
            installment = {"installment_no": "1", "due_date": "2026-11-10",
                           "amount_due": "100.00", "updated_at": None, **cells["installments"]}
            drop.installment(loan_id, **installment)
            drop.installment(loan_id, 2, "2026-11-20", "100.00")
            payment = {"amount": "150.00", "status": "settled",
                       "posted_at": "2026-11-01T10:00:00+08:00", "paid_at": None,
                       **cells["payments"]}
            drop.payment(f"P{number}", loan_id, **payment)
        drop.message(message_id, loan_id=loan_id, template_id=template_id)
    return drop, where


@pytest.fixture(scope="module")
def shape_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Drop, dict, dict]:
    drop, where = _shape_drop()
    findings = run_drop(drop, tmp_path_factory.mktemp("shapes"), ledger_only=False)
    oracle = {f.message_id: f for f in reference(drop, AS_OF)}
    return drop, where, {"engine": findings, "oracle": oracle}


@pytest.mark.parametrize(("cell", "value"), SHAPES)
def test_text_shape_agrees_with_reference(shape_run: tuple, cell: str, value: str) -> None:
    drop, where, results = shape_run
    message_id = where[(cell, value)]
    engine = results["engine"][message_id]
    oracle = results["oracle"][message_id]
    row = next(r for r in drop.tables["send_batch"] if r["message_id"] == message_id)
    actual = {key: engine[key] for key in ("verdict", "flags", "overdue_amount",
                                           "days_past_due")}
    assert actual == expected_cells(oracle), (
        f"{cell}={value!r}\n{describe(Case(drop, AS_OF, Settings(), None, 'full'), row)}\n"
        f"engine reason: {engine['reason']!r}  oracle notes: {oracle.reasons}")


@pytest.mark.slow
@pytest.mark.parametrize("grace_days", ["2147483647", "2147483648"])
def test_huge_grace_days_does_not_fail_the_run(tmp_path: Path, grace_days: str) -> None:
    drop = ledger_drop().loan("L2", "B1", "active", grace_days)
    drop.installment("L2", 1, "2026-11-10", "100.00")
    drop.message("M1").message("M2", loan_id="L2")
    findings = run_drop(drop, tmp_path, ledger_only=False)
    for finding in reference(drop, AS_OF):
        assert {k: findings[finding.message_id][k] for k in ("verdict", "flags")} == {
            "verdict": finding.verdict, "flags": ";".join(finding.flags)}
