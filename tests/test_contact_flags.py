"""Boundary tests of the contact-policy and message-content flags (issue #5), exactly as
docs/contact_checks.md words them, through the CLI.

The defaults every case leans on (see also tests/test_flags.py):

- a loan owes 100.00 due 2026-11-01: 22 days past due on 2026-11-23;
- a message is scheduled 2026-11-23T09:00+08:00 (inside cn's 08:00-22:00), to phone
  13800001234, its rule evaluated 4 h before the as-of T 2026-11-23T02:00+08:00;
- the configured timezone is Asia/Shanghai, the profile cn (cap 3 a day per borrower);
- templates: T_COL and T_COL2 collection, T_ESC escalation, T_REM reminder.

Each case asserts the exact (verdict, flags) of its messages. The contact checks are only
evaluated with ledger_only=False, so every run here passes it.

Most cases are one message each. To keep the file fast, the cases of one table that share a
config go into one drop, each with a borrower and loan of its own (borrower B<n>, loan L<n>,
message id B<n>), so that no case counts toward another's frequency cap or duplicates
another; each case is still its own test with its own id.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from drops import FEED_CHECKS_OFF_CONFIG, TABLE_COLUMNS, Drop, invoke, read_csv_rows, run_drop
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.checks import DEFAULT_VERDICT_POLICY

# Nearly every test here runs the CLI on a drop (about a second each); their check-level
# boundaries run fast in tests/test_checks_unit.py. Left out by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

AS_OF = "2026-11-23T02:00:00+08:00"
S = "2026-11-23T09:00:00+08:00"  # the default scheduled_at
S_AT = dt.datetime.fromisoformat(S)
US_REG_F = 'profile = "us_reg_f"'
OPT_OUT_TEXT = "Reply STOP to opt out"

Outcome = tuple[str, str]  # (verdict, flags)
Rows = dict[str, dict[str, str]]
SEND: Outcome = ("send", "")
QUIET: Outcome = ("hold", "QUIET_HOURS")
CAPPED: Outcome = ("hold", "FREQUENCY_CAP")
DUPLICATE: Outcome = ("block", "DUPLICATE_IN_BATCH")
RESTRICTED: Outcome = ("block", "CONTACT_RESTRICTED")
THIRD_PARTY: Outcome = ("block", "THIRD_PARTY_RECIPIENT")
NAME: Outcome = ("block", "NAME_MISMATCH")
MISMATCH: Outcome = ("hold", "CONTENT_MISMATCH")
PROHIBITED: Outcome = ("block", "PROHIBITED_CONTENT")
LEAK: Outcome = ("block", "PRIVACY_LEAK")
OPT_OUT: Outcome = ("hold", "MISSING_OPT_OUT")
DATA_INVALID: Outcome = ("hold", "CONTACT_DATA_INVALID")

# Columns of the optional inputs (docs/contact_checks.md), in the doc's order.
OPTIONAL_COLUMNS: dict[str, list[str]] = {
    "send_history": ["message_id", "borrower_id", "loan_id", "sent_at", "phone",
                     "template_id", "status"],
    "borrowers": ["borrower_id", "name", "phone", "timezone"],
    "contact_flags": ["borrower_id", "flag", "since", "until"],
}


class ContactDrop(Drop):
    """A Drop that also writes the optional contact tables (CSV) it was given rows for; a
    table named by with_file is written even when it has no rows (header only)."""

    def add(self, table: str, **values: Any) -> ContactDrop:
        self.tables.setdefault(table, [])
        super().add(table, **values)
        return self

    # The builders of Drop, typed to return a ContactDrop so that chains keep going.
    def message(self, message_id: str, *args: Any, **values: Any) -> ContactDrop:
        super().message(message_id, *args, **values)
        return self

    def loan(self, loan_id: str, *args: Any, **values: Any) -> ContactDrop:
        super().loan(loan_id, *args, **values)
        return self

    def installment(self, loan_id: str, *args: Any, **values: Any) -> ContactDrop:
        super().installment(loan_id, *args, **values)
        return self

    def template(self, template_id: str, *args: Any, **values: Any) -> ContactDrop:
        super().template(template_id, *args, **values)
        return self

    def with_file(self, table: str) -> ContactDrop:
        self.tables.setdefault(table, [])
        return self

    def history(self, message_id: str, sent_at: str, borrower_id: str = "B1",
                loan_id: str = "L1", status: str | None = "sent",
                template_id: str | None = "T_COL") -> ContactDrop:
        return self.add("send_history", message_id=message_id, borrower_id=borrower_id,
                        loan_id=loan_id, sent_at=sent_at, status=status,
                        template_id=template_id)

    def borrower(self, borrower_id: str = "B1", name: str | None = None,
                 phone: str | None = None, timezone: str | None = None) -> ContactDrop:
        return self.add("borrowers", borrower_id=borrower_id, name=name, phone=phone,
                        timezone=timezone)

    def contact_flag(self, flag: str | None, since: str | None, until: str | None = None,
                     borrower_id: str = "B1") -> ContactDrop:
        return self.add("contact_flags", borrower_id=borrower_id, flag=flag, since=since,
                        until=until)

    def write(self, folder: Path, fmt: str = "csv") -> Path:
        Drop(tables={k: v for k, v in self.tables.items() if k in TABLE_COLUMNS}).write(
            folder, fmt)
        for name, rows in self.tables.items():
            if name in TABLE_COLUMNS:
                continue
            columns = list(OPTIONAL_COLUMNS[name])
            for row in rows:
                columns += [key for key in row if key not in columns]
            with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(columns)
                for row in rows:
                    writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
        return folder


def contact_drop(*loan_ids: str, borrower_id: str = "B1", amount: str = "100.00",
                 loans: bool = True) -> ContactDrop:
    """Templates T_COL / T_COL2 / T_ESC / T_REM, and each loan (default L1; none when not
    `loans`) of borrower_id owing `amount` due 2026-11-01."""
    drop = ContactDrop()
    drop.template("T_COL2", "collection").template("T_ESC", "escalation")
    for loan_id in loan_ids or (("L1",) if loans else ()):
        drop.loan(loan_id, borrower_id=borrower_id).installment(loan_id, 1, "2026-11-01", amount)
    return drop


def run(drop: Drop, tmp_path: Path, config: str | None = None) -> Rows:
    return run_drop(drop, tmp_path, as_of=AS_OF, config=config, ledger_only=False)


def outcome(row: dict[str, str]) -> Outcome:
    return row["verdict"], row["flags"]


def outcomes(rows: Rows) -> dict[str, Outcome]:
    return {message_id: outcome(row) for message_id, row in rows.items()}


def run_m1(drop: Drop, tmp_path: Path, config: str | None = None) -> Outcome:
    return outcome(run(drop, tmp_path, config)["M1"])


def summary(tmp_path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (tmp_path / "out_csv" / "summary.json").read_text(encoding="utf-8"))
    return loaded


def check(row: dict[str, str], expected: Outcome, *in_reason: str) -> None:
    assert outcome(row) == expected, row["reason"]
    for part in in_reason:
        assert part in row["reason"], row["reason"]


def at(hour: int, minute: int = 0, day: int = 23) -> str:
    return f"2026-11-{day:02d}T{hour:02d}:{minute:02d}:00+08:00"


# --------------------------------------------------------------------------- batches

Build = Callable[..., Any]  # build(drop, borrower_id, loan_id, *the case's param values)


class Batches:
    """One CLI run per (table of cases, config), cached for the module."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self._factory = factory
        self._rows: dict[tuple[int, str | None], Rows] = {}

    def rows(self, cases: list[Any], request: pytest.FixtureRequest, build: Build, *,
             config_at: int | None = None, amount: str = "100.00",
             files: tuple[str, ...] = ()) -> tuple[Rows, str]:
        """All findings of the drop holding the running case, and that case's message id."""
        def config(case: Any) -> str | None:
            return None if config_at is None else case.values[config_at]

        index = [case.id for case in cases].index(request.node.callspec.id)
        group = config(cases[index])
        key = (id(cases), group)
        if key not in self._rows:
            drop = contact_drop(loans=False)
            for table in files:
                drop.with_file(table)
            for n, case in enumerate(cases):
                if config(case) == group:
                    borrower_id, loan_id = f"B{n}", f"L{n}"
                    drop.loan(loan_id, borrower_id=borrower_id).installment(
                        loan_id, 1, "2026-11-01", amount)
                    build(drop, borrower_id, loan_id, *case.values)
            self._rows[key] = run(drop, self._factory.mktemp("batch"), group)
        return self._rows[key], f"B{index}"

    def row(self, cases: list[Any], request: pytest.FixtureRequest, build: Build,
            **options: Any) -> dict[str, str]:
        rows, message_id = self.rows(cases, request, build, **options)
        return rows[message_id]


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> Batches:
    return Batches(tmp_path_factory)


def one_message(**fields: Any) -> Build:
    """A build adding the case's one message, with `fields` naming which param values
    (by position) go into which send_batch column."""
    def build(drop: ContactDrop, borrower_id: str, loan_id: str, *values: Any) -> None:
        columns = {column: values[at_] for column, at_ in fields.items()}
        if "message_text" in columns:
            columns["message_text"] = columns["message_text"] or None
        drop.message(borrower_id, loan_id=loan_id, borrower_id=borrower_id, **columns)
    return build


# --------------------------------------------------------------------------- QUIET_HOURS

