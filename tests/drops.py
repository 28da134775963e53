"""Build tiny nightly drops in tests, write them as CSV or Parquet, run them, read findings.

A `Drop` starts with two templates (`T_COL` collection, `T_REM` reminder) and two rules
(`R_DEL` delinquency, `R_RISK` risk_control); every other row is added by the test, so the
difference a test is about is written in the test itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from click.testing import CliRunner, Result

from reconcile.checks import CONTACT_POLICY_FLAGS, FEED_FLAGS
from reconcile.cli.main import main
from reconcile.schema import COMPONENT_COLUMNS
from reconcile.synth.reference import parse_timestamp


def disabled_config(*flags: str) -> str:
    """A config line turning these checks off."""
    return "disabled_checks = [{}]\n".format(", ".join(f'"{flag}"' for flag in flags))


def with_checks_off(config: str, flags: list[str]) -> str:
    """config with these checks off too, added to its own disabled_checks if it has one."""
    own = re.search(r"^disabled_checks\s*=\s*\[(.*?)\]", config, re.MULTILINE)
    if own is None:
        return disabled_config(*flags) + config
    listed = ", ".join(f'"{flag}"' for flag in flags)
    merged = f"{own.group(1)}, {listed}" if own.group(1).strip() else listed
    return config[:own.start()] + f"disabled_checks = [{merged}]" + config[own.end():]


# A tiny drop is no night's feed: it often has no payments at all, or only old ones, which
# the feed checks would rightly hold whole. Tests about one message's flags turn them off;
# tests of the feed checks themselves (tests/test_feeds.py) keep them on.
FEED_CHECKS_OFF_CONFIG = disabled_config(*FEED_FLAGS)
# Tests about the ledger flags also turn the contact-policy checks off: their drops send
# several messages to one borrower at once, which FREQUENCY_CAP and DUPLICATE_IN_BATCH
# would flag.
LEDGER_ONLY_CONFIG = disabled_config(*CONTACT_POLICY_FLAGS, *FEED_FLAGS)

TABLE_COLUMNS: dict[str, list[str]] = {
    "send_batch": [
        "message_id", "borrower_id", "loan_id", "phone", "template_id", "rule_id",
        "rule_evaluated_at", "scheduled_at", "claimed_overdue_amount",
        "claimed_days_past_due", "borrower_name", "message_text", "batch_id",
    ],
    "templates": ["template_id", "kind", "min_dpd", "max_dpd"],
    "loans": ["loan_id", "borrower_id", "status", "grace_days"],
    "installments": ["loan_id", "installment_no", "due_date", "amount_due", "updated_at"],
    "payments": ["payment_id", "loan_id", "amount", "status", "posted_at", "paid_at"],
    "rules": ["rule_id", "category"],
    "collection_pauses": ["loan_id", "kind", "paused_from", "paused_until", "recorded_at"],
}

# Parquet column types, used when every value of a column parses as that type.
_AMOUNT_COLUMNS = {"claimed_overdue_amount", "amount_due", "amount", "min_overdue_amount",
                   *COMPONENT_COLUMNS}
_INTEGER_COLUMNS = {"claimed_days_past_due", "min_dpd", "max_dpd", "grace_days", "installment_no"}
_DATE_COLUMNS = {"due_date", "paused_from", "paused_until"}
_TIMESTAMP_COLUMNS = {"rule_evaluated_at", "scheduled_at", "updated_at", "posted_at", "paid_at",
                      "recorded_at"}
_OFFSET = re.compile(r"(Z|[+-]\d{2}(:?\d{2})?)$")

Row = dict[str, Any]


@dataclass
class Drop:
    """Rows of one nightly drop, as text exactly as a CSV would carry them."""

    tables: dict[str, list[Row]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in TABLE_COLUMNS:
            if name != "collection_pauses":  # optional: absent unless a test adds a pause
                self.tables.setdefault(name, [])
        if not self.tables["templates"]:
            self.template("T_COL", "collection")
            self.template("T_REM", "reminder")
        if not self.tables["rules"]:
            self.rule("R_DEL", "delinquency")
            self.rule("R_RISK", "risk_control")

    def add(self, table: str, **values: Any) -> Drop:
        self.tables[table].append({k: _text(v) for k, v in values.items()})
        return self

    def template(self, template_id: str, kind: str, min_dpd: Any = None,
                 max_dpd: Any = None) -> Drop:
        return self.add("templates", template_id=template_id, kind=kind, min_dpd=min_dpd,
                        max_dpd=max_dpd)

    def rule(self, rule_id: str, category: str) -> Drop:
        return self.add("rules", rule_id=rule_id, category=category)

    def loan(self, loan_id: str, borrower_id: str = "B1", status: str = "active",
             grace_days: Any = None, **optional: Any) -> Drop:
        return self.add("loans", loan_id=loan_id, borrower_id=borrower_id, status=status,
                        grace_days=grace_days, **optional)

    def installment(self, loan_id: str, installment_no: Any, due_date: str, amount_due: Any,
                    updated_at: Any = None, **optional: Any) -> Drop:
        return self.add("installments", loan_id=loan_id, installment_no=installment_no,
                        due_date=due_date, amount_due=amount_due, updated_at=updated_at,
                        **optional)

    def payment(self, payment_id: str, loan_id: str, amount: Any, status: str = "settled",
                posted_at: str = "2026-11-01T10:00:00+08:00", paid_at: Any = None,
                **optional: Any) -> Drop:
        return self.add("payments", payment_id=payment_id, loan_id=loan_id, amount=amount,
                        status=status, posted_at=posted_at, paid_at=paid_at, **optional)

    def pause(self, loan_id: str, paused_from: str, paused_until: str | None = None,
              kind: str = "repayment_plan",
              recorded_at: str = "2026-11-01T10:00:00+08:00") -> Drop:
        """A collection_pauses row (the table exists once a pause is added)."""
        self.tables.setdefault("collection_pauses", [])
        return self.add("collection_pauses", loan_id=loan_id, kind=kind,
                        paused_from=paused_from, paused_until=paused_until,
                        recorded_at=recorded_at)

    def message(self, message_id: str, loan_id: str = "L1", borrower_id: str = "B1",
                template_id: str = "T_COL", rule_id: str = "R_DEL",
                rule_evaluated_at: str = "2026-11-22T22:00:00+08:00",
                scheduled_at: str = "2026-11-23T09:00:00+08:00", **optional: Any) -> Drop:
        return self.add("send_batch", message_id=message_id, borrower_id=borrower_id,
                        loan_id=loan_id, phone=optional.pop("phone", "13800001234"),
                        template_id=template_id, rule_id=rule_id,
                        rule_evaluated_at=rule_evaluated_at, scheduled_at=scheduled_at,
                        **optional)

    def write(self, folder: Path, fmt: str = "csv") -> Path:
        """Write every table as `NAME.csv` or `NAME.parquet` into folder; returns folder."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, rows in self.tables.items():
            columns = _columns(name, rows)
            if fmt == "parquet":
                _write_parquet(folder / f"{name}.parquet", columns, rows)
            else:
                _write_csv(folder / f"{name}.csv", columns, rows)
        return folder


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)


