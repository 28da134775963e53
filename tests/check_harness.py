"""Run one check of sql/nightly/checks over a few hand-written message_context rows, in
milliseconds: no drop, no CLI, no ledger truth.

    run_check("NOT_OVERDUE", [{"is_overdue": False, "overdue_amount": "0.00",
                               "paid": "100.00"}])
    == [(1, "paid 100.00 of 100.00 due by 2026-11-23")]

Each call opens a fresh in-memory DuckDB and sets it up as the night does before its checks:
the real prepare_session (macros), create_params (run_params) and create_contact_params
(contact_params, term-list macros), then every other relation a check may read, empty,
with the columns and types the real truth steps give it. Those are found once per test
process by staging an empty drop (every table absent, as `load` stages a missing optional
table) and running the real truth steps over it; the views among them (contact_context)
are created again from their own SQL, so contact_context reads the rows given here.

A row names message_context columns; a column it leaves out takes MESSAGE_DEFAULTS (an
ordinary message: a collection text on a usable loan 100.00 and 22 days overdue, which no
ledger check flags), a value derived from the row as 06_message_context.sql derives it
(DERIVED), or else NULL. A name that is no column of message_context is an error, so a
renamed column fails loudly instead of testing nothing. Values are cast to the column's
type, so text such as "100.00" or "2026-11-23T09:00:00+08:00" is fine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import duckdb

from reconcile.checks import load_checks
from reconcile.config import Settings
from reconcile.nightly import feeds
from reconcile.nightly.decide import (
    create_contact_params,
    create_params,
    prepare_session,
    prepare_truth,
    switched_off,
    truth_only_relations,
)
from reconcile.nightly.inputs import drop_relation, load
from reconcile.nightly.staging import DUPLICATE, create_input_issues, stage
from reconcile.schema import TABLES
from reconcile.sqlfiles import quote_identifier

# The defaults of tests/drops.py: T, and a message scheduled at 09:00 the same morning
# whose rule ran at 22:00 the evening before (4 h before T).
AS_OF = "2026-11-23T02:00:00+08:00"

Row = Mapping[str, Any]

MESSAGE_DEFAULTS: dict[str, Any] = {
    "message_id": None,  # M<source_row>
    "borrower_id": "B1",
    "loan_id": "L1",
    "phone": "13800001234",
    "template_id": "T_COL",
    "rule_id": "R_DEL",
    "rule_evaluated_at": "2026-11-22T22:00:00+08:00",
    "scheduled_at": "2026-11-23T09:00:00+08:00",
    "loan_known": True,
    "loan_borrower_id": "B1",
    "loan_status": "active",
    "loan_sets_min_overdue": False,
    "truth_known": True,
    "template_usable": True,
    "template_kind": "collection",
    "states_components": False,
    "rule_category": "delinquency",
    # 100.00 due 2026-11-01, nothing paid: overdue 22 days on 2026-11-23.
    "overdue_amount": "100.00",
    "days_past_due": 22,
    "is_overdue": True,
    "pending_would_clear": False,
    "paid": "0.00",
    "pending": "0.00",
    "due_by_send_date": "100.00",
    "first_unpaid_due_date": "2026-11-01",
}

# Columns worked out from the row's others (and run_params) when the row does not give
# them, with the expressions of 06_message_context.sql / 03_message_inputs.sql, over
# message_context AS c and run_params AS p. grace_days and min_overdue_amount are the
# configured ones, as for a loan that sets neither.
DERIVED: dict[str, str] = {
    "send_date": "CAST(timezone(p.timezone, c.scheduled_at) AS DATE)",
    "grace_days": "p.grace_days",
    "min_overdue_amount": "p.min_overdue_amount",
    "is_collection_wording": "coalesce(c.template_kind IN ('collection', 'escalation'), false)",
    # NOT_OVERDUE's predicate (06_message_context.sql), over the row's own flags.
    "collection_while_not_overdue": (
        "coalesce(c.truth_known AND c.template_usable AND coalesce(c.is_collection_wording, "
        "c.template_kind IN ('collection', 'escalation')) AND NOT c.is_overdue, false)"),
    "rule_age_us": "epoch_us(p.as_of) - epoch_us(c.rule_evaluated_at)",
    "rule_age_hours": "round((epoch_us(p.as_of) - epoch_us(c.rule_evaluated_at)) / 3600e6, 2)",
}

# Relations that hold one row in every real night, and that row here unless a test gives
# its own: the payment feed is up to date (its newest payment posted at T).
ONE_ROW_DEFAULTS: dict[str, dict[str, str]] = {
    "payment_feed": {"newest_posted_at": "as_of"},
}


@dataclass(frozen=True)
class NightSchema:
    """What a check may read, besides what the params functions create: each table's
    (column, type) in order, and each view's CREATE statement."""

    tables: dict[str, list[tuple[str, str]]]
    views: dict[str, str]

    def columns(self, table: str) -> dict[str, str]:
        return dict(self.tables[table])