QUIET_WINDOW_CASES = [
    pytest.param("2026-11-23T21:59:00+08:00", None, SEND, id="cn-21:59-allowed"),
    pytest.param("2026-11-23T21:59:59+08:00", None, SEND, id="cn-21:59:59-allowed"),
    pytest.param("2026-11-23T22:00:00+08:00", None, QUIET, id="cn-22:00-quiet"),
    pytest.param("2026-11-23T07:59:00+08:00", None, QUIET, id="cn-07:59-quiet"),
    pytest.param("2026-11-23T07:59:59+08:00", None, QUIET, id="cn-07:59:59-quiet"),
    pytest.param("2026-11-23T08:00:00+08:00", None, SEND, id="cn-08:00-allowed"),
    pytest.param("2026-11-23T00:00:00+08:00", None, QUIET, id="cn-midnight-quiet"),
    # A naive timestamp is local time in the configured timezone.
    pytest.param("2026-11-23 21:59:00", None, SEND, id="naive-21:59-shanghai"),
    pytest.param("2026-11-23 22:00:00", None, QUIET, id="naive-22:00-shanghai"),
    # The same clock reading with an offset is another instant: 14:00Z = 22:00 Shanghai.
    pytest.param("2026-11-23 14:00:00", None, SEND, id="naive-14:00-is-14:00-local"),
    pytest.param("2026-11-23T14:00:00Z", None, QUIET, id="14:00Z-is-22:00-local"),
    pytest.param("2026-11-23T13:59:00Z", None, SEND, id="13:59Z-is-21:59-local"),
    pytest.param("2026-11-23T00:00:00Z", None, SEND, id="00:00Z-is-08:00-local"),
    pytest.param("2026-11-22T23:59:00Z", None, QUIET, id="23:59Z-is-07:59-local"),
    # With timezone UTC the naive reading moves along; an offset one is read in UTC.
    pytest.param("2026-11-23 21:59:00", 'timezone = "UTC"', SEND, id="utc-naive-21:59"),
    pytest.param("2026-11-23 22:00:00", 'timezone = "UTC"', QUIET, id="utc-naive-22:00"),
    pytest.param("2026-11-23T13:59:00+08:00", 'timezone = "UTC"', QUIET,
                 id="utc-13:59+08-is-05:59-utc"),
    # us_reg_f ends at 21:00.
    pytest.param("2026-11-23T20:59:00+08:00", US_REG_F, SEND, id="us_reg_f-20:59-allowed"),
    pytest.param("2026-11-23T21:00:00+08:00", US_REG_F, QUIET, id="us_reg_f-21:00-quiet"),
    pytest.param("2026-11-23T07:59:00+08:00", US_REG_F, QUIET, id="us_reg_f-07:59-quiet"),
    pytest.param("2026-11-23T08:00:00+08:00", US_REG_F, SEND, id="us_reg_f-08:00-allowed"),
    # Settings named one by one override the profile's window.
    pytest.param("2026-11-23T08:59:00+08:00", 'allowed_hours_start = "09:00"', QUIET,
                 id="config-start-09:00-at-08:59"),
    pytest.param("2026-11-23T09:00:00+08:00", 'allowed_hours_start = "09:00"', SEND,
                 id="config-start-09:00-at-09:00"),
    pytest.param("2026-11-23T19:59:00+08:00", 'allowed_hours_end = "20:00"', SEND,
                 id="config-end-20:00-at-19:59"),
    pytest.param("2026-11-23T20:00:00+08:00", 'allowed_hours_end = "20:00"', QUIET,
                 id="config-end-20:00-at-20:00"),
    pytest.param("2026-11-23T23:59:00+08:00", 'allowed_hours_end = "24:00"', SEND,
                 id="config-end-24:00-at-23:59"),
    pytest.param("2026-11-23T21:30:00+08:00", f'{US_REG_F}\nallowed_hours_end = "22:00"', SEND,
                 id="us_reg_f-with-end-22:00-at-21:30"),
]


@pytest.mark.parametrize(("scheduled_at", "config", "expected"), QUIET_WINDOW_CASES)
def test_quiet_hours_window(batches: Batches, request: pytest.FixtureRequest, scheduled_at: str,
                            config: str | None, expected: Outcome) -> None:
    row = batches.row(QUIET_WINDOW_CASES, request, one_message(scheduled_at=0), config_at=1)
    check(row, expected)


def test_quiet_hours_reason_names_the_local_time_and_window(tmp_path: Path) -> None:
    drop = contact_drop().message("M1", scheduled_at="2026-11-23T22:30:00+08:00")
    check(run(drop, tmp_path)["M1"], QUIET, "QUIET_HOURS: ", "22:30", "22:00")


def test_quiet_hours_holds_for_every_template_kind(tmp_path: Path) -> None:
    drop = contact_drop("L1", "L2", "L3")
    for loan_id, template_id in [("L1", "T_REM"), ("L2", "T_ESC"), ("L3", "T_UNKNOWN")]:
        drop.message(template_id, loan_id=loan_id, template_id=template_id,
                     scheduled_at="2026-11-23T22:00:00+08:00")
    assert outcomes(run(drop, tmp_path)) == {
        "T_REM": QUIET, "T_ESC": QUIET, "T_UNKNOWN": ("hold", "UNKNOWN_TEMPLATE;QUIET_HOURS")}


LA = "America/Los_Angeles"
QUIET_ZONE_CASES = [
    # 10:00 Shanghai = 02:00Z = 18:00 PST (2026-11-22) in Los Angeles: allowed.
    pytest.param([LA], "2026-11-23T10:00:00+08:00", SEND, id="LA-18:00"),
    # 15:00 Shanghai = 07:00Z = 23:00 PST in Los Angeles: quiet, though fine in Shanghai.
    pytest.param([LA], "2026-11-23T15:00:00+08:00", QUIET, id="LA-23:00"),
    # 13:59 Shanghai = 21:59 PST; 14:00 Shanghai = 22:00 PST.
    pytest.param([LA], "2026-11-23T13:59:00+08:00", SEND, id="LA-21:59"),
    pytest.param([LA], "2026-11-23T14:00:00+08:00", QUIET, id="LA-22:00"),
    # 22:30 Shanghai is 06:30 PST: quiet in Los Angeles too.
    pytest.param([LA], "2026-11-23T22:30:00+08:00", QUIET, id="LA-06:30"),
    # 00:00Z is 08:00 Shanghai but 16:00 PST: allowed for the LA borrower.
    pytest.param([LA], "2026-11-23T00:00:00Z", SEND, id="LA-16:00"),
    # A naive scheduled_at is Shanghai time, then read in the borrower's zone.
    pytest.param([LA], "2026-11-23 15:00:00", QUIET, id="LA-naive-15:00-shanghai"),
    # A borrower row with no timezone is read in the configured one.
    pytest.param([None], "2026-11-23T15:00:00+08:00", SEND, id="no-zone-shanghai-15:00"),
    pytest.param([None], "2026-11-23T22:00:00+08:00", QUIET, id="no-zone-shanghai-22:00"),
    # Two distinct zones: quiet in either one holds (fail closed).
    pytest.param(["Asia/Shanghai", LA], "2026-11-23T15:00:00+08:00", QUIET,
                 id="two-zones-quiet-in-LA"),
    pytest.param(["Asia/Shanghai", LA], "2026-11-23T10:00:00+08:00", SEND,
                 id="two-zones-allowed-in-both"),
    pytest.param([LA, None], "2026-11-23T15:00:00+08:00", QUIET, id="zone-and-blank-zone"),
]


def _zones(drop: ContactDrop, borrower_id: str, loan_id: str, zones: list[str | None],
           scheduled_at: str, _: Outcome) -> None:
    drop.message(borrower_id, loan_id=loan_id, borrower_id=borrower_id,
                 scheduled_at=scheduled_at)
    for zone in zones:
        drop.borrower(borrower_id, phone="13800001234", timezone=zone)


@pytest.mark.parametrize(("zones", "scheduled_at", "expected"), QUIET_ZONE_CASES)
def test_quiet_hours_in_the_borrowers_time_zone(
        batches: Batches, request: pytest.FixtureRequest, zones: list[str | None],
        scheduled_at: str, expected: Outcome) -> None:
    check(batches.row(QUIET_ZONE_CASES, request, _zones), expected)


def test_quiet_hours_zone_of_another_borrower_does_not_apply(tmp_path: Path) -> None:
    drop = (contact_drop().message("M1", scheduled_at="2026-11-23T15:00:00+08:00")
            .borrower("B2", timezone=LA))
    assert run_m1(drop, tmp_path) == SEND


def test_quiet_hours_reason_names_the_borrowers_zone(tmp_path: Path) -> None:
    drop = (contact_drop().message("M1", scheduled_at="2026-11-23T15:00:00+08:00")
            .borrower("B1", timezone=LA))
    check(run(drop, tmp_path)["M1"], QUIET, "QUIET_HOURS: ", LA, "23:00")


# --------------------------------------------------------------------------- FREQUENCY_CAP


def four_loans() -> ContactDrop:
    """B1 owes on L1..L4; a send_history file with no rows."""
    return contact_drop("L1", "L2", "L3", "L4").with_file("send_history")


def test_frequency_cap_third_message_of_the_day_passes_fourth_is_held(tmp_path: Path) -> None:
    drop = four_loans()
    for n in range(1, 5):
        drop.message(f"M{n}", loan_id=f"L{n}", scheduled_at=at(8 + n))
    result = run(drop, tmp_path)
    assert outcomes(result) == {"M1": SEND, "M2": SEND, "M3": SEND, "M4": CAPPED}
    check(result["M4"], CAPPED, "FREQUENCY_CAP: ", "cap 3")


def test_frequency_cap_order_is_scheduled_at_not_file_order(tmp_path: Path) -> None:
    drop = four_loans()
    # Written last-first: M4, first in the file, is still the 4th.
    for n in range(4, 0, -1):
        drop.message(f"M{n}", loan_id=f"L{n}", scheduled_at=at(8 + n))
    assert outcomes(run(drop, tmp_path)) == {
        "M1": SEND, "M2": SEND, "M3": SEND, "M4": CAPPED}