def _columns(table: str, rows: list[Row]) -> list[str]:
    columns = list(TABLE_COLUMNS[table])
    for row in rows:
        columns += [key for key in row if key not in columns]
    return columns


def _write_csv(path: Path, columns: list[str], rows: list[Row]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row[c] for c in columns])


def _write_parquet(path: Path, columns: list[str], rows: list[Row]) -> None:
    """Typed Parquet where a column's values allow it, else text, as a lender's export is."""
    import polars as pl

    series = []
    for name in columns:
        values = [row.get(name) for row in rows]
        series.append(_typed_series(name, values, pl))
    pl.DataFrame(series).write_parquet(path)


def _typed_series(name: str, values: list[str | None], pl: Any) -> Any:
    present = [v for v in values if v is not None]
    try:
        if name in _AMOUNT_COLUMNS:
            parsed = [None if v is None else Decimal(v) for v in values]
            if all(d.as_tuple().exponent >= -2 and abs(d) < Decimal("1e16")
                   for d in parsed if d is not None):
                return pl.Series(name, parsed, dtype=pl.Decimal(18, 2))
        if name in _INTEGER_COLUMNS and all(re.fullmatch(r"[+-]?\d+", v) for v in present):
            return pl.Series(name, [None if v is None else int(v) for v in values], dtype=pl.Int64)
        if name in _DATE_COLUMNS:
            parsed = [None if v is None else dt.date.fromisoformat(v) for v in values]
            return pl.Series(name, parsed, dtype=pl.Date)
        if name in _TIMESTAMP_COLUMNS and present:
            return _timestamp_series(name, values, present, pl)
    except (ValueError, ArithmeticError):
        pass
    return pl.Series(name, values, dtype=pl.String)