@cache
def night_schema() -> NightSchema:
    """Stage an empty drop and run the real truth steps over it, once per test process; the
    relations left when decide() would run the checks are what a check can read."""
    settings = Settings()
    con = duckdb.connect()
    try:
        prepare_session(con, settings.timezone)
        create_params(con, settings, AS_OF)
        create_contact_params(con, settings)
        made_by_params = _relations(con)
        inputs = {table.name: load(con, table, None) for table in TABLES}
        for table in TABLES:
            stage(con, table, inputs[table.name], settings.timezone)
        create_input_issues(con, [t for t in TABLES if t.name != "send_batch"], inputs)
        feeds.create_feed_volume(con, inputs, None)
        prepare_truth(con, settings, AS_OF)
        for name in truth_only_relations():  # as decide() does before the checks
            drop_relation(con, name)
        internal = made_by_params | {source.raw_table for source in inputs.values()}
        internal |= {f"{table.name}{DUPLICATE}" for table in TABLES}
        tables: dict[str, list[tuple[str, str]]] = {}
        for name, column, data_type in con.execute(
                "SELECT table_name, column_name, data_type FROM duckdb_columns() "
                "WHERE NOT internal AND table_name IN (SELECT table_name FROM duckdb_tables() "
                "WHERE NOT internal) ORDER BY table_name, column_index").fetchall():
            if name not in internal:
                tables.setdefault(name, []).append((column, data_type))
        views = {name: sql for name, sql in con.execute(
            "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal").fetchall()
            if name not in internal}
    finally:
        con.close()
    if "message_context" not in tables:
        raise AssertionError("the truth steps made no message_context table")
    return NightSchema(tables, views)


def _relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT internal UNION "
        "SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}


def run_check(flag: str, rows: Sequence[Row], settings: Settings | None = None,
              as_of: str = AS_OF, tables: Mapping[str, Sequence[Row]] | None = None
              ) -> list[tuple[int, str]]:
    """The (source_row, detail) hits of flag's check over these message_context rows, in
    source_row order. A row's source_row is its position (1, 2, ...) unless it gives one.

    tables gives rows of the other relations a check reads (borrowers, contact_flags,
    send_history, templates, input_issues, feed_volume, unplaced_payments, payment_feed):
    their columns left out are NULL (a staged row with a NULL problem is usable), and
    source_row is again the position unless given.
    """
    settings = settings or Settings()
    check = load_checks()[flag]
    if switched_off(check, settings, from_database=False):  # as the engine skips it
        return []
    with connect_night(rows, settings, as_of, tables) as con:
        found = con.execute(f"SELECT source_row, detail FROM ({check.sql}) "
                            "ORDER BY source_row, detail").fetchall()
    return [(int(source_row), detail) for source_row, detail in found]


def connect_night(rows: Sequence[Row], settings: Settings | None = None, as_of: str = AS_OF,
                  tables: Mapping[str, Sequence[Row]] | None = None
                  ) -> duckdb.DuckDBPyConnection:
    """A fresh connection holding what the checks read, with these rows (see run_check);
    close it when done (it is a context manager)."""
    settings = settings or Settings()
    schema = night_schema()
    given = dict(tables or {})
    unknown = sorted(set(given) - set(schema.tables) - {"message_context"})
    if unknown or "message_context" in given:
        raise KeyError(f"tables {unknown or ['message_context']}: give message_context rows "
                       f"as rows; the others are {sorted(schema.tables)}")
    con = duckdb.connect()
    try:
        prepare_session(con, settings.timezone)
        create_params(con, settings, as_of)
        create_contact_params(con, settings)
        for name, columns in schema.tables.items():
            definition = ", ".join(f"{quote_identifier(c)} {t}" for c, t in columns)
            con.execute(f"CREATE TABLE {quote_identifier(name)} ({definition})")
        for sql in schema.views.values():
            con.execute(sql)
        _insert_messages(con, schema.columns("message_context"), rows)
        for name, defaults in ONE_ROW_DEFAULTS.items():
            if name not in given:
                given[name] = [{column: as_of if value == "as_of" else value
                                for column, value in defaults.items()}]
        for name, table_rows in given.items():
            _insert(con, name, schema.columns(name), table_rows)
    except BaseException:
        con.close()
        raise
    return con


def _insert_messages(con: duckdb.DuckDBPyConnection, columns: dict[str, str],
                     rows: Sequence[Row]) -> None:
    for position, row in enumerate(rows, start=1):
        _check_names("message_context", columns, row)
        source_row = row.get("source_row", position)
        values = {"source_row": source_row, **MESSAGE_DEFAULTS,
                  "message_id": f"M{source_row}", **row}
        _insert(con, "message_context", columns, [values])
        derived = [f"{quote_identifier(c)} = {sql}" for c, sql in DERIVED.items()
                   if c in columns and c not in row]
        if derived:
            con.execute(f"UPDATE message_context AS c SET {', '.join(derived)} "
                        "FROM run_params AS p WHERE c.source_row = ?", [source_row])


def _insert(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str],
            rows: Sequence[Row]) -> None:
    for position, row in enumerate(rows, start=1):
        _check_names(table, columns, row)
        values = dict(row)
        if "source_row" in columns:
            values.setdefault("source_row", position)
        names = list(values)
        placeholders = ", ".join(f"CAST(? AS {columns[n]})" for n in names)
        con.execute(f"INSERT INTO {quote_identifier(table)} "
                    f"({', '.join(quote_identifier(n) for n in names)}) "
                    f"VALUES ({placeholders})", [values[n] for n in names])


def _check_names(table: str, columns: dict[str, str], row: Row) -> None:
    unknown = sorted(set(row) - set(columns))
    if unknown:
        raise KeyError(f"{table} has no column {', '.join(unknown)}; "
                       f"its columns: {', '.join(columns)}")