def test_frequency_cap_same_time_is_message_id_order_not_file_order(tmp_path: Path) -> None:
    """A batch read in another row order (a database has none) gives the same answer."""
    drop = four_loans()
    for n in (3, 4, 1, 2):
        drop.message(f"M{n}", loan_id=f"L{n}", scheduled_at=at(10))
    assert outcomes(run(drop, tmp_path)) == {
        "M1": SEND, "M2": SEND, "M3": SEND, "M4": CAPPED}


def test_frequency_cap_counts_other_templates_on_one_loan(tmp_path: Path) -> None:
    drop = four_loans()
    for n, template_id in enumerate(["T_COL", "T_COL2", "T_ESC", "T_UNKNOWN"], start=1):
        drop.message(f"M{n}", template_id=template_id, scheduled_at=at(8 + n))
    # An unknown template counts (fail closed).
    assert outcomes(run(drop, tmp_path)) == {
        "M1": SEND, "M2": SEND, "M3": SEND, "M4": ("hold", "UNKNOWN_TEMPLATE;FREQUENCY_CAP")}


def test_frequency_cap_reminders_do_not_count_and_are_not_capped(tmp_path: Path) -> None:
    drop = four_loans().template("T_REM2", "reminder")
    drop.message("R1", template_id="T_REM", scheduled_at=at(9))
    drop.message("M1", loan_id="L1", scheduled_at=at(10))
    drop.message("R2", template_id="T_REM2", scheduled_at=at(10, 30))
    drop.message("M2", loan_id="L2", scheduled_at=at(11))
    drop.message("M3", loan_id="L3", scheduled_at=at(12))
    drop.message("R3", template_id="T_REM", loan_id="L2", scheduled_at=at(13))
    drop.message("M4", loan_id="L4", scheduled_at=at(14))
    assert outcomes(run(drop, tmp_path)) == {
        "R1": SEND, "M1": SEND, "R2": SEND, "M2": SEND, "M3": SEND, "R3": SEND, "M4": CAPPED}


def test_frequency_cap_counts_per_local_calendar_day(tmp_path: Path) -> None:
    drop = four_loans()
    drop.message("M0", loan_id="L4", scheduled_at="2026-11-22T21:30:00+08:00")
    for n in range(1, 4):
        drop.message(f"M{n}", loan_id=f"L{n}", scheduled_at=at(8 + n))
    assert outcomes(run(drop, tmp_path)) == {"M0": SEND, "M1": SEND, "M2": SEND, "M3": SEND}


def test_frequency_cap_is_per_borrower_under_cn(tmp_path: Path) -> None:
    drop = four_loans().loan("L9", borrower_id="B2").installment("L9", 1, "2026-11-01", "10.00")
    for n in range(1, 4):
        drop.message(f"M{n}", loan_id=f"L{n}", scheduled_at=at(8 + n))
    drop.message("M4", loan_id="L9", borrower_id="B2", scheduled_at=at(12))
    assert outcomes(run(drop, tmp_path)) == {
        "M1": SEND, "M2": SEND, "M3": SEND, "M4": SEND}


def three_collections(drop: ContactDrop, borrower_id: str, loan_id: str, *,
                      sent_at: str = at(8, 30), status: str | None = "sent",
                      template_id: str | None = "T_COL") -> None:
    """borrower_id gets collection messages <id>-1, <id>-2 and <id> at 09:00, 10:00 and
    11:00 on three of its loans, and one send_history row."""
    for n in (1, 2):
        drop.loan(f"{loan_id}-{n}", borrower_id=borrower_id).installment(
            f"{loan_id}-{n}", 1, "2026-11-01", "100.00")
        drop.message(f"{borrower_id}-{n}", loan_id=f"{loan_id}-{n}", borrower_id=borrower_id,
                     scheduled_at=at(8 + n))
    drop.message(borrower_id, loan_id=loan_id, borrower_id=borrower_id, scheduled_at=at(11))
    drop.history(f"H-{borrower_id}", sent_at, borrower_id=borrower_id, loan_id=f"{loan_id}-h",
                 status=status, template_id=template_id)


def check_third_message(rows: Rows, message_id: str, history_counts: bool) -> None:
    assert [outcome(rows[f"{message_id}-{n}"]) for n in (1, 2)] == [SEND, SEND]
    check(rows[message_id], CAPPED if history_counts else SEND)


HISTORY_STATUS_CASES = [
    pytest.param("sent", True, id="sent"),
    pytest.param("delivered", True, id="delivered"),
    pytest.param(None, True, id="blank"),
    pytest.param("failed", False, id="failed"),
    pytest.param("cancelled", False, id="cancelled"),
    pytest.param("rejected", False, id="rejected"),
]


@pytest.mark.parametrize(("status", "counts"), HISTORY_STATUS_CASES)
def test_frequency_cap_history_status(batches: Batches, request: pytest.FixtureRequest,
                                      status: str | None, counts: bool) -> None:
    rows, message_id = batches.rows(
        HISTORY_STATUS_CASES, request,
        lambda drop, b, loan, status, _: three_collections(drop, b, loan, status=status))
    check_third_message(rows, message_id, counts)


HISTORY_DAY_CASES = [
    pytest.param("2026-11-23T00:00:00+08:00", True, id="local-midnight-same-day"),
    pytest.param("2026-11-22T16:00:00Z", True, id="utc-16:00-is-00:00-local"),
    pytest.param("2026-11-23 00:00:00", True, id="naive-local-midnight"),
    pytest.param("2026-11-22T23:59:59+08:00", False, id="last-second-of-the-day-before"),
    pytest.param("2026-11-22T15:59:59Z", False, id="utc-15:59:59-is-the-day-before"),
    # History exactly at the third message's s counts (sent_at <= s); after s it does not.
    pytest.param(at(11), True, id="at-s"),
    pytest.param("2026-11-23T11:00:01+08:00", False, id="one-second-after-s"),
]


@pytest.mark.parametrize(("sent_at", "counts"), HISTORY_DAY_CASES)
def test_frequency_cap_history_on_the_local_day(batches: Batches, request: pytest.FixtureRequest,
                                                sent_at: str, counts: bool) -> None:
    rows, message_id = batches.rows(
        HISTORY_DAY_CASES, request,
        lambda drop, b, loan, sent_at, _: three_collections(drop, b, loan, sent_at=sent_at))
    check_third_message(rows, message_id, counts)


HISTORY_TEMPLATE_CASES = [
    pytest.param("T_REM", False, id="reminder"),
    pytest.param("T_COL", True, id="collection"),
    pytest.param(None, True, id="blank-template"),
    pytest.param("T_GONE", True, id="unknown-template"),
]


@pytest.mark.parametrize(("template_id", "counts"), HISTORY_TEMPLATE_CASES)
def test_frequency_cap_history_template(batches: Batches, request: pytest.FixtureRequest,
                                        template_id: str | None, counts: bool) -> None:
    rows, message_id = batches.rows(
        HISTORY_TEMPLATE_CASES, request,
        lambda drop, b, loan, template_id, _: three_collections(
            drop, b, loan, template_id=template_id))
    check_third_message(rows, message_id, counts)


def test_frequency_cap_history_of_another_borrower_does_not_count(tmp_path: Path) -> None:
    drop = (four_loans().history("H1", at(8, 10), borrower_id="B2", loan_id="L9")
            .history("H2", at(8, 20), borrower_id="B2", loan_id="L9"))
    for n in range(1, 4):
        drop.message(f"M{n}", loan_id=f"L{n}", scheduled_at=at(8 + n))
    assert outcomes(run(drop, tmp_path)) == {"M1": SEND, "M2": SEND, "M3": SEND}


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param("max_messages_per_day = 1", [SEND, CAPPED, CAPPED, CAPPED], id="cap-1"),
        pytest.param("max_messages_per_day = 4", [SEND, SEND, SEND, SEND], id="cap-4"),
        pytest.param("max_messages_per_day = 0", [SEND, SEND, SEND, SEND], id="cap-0-is-none"),
        pytest.param('frequency_scope = "loan"', [SEND, SEND, SEND, SEND],
                     id="scope-loan-four-loans"),
    ],
)
def test_frequency_cap_config(tmp_path: Path, config: str, expected: list[Outcome]) -> None:
    drop = four_loans()
    for n in range(1, 5):
        drop.message(f"M{n}", loan_id=f"L{n}", scheduled_at=at(8 + n))
    assert outcomes(run(drop, tmp_path, config)) == {
        f"M{n}": e for n, e in enumerate(expected, start=1)}


def test_frequency_cap_skipped_without_send_history(tmp_path: Path) -> None:
    drop = contact_drop("L1", "L2", "L3", "L4")
    for n in range(1, 5):
        drop.message(f"M{n}", loan_id=f"L{n}", scheduled_at=at(8 + n))
    assert outcomes(run(drop, tmp_path)) == {
        "M1": SEND, "M2": SEND, "M3": SEND, "M4": SEND}
    assert summary(tmp_path)["skipped_checks"]["FREQUENCY_CAP"] == "no send_history input"


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


@pytest.mark.parametrize(
    ("history_count", "expected"),
    [
        pytest.param(6, SEND, id="7th-in-7-days"),
        pytest.param(7, CAPPED, id="8th-in-7-days"),
    ],
)
def test_frequency_cap_us_reg_f_seven_in_seven_days(tmp_path: Path, history_count: int,
                                                    expected: Outcome) -> None:
    drop = contact_drop().with_file("send_history")
    for n in range(history_count):
        drop.history(f"H{n}", _iso(S_AT - dt.timedelta(days=6) + dt.timedelta(hours=n)))
    drop.message("M1")
    row = run(drop, tmp_path, US_REG_F)["M1"]
    check(row, expected, *(["FREQUENCY_CAP: ", "cap 7"] if expected == CAPPED else []))


