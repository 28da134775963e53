"""The night's feeds as a whole: their volume against the last recorded night, the money
they hold that no loan can take, and the warnings both give (docs/inputs.md).

The checks themselves (INCOMPLETE_FEED, UNPLACED_PAYMENT, STALE_FEED) are SQL files; this
module gives them the facts SQL cannot see (the history's row counts) and turns what they
found into the run's warnings and the `fail` policy's stop.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb

from reconcile.checks import FEED_FLAGS
from reconcile.config import Settings
from reconcile.errors import EXIT_UNPLACED_PAYMENTS, ReconcileError
from reconcile.nightly.inputs import InputFile
from reconcile.result import NAMED_PAYMENTS, PreviousNight, UnplacedMoney
from reconcile.schema import LEDGER_TABLES

# How many unplaced payments an error message or warning names before "and N more".


class UnplacedPayments(ReconcileError):
    """More payments cannot be placed than unplaced_payment_policy = "fail" allows."""

    exit_code = EXIT_UNPLACED_PAYMENTS


def create_feed_volume(con: duckdb.DuckDBPyConnection, inputs: dict[str, InputFile],
                       previous: PreviousNight | None) -> None:
    """feed_volume: each reference table's rows tonight and in the last recorded run."""
    con.execute(
        "CREATE OR REPLACE TABLE feed_volume (table_name VARCHAR, position INTEGER, "
        "present BOOLEAN, rows BIGINT, previous_rows BIGINT, previous_as_of VARCHAR)"
    )
    rows = [
        [name, position, source.present, source.rows,
         previous.rows.get(name) if previous else None, previous.as_of if previous else None]
        for position, (name, source) in enumerate(inputs.items())
        if name != "send_batch"
    ]
    con.executemany("INSERT INTO feed_volume VALUES (?, ?, ?, ?, ?, ?)", rows)


def unplaced_money(con: duckdb.DuckDBPyConnection) -> UnplacedMoney:
    """What unplaced_payments holds, naming the first few payments by row (row_reference)."""
    count, amount = con.execute(
        "SELECT count(*), coalesce(sum(CAST(amount AS DECIMAL(38, 2))), 0) "
        "FROM unplaced_payments").fetchone() or (0, 0)
    named = con.execute(
        "SELECT format('{}: {} {} of {} for loan_id {}', "
        "row_reference('payments', u.source_row, i.row_key), u.status, "
        "coalesce(u.payment_id, '(no id)'), coalesce(CAST(u.amount AS VARCHAR), "
        "'(unreadable)'), coalesce(quote_value(nullif(u.loan_id, ''), 40), '(empty)')) "
        "FROM unplaced_payments AS u LEFT JOIN input_issues AS i "
        "ON i.table_name = 'payments' AND i.source_row = u.source_row "
        f"ORDER BY u.source_row LIMIT {NAMED_PAYMENTS}").fetchall()
    return UnplacedMoney(int(count), Decimal(amount), tuple(str(n) for (n,) in named))


def stop_if_policy_fails(money: UnplacedMoney, settings: Settings) -> None:
    """Under unplaced_payment_policy = "fail", too much unplaced money stops the run before
    anything is written (exit 4)."""
    if (settings.unplaced_payment_policy == "fail"
            and money.payments > settings.max_unplaced_payments):
        raise UnplacedPayments(
            f"{money.describe()}: more than max_unplaced_payments "
            f"({settings.max_unplaced_payments}) and unplaced_payment_policy is fail; "
            f"nothing was written")


def feed_flag_details(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str]]:
    """For each feed flag that held: (messages it holds, one message's detail), from
    flag_hits, before findings replaces it."""
    placeholders = ", ".join("?" for _ in FEED_FLAGS)
    rows = con.execute(
        f"SELECT flag, count(*), min(detail) FROM flag_hits WHERE flag IN ({placeholders}) "
        "GROUP BY flag", list(FEED_FLAGS)).fetchall()
    return {str(flag): (int(n), str(detail)) for flag, n, detail in rows}


def unattributed_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Ledger rows no loan of `loans` can take (an empty or unknown loan_id), per table."""
    counts = dict(con.execute(
        "SELECT table_name, count(*) FROM input_issues "
        "WHERE list_contains(?, table_name) AND (is_blank(loan_id) OR loan_unknown) "
        "GROUP BY ALL", [list(LEDGER_TABLES)]).fetchall())
    return {table: int(counts.get(table, 0)) for table in LEDGER_TABLES}


def warnings(unattributed: dict[str, int], money: UnplacedMoney,
             feed_flags: dict[str, tuple[int, str]]) -> tuple[str, ...]:
    """What the night's data could not tell, in the words the run summary, the log and the
    report show first."""
    found = []
    total = sum(unattributed.values())
    if total:
        by_table = ", ".join(f"{table} {n}" for table, n in unattributed.items() if n)
        found.append(f"ledger rows naming no loan of loans: {total} ({by_table}); "
                     "see input_issues.csv")
    if money.payments:
        found.append(money.describe())
    for flag, (messages, detail) in feed_flags.items():
        found.append(f"{flag} holds {counted(messages, 'message')}: {detail}")
    return tuple(found)


def counted(number: int, noun: str) -> str:
    """'1 message', '2 messages'."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