def _timestamp_series(name: str, values: list[str | None], present: list[str], pl: Any) -> Any:
    # A value the contract rejects stays text, so Parquet carries the same fault as CSV.
    if any(parse_timestamp(v, ZoneInfo("UTC")) is None for v in present):
        return pl.Series(name, values, dtype=pl.String)
    with_offset = [bool(_OFFSET.search(v)) for v in present]
    parsed = [None if v is None else dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
              for v in values]
    if all(with_offset):
        utc = [None if p is None else p.astimezone(dt.UTC).replace(tzinfo=None) for p in parsed]
        return pl.Series(name, utc, dtype=pl.Datetime("us")).dt.replace_time_zone("UTC")
    if not any(with_offset):
        return pl.Series(name, parsed, dtype=pl.Datetime("us"))
    return pl.Series(name, values, dtype=pl.String)


def invoke(*args: str) -> Result:
    """Run the CLI in-process, as a scheduler would, and return click's result."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def invoke_json(*args: object) -> dict[str, Any]:
    """Run a command with `--format json`: it must exit 0; its JSON document."""
    result = CliRunner().invoke(main, [*(str(a) for a in args), "--format", "json"])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def result(row: dict[str, str]) -> tuple[str, str, str, str]:
    """A findings.csv row's verdict, flags, overdue_amount and days_past_due."""
    return (row["verdict"], row["flags"], row["overdue_amount"], row["days_past_due"])


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def run_drop(drop: Drop, tmp_path: Path, as_of: str = "2026-11-23T02:00:00+08:00",
             fmt: str = "csv", config: str | None = None,
             ledger_only: bool = True, feed_checks: bool = False) -> dict[str, dict[str, str]]:
    """Write drop, run `reconcile run` on it and return findings.csv keyed by message_id.

    ledger_only turns the contact-policy checks off (LEDGER_ONLY_CONFIG), and unless
    feed_checks the feed checks are off too (FEED_CHECKS_OFF_CONFIG)."""
    data_dir = drop.write(tmp_path / f"drop_{fmt}", fmt)
    out_dir = tmp_path / f"out_{fmt}"
    args = ["run", data_dir, "--out", out_dir, "--as-of", as_of]
    disabled = [*(CONTACT_POLICY_FLAGS if ledger_only else ()),
                *(() if feed_checks else FEED_FLAGS)]
    if disabled:
        config = with_checks_off(config or "", disabled)
    if config is not None:
        config_path = tmp_path / "reconcile.toml"
        config_path.write_text(config, encoding="utf-8")
        args += ["--config", config_path]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return {row["message_id"]: row for row in read_csv_rows(out_dir / "findings.csv")}