@pytest.mark.parametrize(
    ("oldest", "expected"),
    [
        pytest.param(_iso(S_AT - dt.timedelta(days=7)), SEND,
                     id="exactly-7x24h-before-s-is-outside"),
        pytest.param("2026-11-16T01:00:00Z", SEND, id="exactly-7x24h-before-s-in-utc"),
        pytest.param("2026-11-16 09:00:00", SEND, id="exactly-7x24h-before-s-naive"),
        pytest.param(_iso(S_AT - dt.timedelta(days=7) + dt.timedelta(seconds=1)), CAPPED,
                     id="7x24h-minus-1s-before-s-is-inside"),
        pytest.param(_iso(S_AT - dt.timedelta(days=7, seconds=1)), SEND,
                     id="7x24h-plus-1s-before-s-is-outside"),
    ],
)
def test_frequency_cap_us_reg_f_window_is_open_at_s_minus_7_days(
        tmp_path: Path, oldest: str, expected: Outcome) -> None:
    drop = contact_drop().history("H0", oldest)
    for n in range(1, 7):  # six more, well inside the window
        drop.history(f"H{n}", _iso(S_AT - dt.timedelta(days=n)))
    drop.message("M1")
    assert run_m1(drop, tmp_path, US_REG_F) == expected


def test_frequency_cap_us_reg_f_is_per_loan(tmp_path: Path) -> None:
    drop = contact_drop("L1", "L2")
    for n in range(7):
        drop.history(f"H{n}", _iso(S_AT - dt.timedelta(days=1, hours=n)), loan_id="L2")
    drop.message("M1", loan_id="L1").message("M2", loan_id="L2", template_id="T_COL2")
    assert outcomes(run(drop, tmp_path, US_REG_F)) == {"M1": SEND, "M2": CAPPED}


def test_frequency_cap_us_reg_f_has_no_daily_cap(tmp_path: Path) -> None:
    drop = contact_drop().with_file("send_history").template("T_COL3", "collection")
    for n, template_id in enumerate(["T_COL", "T_COL2", "T_ESC", "T_COL3"], start=1):
        drop.message(f"M{n}", template_id=template_id, scheduled_at=at(8 + n),
                     message_text=OPT_OUT_TEXT)
    assert outcomes(run(drop, tmp_path, US_REG_F)) == {
        "M1": SEND, "M2": SEND, "M3": SEND, "M4": SEND}


def test_frequency_cap_us_reg_f_counts_batch_messages_in_the_7_days(tmp_path: Path) -> None:
    drop = contact_drop()
    for n in range(6):
        drop.history(f"H{n}", _iso(S_AT - dt.timedelta(days=2, hours=n)))
    drop.message("M1", template_id="T_COL").message(
        "M2", template_id="T_COL2", scheduled_at=at(10))
    assert outcomes(run(drop, tmp_path, US_REG_F)) == {"M1": SEND, "M2": CAPPED}


# --------------------------------------------------------------------------- DUPLICATE_IN_BATCH


def test_duplicate_earliest_by_scheduled_at_is_not_flagged_even_if_later_in_file(
        tmp_path: Path) -> None:
    drop = contact_drop().message("M1", scheduled_at=at(10)).message("M2", scheduled_at=at(9))
    result = run(drop, tmp_path)
    assert outcomes(result) == {"M1": DUPLICATE, "M2": SEND}
    check(result["M1"], DUPLICATE, "DUPLICATE_IN_BATCH: ", "M2")


def test_duplicate_same_time_is_message_id_order_not_file_order(tmp_path: Path) -> None:
    """A batch read in another row order (a database has none) gives the same answer."""
    drop = contact_drop().message("M2").message("M3").message("M1")
    assert outcomes(run(drop, tmp_path)) == {"M1": SEND, "M2": DUPLICATE, "M3": DUPLICATE}


def test_duplicate_same_instant_written_differently_is_message_id_order(tmp_path: Path) -> None:
    drop = (contact_drop()
            .message("M2", scheduled_at="2026-11-23T01:00:00Z")
            .message("M1", scheduled_at="2026-11-23 09:00:00"))
    assert outcomes(run(drop, tmp_path)) == {"M1": SEND, "M2": DUPLICATE}


def test_duplicate_key_is_borrower_loan_and_template(tmp_path: Path) -> None:
    drop = contact_drop("L1", "L2").message("M0")
    drop.message("OTHER_TEMPLATE", template_id="T_COL2", scheduled_at=at(10))
    drop.message("OTHER_LOAN", loan_id="L2", scheduled_at=at(11))
    drop.message("OTHER_PHONE", phone="13900009999", scheduled_at=at(12))
    drop.message("OTHER_RULE", rule_id="R_RISK", scheduled_at=at(13))
    drop.message("R1", template_id="T_REM", scheduled_at=at(14))
    drop.message("R2", template_id="T_REM", scheduled_at=at(15))
    result = outcomes(run(drop, tmp_path, "disabled_checks = [\"FREQUENCY_CAP\"]"))
    assert result == {
        "M0": SEND, "OTHER_TEMPLATE": SEND, "OTHER_LOAN": SEND,
        "OTHER_PHONE": DUPLICATE, "OTHER_RULE": DUPLICATE,
        "R1": SEND, "R2": DUPLICATE,  # reminders are duplicates too
    }


def test_duplicate_of_a_rejected_row_is_not_flagged(tmp_path: Path) -> None:
    drop = (contact_drop().message("M1", scheduled_at="not a time")
            .message("M2", scheduled_at=at(10)))
    result = run(drop, tmp_path)
    assert result["M1"]["verdict"] == "rejected"
    assert outcome(result["M2"]) == SEND


# --------------------------------------------------------------------------- CONTACT_RESTRICTED

RESTRICTED_INTERVAL_CASES = [
    pytest.param("2026-11-01T00:00:00+08:00", None, RESTRICTED, id="open-ended"),
    pytest.param("2026-11-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00", RESTRICTED,
                 id="since-before-until-after"),
    pytest.param(S, None, RESTRICTED, id="since-equals-s"),
    pytest.param("2026-11-23T01:00:00Z", None, RESTRICTED, id="since-equals-s-in-utc"),
    pytest.param("2026-11-23 09:00:00", None, RESTRICTED, id="since-equals-s-naive"),
    pytest.param("2026-11-23T09:00:01+08:00", None, SEND, id="since-one-second-after-s"),
    pytest.param("2026-11-01T00:00:00+08:00", S, SEND, id="until-equals-s-is-over"),
    pytest.param("2026-11-01 00:00:00", "2026-11-23 09:00:00", SEND,
                 id="until-equals-s-naive"),
    pytest.param("2026-11-01T00:00:00+08:00", "2026-11-23T09:00:01+08:00", RESTRICTED,
                 id="until-one-second-after-s"),
    pytest.param("2026-11-01T00:00:00+08:00", "2026-11-23T08:59:59+08:00", SEND,
                 id="until-before-s"),
]


def _restricted(drop: ContactDrop, borrower_id: str, loan_id: str, flag: str, since: str,
                until: str | None) -> None:
    drop.message(borrower_id, loan_id=loan_id, borrower_id=borrower_id)
    drop.contact_flag(flag, since, until, borrower_id=borrower_id)


@pytest.mark.parametrize(("since", "until", "expected"), RESTRICTED_INTERVAL_CASES)
def test_contact_restricted_active_interval(batches: Batches, request: pytest.FixtureRequest,
                                            since: str, until: str | None,
                                            expected: Outcome) -> None:
    row = batches.row(RESTRICTED_INTERVAL_CASES, request,
                      lambda drop, b, loan, since, until, _: _restricted(
                          drop, b, loan, "opted_out", since, until))
    check(row, expected)


RESTRICTED_FLAG_CASES = [
    pytest.param("opted_out", None, RESTRICTED, id="opted_out"),
    pytest.param("dispute_open", None, RESTRICTED, id="dispute_open"),
    pytest.param("cease_contact", None, RESTRICTED, id="cease_contact"),
    pytest.param("deceased", None, RESTRICTED, id="deceased"),
    pytest.param("bankruptcy", None, RESTRICTED, id="bankruptcy"),
    pytest.param("complaint_open", None, SEND, id="complaint_open-is-informational"),
    pytest.param("complaint_open", 'restricting_contact_flags = ["complaint_open"]',
                 RESTRICTED, id="config-complaint_open-restricting"),
    pytest.param("opted_out", 'restricting_contact_flags = ["complaint_open"]', SEND,
                 id="config-opted_out-not-listed"),
]


@pytest.mark.parametrize(("flag", "config", "expected"), RESTRICTED_FLAG_CASES)
def test_contact_restricted_flags(batches: Batches, request: pytest.FixtureRequest, flag: str,
                                  config: str | None, expected: Outcome) -> None:
    row = batches.row(RESTRICTED_FLAG_CASES, request,
                      lambda drop, b, loan, flag, *_: _restricted(
                          drop, b, loan, flag, "2026-11-01T00:00:00+08:00", None),
                      config_at=1)
    if expected == RESTRICTED:
        check(row, expected, "CONTACT_RESTRICTED: ", flag, "2026-11-01")  # flag and since
    else:
        check(row, expected)


def test_contact_restricted_flag_of_another_borrower(tmp_path: Path) -> None:
    drop = contact_drop().message("M1").contact_flag(
        "opted_out", "2026-11-01T00:00:00+08:00", borrower_id="B2")
    assert run_m1(drop, tmp_path) == SEND


def test_contact_restricted_reason_names_every_active_flag(tmp_path: Path) -> None:
    drop = (contact_drop().message("M1")
            .contact_flag("dispute_open", "2026-11-05T00:00:00+08:00")
            .contact_flag("deceased", "2026-11-10T00:00:00+08:00")
            .contact_flag("bankruptcy", "2026-11-01T00:00:00+08:00", S))
    row = run(drop, tmp_path)["M1"]
    check(row, RESTRICTED, "dispute_open", "deceased")
    assert "bankruptcy" not in row["reason"]


def test_contact_restricted_skipped_without_contact_flags(tmp_path: Path) -> None:
    run(contact_drop().message("M1"), tmp_path)
    assert summary(tmp_path)["skipped_checks"]["CONTACT_RESTRICTED"] == "no contact_flags input"


# --------------------------------------------------------------------------- THIRD_PARTY_RECIPIENT

THIRD_PARTY_CASES = [
    pytest.param("13800001234", ["13800001234"], None, SEND, id="same-number"),
    pytest.param("13900001234", ["13800001234"], None, THIRD_PARTY, id="other-number"),
    pytest.param("+86 138-0000-1234", ["13800001234"], None, SEND, id="plus86-dashes"),
    pytest.param("0086 138 0000 1234", ["13800001234"], None, SEND, id="0086-spaces"),
    pytest.param("138 0000 1234", ["13800001234"], None, SEND, id="spaces"),
    pytest.param("(138) 0000-1234", ["13800001234"], None, SEND, id="punctuation"),
    pytest.param("+8613800001234", ["13800001234"], None, SEND, id="plus86-no-space"),
    pytest.param("13800001234", ["+86 138 0000 1234"], None, SEND,
                 id="verified-written-internationally"),
    pytest.param("0086-13800001234", ["+86 13800001234"], None, SEND, id="both-international"),
    # Without + or 00 a leading 86 is part of the number.
    pytest.param("8613800001234", ["13800001234"], None, THIRD_PARTY,
                 id="86-without-plus-is-not-international"),
    # Another country's code is not dropped under cn.
    pytest.param("+1 415 555 0100", ["4155550100"], None, THIRD_PARTY,
                 id="cn-plus1-is-not-dropped"),
    pytest.param("+1 (415) 555-0100", ["4155550100"], US_REG_F, SEND, id="us_reg_f-plus1"),
    pytest.param("+86 138 0000 1234", ["13800001234"], US_REG_F, THIRD_PARTY,
                 id="us_reg_f-plus86-is-not-dropped"),
    pytest.param("+1 415 555 0100", ["4155550100"], 'phone_country_code = "1"', SEND,
                 id="config-country-code-1"),
    pytest.param("13900001234", ["13800001234", "13900001234"], None, SEND,
                 id="second-of-two-verified"),
    pytest.param("13900001234", ["13800001234", None], None, THIRD_PARTY,
                 id="one-phone-one-blank-row"),
    # A borrower whose rows list no phone is not flagged.
    pytest.param("13900001234", [None], None, SEND, id="rows-without-phone"),
    pytest.param("13900001234", [], None, SEND, id="no-borrowers-rows"),
]


def _phones(drop: ContactDrop, borrower_id: str, loan_id: str, message_phone: str,
            verified: list[str | None], *_: Any) -> None:
    drop.message(borrower_id, loan_id=loan_id, borrower_id=borrower_id, phone=message_phone,
                 message_text=OPT_OUT_TEXT)
    for phone in verified:
        drop.borrower(borrower_id, name="张伟", phone=phone)


@pytest.mark.parametrize(("message_phone", "verified", "config", "expected"), THIRD_PARTY_CASES)
def test_third_party_recipient(batches: Batches, request: pytest.FixtureRequest,
                               message_phone: str, verified: list[str | None],
                               config: str | None, expected: Outcome) -> None:
    row = batches.row(THIRD_PARTY_CASES, request, _phones, config_at=2, files=("borrowers",))
    check(row, expected)


def test_third_party_recipient_reason_names_the_borrower(tmp_path: Path) -> None:
    drop = contact_drop().message("M1", phone="13900005678").borrower("B1", phone="13800001234")
    check(run(drop, tmp_path)["M1"], THIRD_PARTY, "THIRD_PARTY_RECIPIENT: ", "B1", "5678")


def test_contact_reasons_count_what_is_on_file_as_read(tmp_path: Path) -> None:
    """The reasons count the borrower's phones and names as the checks read them (one
    number written two ways is one), over all of the borrower's rows: a message written
    exactly as one row (M1) and one matching only once read (M2) are not flagged, and the
    flagged one (M3) is told of every number and name on file."""
    drop = contact_drop("L1", "L2", "L3")
    drop.message("M1", loan_id="L1", phone="13800001234", borrower_name="张伟")
    drop.message("M2", loan_id="L2", phone="+86 138-0000-1234", borrower_name="张 伟")
    drop.message("M3", loan_id="L3", phone="13900005678", borrower_name="李娜")
    drop.borrower("B1", name="张伟", phone="13800001234")
    drop.borrower("B1", name="Zhang Wei", phone="+86 138 0000 1234")
    drop.borrower("B1", name="张 伟", phone="13700009999")
    rows = run(drop, tmp_path)
    assert outcome(rows["M1"]) == SEND, rows["M1"]["reason"]
    assert outcome(rows["M2"]) == SEND, rows["M2"]["reason"]
    assert rows["M3"]["flags"] == "THIRD_PARTY_RECIPIENT;NAME_MISMATCH"
    assert "among the 2 verified number(s) of borrower B1" in rows["M3"]["reason"]
    assert "(2 name(s) on file)" in rows["M3"]["reason"]


def test_third_party_and_name_skipped_without_borrowers(tmp_path: Path) -> None:
    drop = contact_drop().message("M1", phone="13900005678", borrower_name="李娜")
    assert run_m1(drop, tmp_path) == SEND
    skipped = summary(tmp_path)["skipped_checks"]
    assert skipped["THIRD_PARTY_RECIPIENT"] == "no borrowers input"
    assert skipped["NAME_MISMATCH"] == "no borrowers input"


# --------------------------------------------------------------------------- NAME_MISMATCH

NAME_CASES = [
    pytest.param("张伟", ["张伟"], SEND, id="same"),
    pytest.param("李娜", ["张伟"], NAME, id="different"),
    pytest.param("张 伟", ["张伟"], SEND, id="space-inside"),
    pytest.param("张\u3000伟", ["张伟"], SEND, id="ideographic-space"),
    pytest.param(" 张伟 ", ["张 伟"], SEND, id="spaces-around"),
    pytest.param("zhang wei", ["Zhang Wei"], SEND, id="lower-case"),
    pytest.param("ZHANGWEI", ["Zhang Wei"], SEND, id="upper-no-space"),
    pytest.param("Zhang Wen", ["Zhang Wei"], NAME, id="one-letter-off"),
    pytest.param("张伟", ["张伟伟"], NAME, id="prefix-is-not-a-match"),
    pytest.param("Zhang Wei", ["张伟", "Zhang Wei"], SEND, id="second-known-name"),
    pytest.param(None, ["张伟"], SEND, id="empty-borrower-name"),
    pytest.param("李娜", [None], SEND, id="no-name-on-file"),
    pytest.param("李娜", [], SEND, id="no-borrowers-rows"),
]


def _names(drop: ContactDrop, borrower_id: str, loan_id: str, borrower_name: str | None,
           names_on_file: list[str | None], _: Outcome) -> None:
    drop.message(borrower_id, loan_id=loan_id, borrower_id=borrower_id,
                 borrower_name=borrower_name)
    for name in names_on_file:
        drop.borrower(borrower_id, name=name, phone="13800001234")


@pytest.mark.parametrize(("borrower_name", "names_on_file", "expected"), NAME_CASES)
def test_name_mismatch(batches: Batches, request: pytest.FixtureRequest,
                       borrower_name: str | None, names_on_file: list[str | None],
                       expected: Outcome) -> None:
    row = batches.row(NAME_CASES, request, _names, files=("borrowers",))
    check(row, expected, *(["NAME_MISMATCH: "] if expected == NAME else []))


# --------------------------------------------------------------------------- CONTENT_MISMATCH

TEXT = one_message(message_text=0)

CONTENT_CASES = [
    # Truth: 1234.56 overdue, 22 days past due.
    pytest.param("您的欠款¥1,234.56", SEND, id="yen-grouped"),
    pytest.param("您的欠款¥1,234.57", SEND, id="off-by-0.01"),
    pytest.param("您的欠款¥1,234.55", SEND, id="under-by-0.01"),
    pytest.param("您的欠款¥1,234.58", MISMATCH, id="off-by-0.02"),
    pytest.param("您的欠款¥1,234.54", MISMATCH, id="under-by-0.02"),
    pytest.param("您的欠款1234.56元", SEND, id="yuan-after"),
    pytest.param("您的欠款 1234.58 元", MISMATCH, id="yuan-after-spaced-off-by-0.02"),
    pytest.param("您的欠款1,234.58元", MISMATCH, id="yuan-grouped-off-by-0.02"),
    pytest.param("amount due RMB 1,234.56", SEND, id="rmb"),
    pytest.param("amount due RMB 1,234.58", MISMATCH, id="rmb-off-by-0.02"),
    pytest.param("amount due CNY1234.58", MISMATCH, id="cny-off-by-0.02"),
    pytest.param("欠款￥1234.58", MISMATCH, id="fullwidth-yen-off-by-0.02"),
    pytest.param("pay $1,234.56 now", SEND, id="dollar"),
    pytest.param("pay $1,234.58 now", MISMATCH, id="dollar-off-by-0.02"),
    pytest.param("欠款¥1234.5", MISMATCH, id="one-decimal-is-1234.50"),
    pytest.param("欠款¥1235", MISMATCH, id="whole-yuan-off"),
    pytest.param("欠款¥1,234.56，另有¥9.99手续费", MISMATCH, id="any-stated-amount-wrong"),
    # Not amounts: no currency marker, or digits that run on.
    pytest.param("欠款1234.99", SEND, id="bare-number-is-no-amount"),
    pytest.param("欠款1234.567元", SEND, id="three-decimals-is-no-amount"),
    pytest.param("请拨打95588", SEND, id="hotline-is-no-amount"),
    # Days overdue, tolerance 1.
    pytest.param("您已逾期22天", SEND, id="dpd-exact"),
    pytest.param("您已逾期23天", SEND, id="dpd+1"),
    pytest.param("您已逾期21天", SEND, id="dpd-1"),
    pytest.param("您已逾期24天", MISMATCH, id="dpd+2"),
    pytest.param("您已逾期20天", MISMATCH, id="dpd-2"),
    pytest.param("您已逾期 24 日", MISMATCH, id="dpd-ri-spaced"),
    pytest.param("You are 22 days overdue", SEND, id="days-overdue-exact"),
    pytest.param("You are 24 days overdue", MISMATCH, id="days-overdue+2"),
    pytest.param("You are 20 days past due", MISMATCH, id="days-past-due-2"),
    pytest.param("Your account is overdue by 24 days", MISMATCH, id="overdue-by"),
    pytest.param("Your account is Overdue For 30 Days", MISMATCH, id="overdue-for-any-case"),
    pytest.param("逾期22天，欠款¥1,234.56", SEND, id="both-right"),
    pytest.param("", SEND, id="no-text-not-evaluated"),
]


@pytest.mark.parametrize(("text", "expected"), CONTENT_CASES)
def test_content_mismatch(batches: Batches, request: pytest.FixtureRequest, text: str,
                          expected: Outcome) -> None:
    check(batches.row(CONTENT_CASES, request, TEXT, amount="1234.56"), expected)


CONTENT_KIND_CASES = [
    # A reminder states the coming bill: its amounts are not read, its days are.
    pytest.param("T_REM", "本期账单¥500.00", SEND, id="reminder-amount-not-read"),
    pytest.param("T_REM", "您已逾期30天", MISMATCH, id="reminder-days-read"),
    pytest.param("T_ESC", "欠款¥500.00", MISMATCH, id="escalation-amount-read"),
    pytest.param("T_COL2", "欠款¥500.00", MISMATCH, id="collection-amount-read"),
    # An unknown template is no usable collection one: its amounts are not read, its days are.
    pytest.param("T_NONE", "欠款¥500.00", ("hold", "UNKNOWN_TEMPLATE"),
                 id="unknown-template-amount-not-read"),
    pytest.param("T_NONE", "您已逾期30天", ("hold", "UNKNOWN_TEMPLATE;CONTENT_MISMATCH"),
                 id="unknown-template-days-read"),
]


@pytest.mark.parametrize(("template_id", "text", "expected"), CONTENT_KIND_CASES)
def test_content_mismatch_by_template_kind(batches: Batches, request: pytest.FixtureRequest,
                                           template_id: str, text: str,
                                           expected: Outcome) -> None:
    build = one_message(template_id=0, message_text=1)
    check(batches.row(CONTENT_KIND_CASES, request, build, amount="1234.56"), expected)


CONTENT_TOLERANCE_CASES = [
    pytest.param("欠款¥1,235.06", "amount_tolerance = 0.50", SEND, id="tol-0.50-off-0.50"),
    pytest.param("欠款¥1,235.07", "amount_tolerance = 0.50", MISMATCH, id="tol-0.50-off-0.51"),
    pytest.param("逾期22天", "dpd_tolerance = 0", SEND, id="dpd-tol-0-exact"),
    pytest.param("逾期23天", "dpd_tolerance = 0", MISMATCH, id="dpd-tol-0-off-1"),
]


@pytest.mark.parametrize(("text", "config", "expected"), CONTENT_TOLERANCE_CASES)
def test_content_mismatch_tolerances_from_config(
        batches: Batches, request: pytest.FixtureRequest, text: str, config: str,
        expected: Outcome) -> None:
    row = batches.row(CONTENT_TOLERANCE_CASES, request, TEXT, amount="1234.56", config_at=1)
    check(row, expected)


def test_content_mismatch_needs_a_known_loan(tmp_path: Path) -> None:
    drop = contact_drop().message("M1", loan_id="L9", message_text="逾期99天，欠款¥1.00")
    assert run_m1(drop, tmp_path) == ("block", "UNKNOWN_LOAN")


def test_content_mismatch_needs_a_usable_ledger(tmp_path: Path) -> None:
    drop = (contact_drop().installment("L1", 2, "not a date", "5.00")
            .message("M1", message_text="逾期99天，欠款¥1.00"))
    assert run_m1(drop, tmp_path) == ("hold", "LEDGER_INVALID")


def test_content_mismatch_on_a_loan_that_is_not_overdue(tmp_path: Path) -> None:
    # Truth is 0.00 and 0 days: the stated 100.00 is wrong, the stated 0 days is right.
    drop = (ContactDrop().loan("L1").installment("L1", 1, "2026-12-01", "100.00")
            .message("M1", message_text="您已逾期0天，欠款¥100.00"))
    check(run(drop, tmp_path)["M1"], ("block", "NOT_OVERDUE;CONTENT_MISMATCH"), "100.00")


def test_content_mismatch_reason_quotes_the_stated_and_true_values(tmp_path: Path) -> None:
    drop = contact_drop(amount="1234.56").message("M1", message_text="逾期30天，欠款¥1,299.00")
    check(run(drop, tmp_path)["M1"], MISMATCH,
          "CONTENT_MISMATCH: ", "1,299.00", "1234.56", "30", "22")


def test_content_flags_skipped_without_message_text_column(tmp_path: Path) -> None:
    data_dir = contact_drop().message("M1").write(tmp_path / "drop")
    batch = data_dir / "send_batch.csv"
    rows = read_csv_rows(batch)
    with batch.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, [c for c in rows[0] if c != "message_text"],
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    out_dir = tmp_path / "out"
    result = invoke("run", str(data_dir), "--out", str(out_dir), "--as-of", AS_OF,
                    "--profile", "us_reg_f")
    assert result.exit_code == 0, result.output
    skipped = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))[
        "skipped_checks"]
    for flag in ("CONTENT_MISMATCH", "PROHIBITED_CONTENT", "PRIVACY_LEAK", "MISSING_OPT_OUT"):
        assert skipped[flag] == "send_batch has no message_text column"
    assert "QUIET_HOURS" not in skipped


# --------------------------------------------------------------------------- PROHIBITED_CONTENT

PROHIBITED_CASES = [
    pytest.param("我们将联系你的通讯录", None, PROHIBITED, "通讯录", id="contacts-simplified"),
    pytest.param("我們將聯繫你的通訊錄", None, PROHIBITED, "通訊錄", id="contacts-traditional"),
    pytest.param("再不还款将曝光你", None, PROHIBITED, "曝光", id="expose"),
    pytest.param("相机曝光度设置", None, SEND, None, id="exposure-setting"),
    pytest.param("曝光补偿", None, SEND, None, id="exposure-compensation"),
    pytest.param("曝光度正常，但我们会曝光你", None, PROHIBITED, "曝光",
                 id="exception-and-term-both"),
    pytest.param("已移交公安", None, PROHIBITED, "公安", id="police-zh"),
    pytest.param("请按办公安排还款", None, SEND, None, id="office-arrangements"),
    pytest.param("法院传票已寄出", None, PROHIBITED, "法院传票", id="court-summons"),
    pytest.param("法院傳票已寄出", None, PROHIBITED, "法院傳票", id="court-summons-traditional"),
    pytest.param("你将被列入黑名单", None, PROHIBITED, "黑名单", id="blacklist"),
    pytest.param("你將被列入黑名單", None, PROHIBITED, "黑名單", id="blacklist-traditional"),
    pytest.param("We will call the police", None, PROHIBITED, "police", id="police"),
    pytest.param("We will call the POLICE.", None, PROHIBITED, "police", id="police-upper-case"),
    pytest.param("See our privacy policy", None, SEND, None, id="policy"),
    pytest.param("Ask a policeman", None, SEND, None, id="policeman-not-whole-word"),
    pytest.param("Read the policies", None, SEND, None, id="policies"),
    pytest.param("You may go to jail.", None, PROHIBITED, "jail", id="jail"),
    pytest.param("Pay by the due date", None, SEND, None, id="clean-english"),
    pytest.param("请按时还款", None, SEND, None, id="clean-chinese"),
    # A custom list replaces the defaults.
    pytest.param("小心催命", 'prohibited_terms = ["催命"]', PROHIBITED, "催命", id="custom-term"),
    pytest.param("已移交公安", 'prohibited_terms = ["催命"]', SEND, None,
                 id="custom-list-replaces-defaults"),
    pytest.param("已經報警", 'prohibited_terms = ["报警"]', PROHIBITED, "報警",
                 id="custom-term-traditional-form"),
    pytest.param("a Debt Collector calls", 'prohibited_terms = ["debt collector"]',
                 PROHIBITED, "debt collector", id="custom-latin-phrase"),
    pytest.param("公安局办公室", 'prohibited_term_exceptions = ["公安局"]', SEND, None,
                 id="custom-exception"),
    pytest.param("请按办公安排还款", 'prohibited_term_exceptions = ["无关"]', PROHIBITED, "公安",
                 id="custom-exceptions-replace-defaults"),
]


@pytest.mark.parametrize(("text", "config", "expected", "quoted"), PROHIBITED_CASES)
def test_prohibited_content(batches: Batches, request: pytest.FixtureRequest, text: str,
                            config: str | None, expected: Outcome, quoted: str | None) -> None:
    row = batches.row(PROHIBITED_CASES, request, TEXT, config_at=1)
    # The reason quotes the term as the text writes it.
    check(row, expected, *([] if quoted is None else ["PROHIBITED_CONTENT: ", f'"{quoted}"']))


def test_prohibited_content_reason_quotes_each_term(tmp_path: Path) -> None:
    drop = contact_drop().message("M1", message_text="通知您的家人并曝光，还会找police")
    check(run(drop, tmp_path)["M1"], PROHIBITED, '"通知您的家人"', '"曝光"', '"police"')


# --------------------------------------------------------------------------- PRIVACY_LEAK


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2 == 1:
            d = d * 2 - 9 if d >= 5 else d * 2
        total += d
    return total % 10 == 0


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_char(first17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def id_valid(run: str) -> bool:
    """18 characters, 17 digits and a digit or upper-case X (the doc: `[0-9]+X?`), with
    the ISO 7064 MOD 11-2 check character."""
    return (len(run) == 18 and run[:17].isdigit() and (run[17].isdigit() or run[17] == "X")
            and id_check_char(run[:17]) == run[17])


VALID_ID = "11010519491231002X"
VALID_DIGIT_ID = "110101199003074477"
INVALID_ID = "110105194912310021"


def test_id_and_card_fixtures_are_what_they_say() -> None:
    assert id_valid(VALID_ID) and id_valid(VALID_DIGIT_ID)
    assert not id_valid(INVALID_ID) and not id_valid(VALID_ID.lower())
    # So none of them is flagged as a bank card instead:
    assert not any(luhn_valid(d) for d in (INVALID_ID, VALID_DIGIT_ID, "9" + VALID_DIGIT_ID,
                                           VALID_ID[:17]))
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert luhn_valid("4222222222222") and luhn_valid("411111111117")
    assert luhn_valid("4111111111111111110") and luhn_valid("41111111111111111115")


PRIVACY_CASES = [
    pytest.param(f"身份证号{VALID_ID}", LEAK, "resident ID", id="id-valid-X"),
    pytest.param(f"身份证{VALID_DIGIT_ID}已登记", LEAK, "resident ID", id="id-valid-digit"),
    pytest.param(f"身份证号{INVALID_ID}", SEND, None, id="id-invalid-check-digit"),
    # The doc reads IDs as [0-9]+X?, upper-case X only.
    pytest.param(f"身份证号{VALID_ID.lower()}", SEND, None, id="id-lower-x-is-no-id"),
    pytest.param(f"编号9{VALID_DIGIT_ID}", SEND, None, id="id-inside-19-digit-run"),
    pytest.param("卡号4111111111111111", LEAK, "bank card", id="card-luhn-valid"),
    pytest.param("卡号4111 1111 1111 1111", LEAK, "bank card", id="card-grouped-spaces"),
    pytest.param("卡号4111-1111-1111-1111", LEAK, "bank card", id="card-grouped-hyphens"),
    pytest.param("卡号4111111111111112", SEND, None, id="card-luhn-invalid"),
    pytest.param("卡号4111 1111 1111 1112", SEND, None, id="card-grouped-luhn-invalid"),
    pytest.param("卡号4111  1111 1111 1111", SEND, None, id="double-space-breaks-the-run"),
    pytest.param("卡号4222222222222", LEAK, "bank card", id="card-13-digits"),
    pytest.param("卡号4111111111111111110", LEAK, "bank card", id="card-19-digits"),
    pytest.param("号码411111111117", SEND, None, id="12-digits-luhn-valid-too-short"),
    pytest.param("号码41111111111111111115", SEND, None, id="20-digits-luhn-valid-too-long"),
    pytest.param("尾号1234的银行卡", SEND, None, id="masked-weihao"),
    pytest.param("卡号****1234", SEND, None, id="masked-stars"),
    pytest.param("住址：中山路123号", LEAK, "address", id="zh-road-number"),
    pytest.param("住在5号楼3室", LEAK, "address", id="zh-building-room"),
    pytest.param("住在5栋2单元", LEAK, "address", id="zh-block-unit"),
    pytest.param("We know you live at 12 Main Street", LEAK, "address", id="en-street"),
    pytest.param("call 2 more times or we drive", SEND, None, id="en-not-an-address"),
    pytest.param("中山路很堵", SEND, None, id="zh-road-without-number"),
    pytest.param("请致电13800001234联系我们", SEND, None, id="phone-number-11-digits"),
    pytest.param("还款日2026-11-23，金额¥100.00", SEND, None, id="date-and-amount"),
]


@pytest.mark.parametrize(("text", "expected", "in_reason"), PRIVACY_CASES)
def test_privacy_leak(batches: Batches, request: pytest.FixtureRequest, text: str,
                      expected: Outcome, in_reason: str | None) -> None:
    row = batches.row(PRIVACY_CASES, request, TEXT)
    check(row, expected, *([] if in_reason is None else ["PRIVACY_LEAK: ", in_reason]))


def test_privacy_leak_reason_does_not_repeat_the_number(tmp_path: Path) -> None:
    drop = contact_drop().message("M1", message_text="卡号4111111111111111")
    row = run(drop, tmp_path)["M1"]
    check(row, LEAK, "1111")
    assert "4111111111111111" not in row["reason"]


ONLY_PRIVACY = "disabled_checks = [{}]\n".format(", ".join(
    f'"{f}"' for f in ("QUIET_HOURS", "FREQUENCY_CAP", "DUPLICATE_IN_BATCH",
                       "PROHIBITED_CONTENT", "CONTENT_MISMATCH")))


def _leaks(texts: list[str]) -> list[bool]:
    """PRIVACY_LEAK of each text, one message each in one drop."""
    drop = ContactDrop()
    for n, text in enumerate(texts):
        drop.loan(f"L{n}", borrower_id=f"B{n}").installment(f"L{n}", 1, "2026-11-01", "1.00")
        drop.message(f"M{n}", loan_id=f"L{n}", borrower_id=f"B{n}", message_text=text)
    with tempfile.TemporaryDirectory() as folder:
        rows = run(drop, Path(folder), ONLY_PRIVACY)
    return ["PRIVACY_LEAK" in rows[f"M{n}"]["flags"].split(";") for n in range(len(texts))]


def _expected_leak(digits: str) -> bool:
    return (13 <= len(digits) <= 19 and luhn_valid(digits)) or id_valid(digits)


def test_privacy_leak_agrees_with_python_luhn_on_random_digit_strings() -> None:
    generator = random.Random(20261123)
    runs = []
    for _ in range(150):
        digits = "".join(generator.choice("0123456789") for _ in range(generator.randint(11, 20)))
        if generator.random() < 0.5:  # about half of them made Luhn-valid
            digits = next(digits[:-1] + d for d in "0123456789" if luhn_valid(digits[:-1] + d))
        runs.append(digits)
    assert _leaks([f"卡号{d}。" for d in runs]) == [_expected_leak(d) for d in runs]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(alphabet="0123456789", min_size=12, max_size=20), min_size=1,
                max_size=25))
def test_privacy_leak_card_detection_matches_luhn_property(runs: list[str]) -> None:
    assert _leaks([f"卡号{d}。" for d in runs]) == [_expected_leak(d) for d in runs]


# --------------------------------------------------------------------------- MISSING_OPT_OUT

OPT_OUT_CASES = [
    pytest.param("Your payment is past due. Reply STOP to opt out", US_REG_F, SEND,
                 id="reply-stop"),
    pytest.param("Your payment is past due.", US_REG_F, OPT_OUT, id="no-opt-out"),
    pytest.param("Your payment is past due. reply stop to end", US_REG_F, SEND, id="lower-case"),
    pytest.param("Past due. UNSUBSCRIBE: example.com", US_REG_F, SEND, id="unsubscribe-upper"),
    pytest.param("Your payment is past due. Text STOP", US_REG_F, SEND, id="text-stop"),
    pytest.param("Past due. Stop by our office", US_REG_F, OPT_OUT,
                 id="stop-alone-is-no-instruction"),
    pytest.param("请尽快还款，回复TD退订", US_REG_F, SEND, id="chinese-tuiding"),
    pytest.param("", US_REG_F, SEND, id="no-text-not-evaluated"),
    pytest.param("Your payment is past due.", None, SEND, id="cn-never"),
    pytest.param("Your payment is past due.", "require_opt_out = true", OPT_OUT,
                 id="cn-with-require_opt_out"),
    pytest.param("Your payment is past due.", f"{US_REG_F}\nrequire_opt_out = false", SEND,
                 id="us_reg_f-with-require_opt_out-false"),
    pytest.param("Past due. Send QUIT", f'{US_REG_F}\nopt_out_phrases = ["send quit"]', SEND,
                 id="custom-phrase"),
    pytest.param("Past due. Reply STOP to opt out",
                 f'{US_REG_F}\nopt_out_phrases = ["send quit"]', OPT_OUT,
                 id="custom-phrases-replace-defaults"),
]


@pytest.mark.parametrize(("text", "config", "expected"), OPT_OUT_CASES)
def test_missing_opt_out(batches: Batches, request: pytest.FixtureRequest, text: str,
                         config: str | None, expected: Outcome) -> None:
    check(batches.row(OPT_OUT_CASES, request, TEXT, config_at=1), expected)


def test_missing_opt_out_is_off_under_cn_in_summary(tmp_path: Path) -> None:
    run(contact_drop().message("M1", message_text="Past due."), tmp_path)
    reason = summary(tmp_path)["skipped_checks"]["MISSING_OPT_OUT"]
    assert reason.startswith("off") and "cn" in reason


def test_missing_opt_out_with_the_profile_option(tmp_path: Path) -> None:
    drop = (contact_drop("L1", "L2")
            .message("WITHOUT", message_text="Your payment is past due.")
            .message("WITH", loan_id="L2", message_text=f"Past due. {OPT_OUT_TEXT}"))
    data_dir = drop.write(tmp_path / "drop")
    out_dir = tmp_path / "out"
    config = tmp_path / "feed_checks_off.toml"  # a tiny drop with no payments is no feed
    config.write_text(FEED_CHECKS_OFF_CONFIG, encoding="utf-8")
    result = invoke("run", str(data_dir), "--out", str(out_dir), "--as-of", AS_OF,
                    "--profile", "us_reg_f", "--config", str(config))
    assert result.exit_code == 0, result.output
    rows = {r["message_id"]: r for r in read_csv_rows(out_dir / "findings.csv")}
    assert outcomes(rows) == {"WITHOUT": OPT_OUT, "WITH": SEND}
    skipped = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))[
        "skipped_checks"]
    assert "MISSING_OPT_OUT" not in skipped


# --------------------------------------------------------------------------- CONTACT_DATA_INVALID


@pytest.mark.parametrize(
    ("table", "row"),
    [
        pytest.param("contact_flags", {"flag": "vacation", "since": "2026-11-01"},
                     id="flags-unknown-flag"),
        pytest.param("contact_flags", {"flag": "opted_out", "since": "yesterday"},
                     id="flags-bad-since"),
        pytest.param("contact_flags", {"flag": "opted_out", "since": None},
                     id="flags-empty-since"),
        pytest.param("contact_flags", {"flag": None, "since": "2026-11-01T00:00:00+08:00"},
                     id="flags-empty-flag"),
        pytest.param("contact_flags", {"flag": "complaint_open",
                                       "since": "2026-11-01T00:00:00+08:00", "until": "soon"},
                     id="flags-bad-until"),
        pytest.param("borrowers", {"timezone": "Mars/Olympus_Mons"}, id="borrowers-bad-zone"),
        pytest.param("borrowers", {"timezone": "+08:00"}, id="borrowers-offset-is-no-zone"),
        pytest.param("send_history", {"message_id": "H1", "loan_id": "L1", "sent_at": "later"},
                     id="history-bad-sent_at"),
        pytest.param("send_history", {"message_id": None, "loan_id": "L1",
                                      "sent_at": "2026-11-20T09:00:00+08:00"},
                     id="history-empty-message_id"),
        pytest.param("send_history", {"message_id": "H1", "loan_id": None,
                                      "sent_at": "2026-11-20T09:00:00+08:00"},
                     id="history-empty-loan_id"),
    ],
)
def test_contact_data_invalid(tmp_path: Path, table: str, row: dict[str, str | None]) -> None:
    drop = contact_drop().message("M1").add(table, borrower_id="B1", **row)
    result = run(drop, tmp_path)
    # The reason names the file and row.
    check(result["M1"], DATA_INVALID, "CONTACT_DATA_INVALID: ", table, "row 1")
    issues = read_csv_rows(tmp_path / "out_csv" / "input_issues.csv")
    assert [(i["table"], i["borrower_id"]) for i in issues] == [(table, "B1")]


def test_contact_data_invalid_repeated_history_message_id(tmp_path: Path) -> None:
    drop = (contact_drop().message("M1")
            .history("H1", "2026-11-20T09:00:00+08:00")
            .history("H1", "2026-11-21T09:00:00+08:00"))
    check(run(drop, tmp_path)["M1"], DATA_INVALID, "send_history")


def test_contact_data_invalid_only_for_the_named_borrower(tmp_path: Path) -> None:
    drop = (contact_drop().message("M1")
            .contact_flag("vacation", "2026-11-01T00:00:00+08:00", borrower_id="B2")
            .borrower("B2", timezone="Nowhere/Land"))
    assert run_m1(drop, tmp_path) == SEND


def test_contact_data_invalid_bad_zone_is_not_read_for_quiet_hours(tmp_path: Path) -> None:
    # 15:00 Shanghai is inside the window; the unusable zone is not used to read it.
    drop = (contact_drop().message("M1", scheduled_at="2026-11-23T15:00:00+08:00")
            .borrower("B1", timezone="America/Nowhere"))
    assert run_m1(drop, tmp_path) == DATA_INVALID


def test_contact_data_invalid_unusable_restriction_holds_not_blocks(tmp_path: Path) -> None:
    drop = contact_drop().message("M1").contact_flag("opted_out", "2026-11-01", "later")
    assert run_m1(drop, tmp_path) == DATA_INVALID


# --------------------------------------------------------------------------- verdicts & policy

DEFAULT_VERDICT = {
    "QUIET_HOURS": "hold", "FREQUENCY_CAP": "hold", "DUPLICATE_IN_BATCH": "block",
    "CONTACT_RESTRICTED": "block", "THIRD_PARTY_RECIPIENT": "block", "NAME_MISMATCH": "block",
    "CONTENT_MISMATCH": "hold", "PROHIBITED_CONTENT": "block", "PRIVACY_LEAK": "block",
    "MISSING_OPT_OUT": "hold", "CONTACT_DATA_INVALID": "hold",
}
NEW_FLAGS = tuple(DEFAULT_VERDICT)


def test_default_verdicts_of_the_new_flags_in_the_schema() -> None:
    assert {flag: DEFAULT_VERDICT_POLICY[flag] for flag in NEW_FLAGS} == DEFAULT_VERDICT


def every_flag_drop() -> ContactDrop:
    """One message per new flag, named after it and holding exactly that flag (run it with
    require_opt_out = true for MISSING_OPT_OUT), each on a borrower of its own, plus the
    messages OK1..OK3 and DUP_FIRST that hold none."""
    drop = contact_drop("L1", "L2", "L3", "L4").with_file("send_history")
    for n in range(1, 4):  # B1's 4th message of the day is capped
        drop.message(f"OK{n}", loan_id=f"L{n}", scheduled_at=at(8 + n), message_text=OPT_OUT_TEXT)
    drop.message("FREQUENCY_CAP", loan_id="L4", scheduled_at=at(12), message_text=OPT_OUT_TEXT)
    texts = {"CONTENT_MISMATCH": f"逾期40天 {OPT_OUT_TEXT}",
             "PROHIBITED_CONTENT": f"曝光 {OPT_OUT_TEXT}",
             "PRIVACY_LEAK": f"4111111111111111 {OPT_OUT_TEXT}",
             "MISSING_OPT_OUT": "past due"}
    times = {"QUIET_HOURS": at(22), "DUPLICATE_IN_BATCH": at(10)}
    for name in ("DUP_FIRST", "DUPLICATE_IN_BATCH", *NEW_FLAGS[:1], *NEW_FLAGS[3:]):
        borrower_id = "BD" if name.startswith("DUP") else f"B_{name}"
        loan_id = "LD" if name.startswith("DUP") else f"L_{name}"
        if name != "DUPLICATE_IN_BATCH":
            drop.loan(loan_id, borrower_id=borrower_id).installment(
                loan_id, 1, "2026-11-01", "100.00")
        drop.message(name, loan_id=loan_id, borrower_id=borrower_id,
                     message_text=texts.get(name, OPT_OUT_TEXT),
                     scheduled_at=times.get(name, S),
                     phone="13999999999" if name == "THIRD_PARTY_RECIPIENT" else "13800001234",
                     borrower_name="李娜" if name == "NAME_MISMATCH" else None)
    drop.contact_flag("cease_contact", "2026-11-01T00:00:00+08:00",
                      borrower_id="B_CONTACT_RESTRICTED")
    drop.borrower("B_THIRD_PARTY_RECIPIENT", phone="13800001234")
    drop.borrower("B_NAME_MISMATCH", name="张伟")
    drop.contact_flag("vacation", "2026-11-01", borrower_id="B_CONTACT_DATA_INVALID")
    return drop


@pytest.fixture(scope="module")
def every_flag_rows(tmp_path_factory: pytest.TempPathFactory) -> Rows:
    return run(every_flag_drop(), tmp_path_factory.mktemp("every"), "require_opt_out = true")


@pytest.mark.parametrize("flag", NEW_FLAGS)
def test_every_new_flag_gives_its_default_verdict(every_flag_rows: Rows, flag: str) -> None:
    assert outcome(every_flag_rows[flag]) == (DEFAULT_VERDICT[flag], flag)
    assert every_flag_rows[flag]["reason"].startswith(f"{flag}: ")


def test_every_flag_drop_controls_hold_no_flag(every_flag_rows: Rows) -> None:
    assert [outcome(every_flag_rows[m]) for m in ("OK1", "OK2", "OK3", "DUP_FIRST")] == [SEND] * 4


@pytest.mark.parametrize("flag", NEW_FLAGS)
def test_disabled_checks_removes_the_flag(tmp_path: Path, flag: str) -> None:
    rows = run(every_flag_drop(), tmp_path, f'require_opt_out = true\ndisabled_checks = ["{flag}"]')
    assert all(flag not in row["flags"].split(";") for row in rows.values())
    assert outcome(rows[flag]) == SEND
    assert summary(tmp_path)["skipped_checks"][flag] == "off: disabled_checks"


@pytest.mark.parametrize(
    ("flag", "verdict"),
    [("PROHIBITED_CONTENT", "send"), ("QUIET_HOURS", "block"), ("MISSING_OPT_OUT", "send")],
)
def test_verdict_policy_applies_to_new_flags(tmp_path: Path, flag: str, verdict: str) -> None:
    config = f'require_opt_out = true\n[verdicts]\n{flag} = "{verdict}"'
    assert outcome(run(every_flag_drop(), tmp_path, config)[flag]) == (verdict, flag)


def test_flags_accumulate_in_table_order_and_block_beats_hold(tmp_path: Path) -> None:
    drop = (contact_drop()
            .message("M1", scheduled_at="2026-11-23T23:00:00+08:00", phone="13999999999",
                     message_text="逾期40天，我们将曝光你，卡号4111111111111111")
            .borrower("B1", phone="13800001234"))
    assert run_m1(drop, tmp_path, "require_opt_out = true") == (
        "block", "QUIET_HOURS;THIRD_PARTY_RECIPIENT;CONTENT_MISMATCH;PROHIBITED_CONTENT;"
        "PRIVACY_LEAK;MISSING_OPT_OUT")
