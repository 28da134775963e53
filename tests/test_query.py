"""`reconcile query` and the documented views over the run history.

The history in `history_db` is written row by row, so every number below can be counted by
hand. Four runs, timezone Asia/Shanghai, max_rule_age_hours 24; each row is
(verdict, flags, rule, borrower, rule_age_hours):

- R1, as-of 11-21 01:30, night 11-21: send R_A B1 2; block NOT_OVERDUE R_A B2 2;
  hold STALE_DATA R_A B3 30; send R_B B4 4; rejected R_B B5 -.
- R2a, as-of 11-22 01:30, night 11-22, replaced by R2b: block NOT_OVERDUE R_A B9 1;
  send R_B B4 1.
- R2b, as-of 11-22 03:00, night 11-22: block NOT_OVERDUE;STALE_DATA R_A B2 26;
  hold RULE_MISMATCH;PAYMENT_PENDING R_A B6 3; send R_A B1 3; block UNKNOWN_LOAN R_B B7 5;
  block NOT_OVERDUE;PRE_DUE_TARGETING R_C B8 6.
- R3, as-of 11-23 17:30Z = 11-24 01:30 local, night 11-24 (11-23 in UTC):
  block NOT_OVERDUE R_A B2 1.5; block BORROWER_MISMATCH R_B B7 2; block NOT_OVERDUE R_A B9 1;
  send R_B B4 2; hold STALE_DATA R_C B8 40.

R_A and R_B are delinquency rules, R_C risk_control. No night 11-23: 11-24's previous
night is 11-22.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
from drops import invoke
from history_db import migrated
from readme import ROOT, assert_block_is, doc

from reconcile.checks import FLAGS
from reconcile.errors import EXIT_BAD_INPUT, EXIT_OK
from reconcile.history import query as query_module
from reconcile.history import views
from reconcile.history.query import QueryError, render, run_query
from reconcile.sqlfiles import read_sql, sql_root

SHANGHAI = ZoneInfo("Asia/Shanghai")
RULE_CATEGORY = {"R_A": "delinquency", "R_B": "delinquency", "R_C": "risk_control"}

# (verdict, flags, rule_id, borrower_id, rule_age_hours)
Message = tuple[str, str, str, str, float | None]
RUNS: dict[str, tuple[str, list[Message]]] = {
    "R1": ("2026-11-21T01:30:00+08:00", [
        ("send", "", "R_A", "B1", 2),
        ("block", "NOT_OVERDUE", "R_A", "B2", 2),
        ("hold", "STALE_DATA", "R_A", "B3", 30),
        ("send", "", "R_B", "B4", 4),
        ("rejected", "", "R_B", "B5", None),
    ]),
    "R2a": ("2026-11-22T01:30:00+08:00", [
        ("block", "NOT_OVERDUE", "R_A", "B9", 1),
        ("send", "", "R_B", "B4", 1),
    ]),
    "R2b": ("2026-11-22T03:00:00+08:00", [
        ("block", "NOT_OVERDUE;STALE_DATA", "R_A", "B2", 26),
        ("hold", "RULE_MISMATCH;PAYMENT_PENDING", "R_A", "B6", 3),
        ("send", "", "R_A", "B1", 3),
        ("block", "UNKNOWN_LOAN", "R_B", "B7", 5),
        ("block", "NOT_OVERDUE;PRE_DUE_TARGETING", "R_C", "B8", 6),
    ]),
    "R3": ("2026-11-23T17:30:00Z", [
        ("block", "NOT_OVERDUE", "R_A", "B2", 1.5),
        ("block", "BORROWER_MISMATCH", "R_B", "B7", 2),
        ("block", "NOT_OVERDUE", "R_A", "B9", 1),
        ("send", "", "R_B", "B4", 2),
        ("hold", "STALE_DATA", "R_C", "B8", 40),
    ]),
}
D21, D22, D24 = dt.date(2026, 11, 21), dt.date(2026, 11, 22), dt.date(2026, 11, 24)


def write_history(path: Path, runs: dict[str, tuple[str, list[Message]]]) -> Path:
    """A history as `reconcile run --db` leaves it: written in the earlier single-file
    layout (migration 001, rows inserted), then migrated as a run would."""
    con = duckdb.connect(str(path))
    con.execute(read_sql("history/migrations/001_runs_and_findings.sql"))
    settings = json.dumps({"timezone": "Asia/Shanghai", "max_rule_age_hours": "24"})
    for number, (run_id, (as_of, messages)) in enumerate(runs.items()):
        finished = f"2026-11-30T00:00:0{number}Z"
        verdicts = {v: sum(m[0] == v for m in messages) for v in ("send", "hold", "block",
                                                                   "rejected")}
        flags = {f: sum(f in m[1].split(";") for m in messages) for f in FLAGS}
        con.execute(
            "INSERT INTO runs VALUES (?, ?, 'completed', ?, ?, ?, 1.0, 'in', 'out', '0.1.0', "
            "'{}', ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, f"fp-{run_id}", as_of, finished, finished, settings, len(messages),
             verdicts["send"], verdicts["hold"], verdicts["block"], verdicts["rejected"],
             json.dumps(verdicts), json.dumps(flags)],
        )
        for row, (verdict, flag_text, rule, borrower, age) in enumerate(messages, start=1):
            con.execute(
                "INSERT INTO findings (run_id, source_row, message_id, verdict, flags, reason, "
                "borrower_id, borrower_name, phone, loan_id, rule_id, rule_category, "
                "overdue_amount, days_past_due, rule_age_hours) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, '13800000000', ?, ?, ?, ?, ?, ?)",
                [run_id, row, f"{run_id}-M{row}", verdict,
                 flag_text.split(";") if flag_text else [], flag_text, borrower,
                 f"name {borrower}", f"L{borrower[1:]}", rule,
                 None if verdict == "rejected" else RULE_CATEGORY[rule],
                 Decimal("12.30"), 4, age],
            )
    con.close()
    return migrated(path)


@pytest.fixture(scope="module")
def history_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_history(tmp_path_factory.mktemp("history") / "history.duckdb", RUNS)


@pytest.fixture(scope="module")
def one_night_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_history(tmp_path_factory.mktemp("one") / "history.duckdb",
                         {"R1": RUNS["R1"]})


def select(db: Path, sql: str) -> list[dict[str, Any]]:
    columns, rows = run_query(db, sql)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the views ---------------------------------------------------------------------------


def test_views_are_in_the_file_for_plain_duckdb(history_db: Path) -> None:
    con = duckdb.connect(str(history_db), read_only=True)
    names = {n for (n,) in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    con.close()
    # runs and findings are views too: over the history's Parquet files (sql/history).
    assert names == set(views.load_views()) | {"runs", "findings"}


def test_runs_by_night_picks_the_latest_run_of_each_night(history_db: Path) -> None:
    rows = select(history_db, "SELECT night, run_id, is_latest, blocked FROM runs_by_night")
    assert [tuple(r.values()) for r in rows] == [
        (D21, "R1", True, 1), (D22, "R2a", False, 1), (D22, "R2b", True, 3),
        (D24, "R3", True, 3)]


def test_false_positives_by_rule_night(history_db: Path) -> None:
    rows = select(history_db, "SELECT * FROM false_positives_by_rule_night")
    got = [(r["night"], r["run_id"], r["rule_id"], r["rule_category"], r["messages"], r["sent"],
            r["held"], r["blocked"], r["rejected"], r["false_positives"],
            r["false_positive_rate"]) for r in rows]
    assert got == [
        (D21, "R1", "R_A", "delinquency", 3, 1, 1, 1, 0, 2, Decimal("0.6667")),
        (D21, "R1", "R_B", "delinquency", 2, 1, 0, 0, 1, 0, Decimal("0.0000")),
        (D22, "R2b", "R_A", "delinquency", 3, 1, 1, 1, 0, 2, Decimal("0.6667")),
        (D22, "R2b", "R_B", "delinquency", 1, 0, 0, 1, 0, 1, Decimal("1.0000")),
        (D22, "R2b", "R_C", "risk_control", 1, 0, 0, 1, 0, 1, Decimal("1.0000")),
        (D24, "R3", "R_A", "delinquency", 2, 0, 0, 2, 0, 2, Decimal("1.0000")),
        (D24, "R3", "R_B", "delinquency", 2, 1, 0, 1, 0, 1, Decimal("0.5000")),
        (D24, "R3", "R_C", "risk_control", 1, 0, 1, 0, 0, 1, Decimal("1.0000")),
    ]
    flag_columns = [f.lower() for f in FLAGS]
    by_flag = {(r["night"], r["rule_id"]): {c: r[c] for c in flag_columns if r[c]} for r in rows}
    assert by_flag == {
        (D21, "R_A"): {"not_overdue": 1, "stale_data": 1},
        (D21, "R_B"): {},
        (D22, "R_A"): {"not_overdue": 1, "stale_data": 1, "rule_mismatch": 1,
                       "payment_pending": 1},
        (D22, "R_B"): {"unknown_loan": 1},
        (D22, "R_C"): {"not_overdue": 1, "pre_due_targeting": 1},
        (D24, "R_A"): {"not_overdue": 2},
        (D24, "R_B"): {"borrower_mismatch": 1},
        (D24, "R_C"): {"stale_data": 1},
    }


def test_stale_lag_by_rule(history_db: Path) -> None:
    rows = select(history_db, "SELECT * FROM stale_lag_by_rule")
    assert [tuple(r.values()) for r in rows] == [
        # rule, category, runs, first, last, messages, median, p90, max, >24 h, stale, share
        ("R_C", "risk_control", 2, D22, D24, 2, Decimal("23.00"), Decimal("36.60"),
         Decimal("40.00"), 1, 1, Decimal("0.5000")),
        ("R_A", "delinquency", 3, D21, D24, 8, Decimal("2.50"), Decimal("27.20"),
         Decimal("30.00"), 2, 2, Decimal("0.2500")),
        ("R_B", "delinquency", 3, D21, D24, 4, Decimal("3.00"), Decimal("4.70"),
         Decimal("5.00"), 0, 0, Decimal("0.0000")),
    ]


def test_borrowers_repeatedly_blocked(history_db: Path) -> None:
    # B9 was blocked in R2a too, but R2b replaced R2a: one night only. B8 was held on 11-24.
    rows = select(history_db, "SELECT * FROM borrowers_repeatedly_blocked")
    assert rows == [
        {"borrower_id": "B2", "borrower_name": "name B2", "nights": 3, "first_night": D21,
         "last_night": D24, "blocked_messages": 3, "loans": ["L2"], "rules": ["R_A"],
         "flags_seen": ["NOT_OVERDUE", "STALE_DATA"]},
        {"borrower_id": "B7", "borrower_name": "name B7", "nights": 2, "first_night": D22,
         "last_night": D24, "blocked_messages": 2, "loans": ["L7"], "rules": ["R_B"],
         "flags_seen": ["BORROWER_MISMATCH", "UNKNOWN_LOAN"]},
    ]


def test_day_over_day(history_db: Path) -> None:
    rows = select(history_db, "SELECT night, previous_night, measure, count, previous, delta "
                              "FROM day_over_day")
    measures = ["messages", "send", "hold", "block", "rejected", *FLAGS]
    assert [r["measure"] for r in rows] == measures * 3
    table = {(r["night"], r["measure"]): (r["count"], r["previous"], r["delta"]) for r in rows}
    nonzero = {k: v for k, v in table.items() if v != (0, 0, 0)}
    assert {k: v for k, v in nonzero.items() if k[0] == D21} == {
        (D21, "messages"): (5, None, None), (D21, "send"): (2, None, None),
        (D21, "hold"): (1, None, None), (D21, "block"): (1, None, None),
        (D21, "rejected"): (1, None, None), (D21, "NOT_OVERDUE"): (1, None, None),
        (D21, "STALE_DATA"): (1, None, None),
        **{(D21, m): (0, None, None) for m in FLAGS
           if m not in ("NOT_OVERDUE", "STALE_DATA")},
    }
    assert {k[1]: v for k, v in nonzero.items() if k[0] == D22} == {
        "messages": (5, 5, 0), "send": (1, 2, -1), "hold": (1, 1, 0), "block": (3, 1, 2),
        "rejected": (0, 1, -1), "NOT_OVERDUE": (2, 1, 1), "PRE_DUE_TARGETING": (1, 0, 1),
        "STALE_DATA": (1, 1, 0), "RULE_MISMATCH": (1, 0, 1), "PAYMENT_PENDING": (1, 0, 1),
        "UNKNOWN_LOAN": (1, 0, 1),
    }
    assert {k[1]: v for k, v in nonzero.items() if k[0] == D24} == {
        "messages": (5, 5, 0), "send": (1, 1, 0), "hold": (1, 1, 0), "block": (3, 3, 0),
        "NOT_OVERDUE": (2, 2, 0), "PRE_DUE_TARGETING": (0, 1, -1), "STALE_DATA": (1, 1, 0),
        "RULE_MISMATCH": (0, 1, -1), "PAYMENT_PENDING": (0, 1, -1), "UNKNOWN_LOAN": (0, 1, -1),
        "BORROWER_MISMATCH": (1, 0, 1),
    }
    assert {r["previous_night"] for r in rows if r["night"] == D24} == {D22}  # no 11-23


def test_blocked_messages(history_db: Path) -> None:
    rows = select(history_db, "SELECT night, message_id, borrower_id, flags, overdue_amount "
                              "FROM blocked_messages")
    assert [(r["night"], r["message_id"], r["flags"]) for r in rows] == [
        (D21, "R1-M2", ["NOT_OVERDUE"]),
        (D22, "R2b-M1", ["NOT_OVERDUE", "STALE_DATA"]),
        (D22, "R2b-M4", ["UNKNOWN_LOAN"]),
        (D22, "R2b-M5", ["NOT_OVERDUE", "PRE_DUE_TARGETING"]),
        (D24, "R3-M1", ["NOT_OVERDUE"]),
        (D24, "R3-M2", ["BORROWER_MISMATCH"]),
        (D24, "R3-M3", ["NOT_OVERDUE"]),
    ]
    assert rows[0]["overdue_amount"] == Decimal("12.30")


def test_every_flag_has_a_column_and_a_day_over_day_row(history_db: Path) -> None:
    columns, _ = run_query(history_db, "SELECT * FROM false_positives_by_rule_night LIMIT 0")
    assert [f.lower() for f in FLAGS if f.lower() not in columns] == []
    measures = {m for (m,) in run_query(history_db, "SELECT measure FROM day_over_day")[1]}
    assert set(FLAGS) <= measures


def test_views_work_on_a_history_of_one_night(one_night_db: Path) -> None:
    assert len(select(one_night_db, "SELECT * FROM false_positives_by_rule_night")) == 2
    assert select(one_night_db, "SELECT * FROM borrowers_repeatedly_blocked") == []
    assert [r["messages"] for r in select(one_night_db, "SELECT * FROM stale_lag_by_rule")] == [
        3, 1]
    day = select(one_night_db, "SELECT * FROM day_over_day")
    assert len(day) == 5 + len(FLAGS)
    assert {(r["previous_night"], r["previous"], r["delta"]) for r in day} == {(None, None, None)}
    assert len(select(one_night_db, "SELECT * FROM blocked_messages")) == 1


def test_views_work_on_an_empty_history(tmp_path: Path) -> None:
    db = write_history(tmp_path / "empty.duckdb", {})
    for name in views.load_views():
        assert run_query(db, f"SELECT * FROM {name}")[1] == []


# --- the view files ----------------------------------------------------------------------


def test_every_view_file_is_loaded_with_its_description() -> None:
    files = sorted(f.name for f in sql_root().joinpath("history", "views").iterdir()
                   if f.name.endswith(".sql"))
    loaded = views.load_views()
    assert [v.file_name for v in loaded.values()] == files
    assert [re.sub(r"^\d+_|\.sql$", "", f) for f in files] == list(loaded)
    for view in loaded.values():
        assert view.description.endswith((".", "?")), view.name
        assert "-- columns:" in view.sql, view.name


def _view_file(name: str, header: str | None = None, create: str | None = None) -> str:
    header = header if header is not None else f"-- view: {name}\n-- answers: Why?\n"
    return header + (create if create is not None
                     else f"CREATE OR REPLACE VIEW {name} AS SELECT 1 AS one;\n")


@pytest.mark.parametrize(("file_name", "text", "message"), [
    ("x.sql", _view_file("x"), "named NN_name.sql"),
    ("01_x.sql", "CREATE OR REPLACE VIEW x AS SELECT 1;", "no '-- view: NAME' header"),
    ("01_x.sql", _view_file("y"), "its header names view y, its file name x"),
    ("01_x.sql", _view_file("x", header="-- view: x\n"), "no '-- answers: ...' line"),
    ("01_x.sql", _view_file("x", create="CREATE OR REPLACE VIEW y AS SELECT 1;"), "found: y"),
    ("01_x.sql", _view_file("x", create="CREATE VIEW x AS SELECT 1;"), "found: none"),
    ("01_x.sql", _view_file("x", create="CREATE OR REPLACE VIEW x AS SELECT 1;\n"
                                        "CREATE OR REPLACE VIEW x AS SELECT 2;"), "found: x, x"),
])
def test_a_malformed_view_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          file_name: str, text: str, message: str) -> None:
    (tmp_path / "history" / "views").mkdir(parents=True)
    (tmp_path / "history" / "views" / file_name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(views, "sql_root", lambda: tmp_path)
    views.load_views.cache_clear()
    try:
        with pytest.raises(ValueError, match=re.escape(message)):
            views.load_views()
    finally:
        views.load_views.cache_clear()


def test_a_view_defined_twice_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "history" / "views"
    folder.mkdir(parents=True)
    for file_name in ("01_same.sql", "02_same.sql"):
        (folder / file_name).write_text(_view_file("same"), encoding="utf-8")
    monkeypatch.setattr(views, "sql_root", lambda: tmp_path)
    views.load_views.cache_clear()
    try:
        with pytest.raises(ValueError, match=re.escape(
                "view same is defined twice: 01_same.sql and 02_same.sql")):
            views.load_views()
    finally:
        views.load_views.cache_clear()


def test_a_continued_answers_line_is_one_description(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "history" / "views").mkdir(parents=True)
    header = "-- view: v\n-- answers: First half,\n--   second half.\n--\n-- columns: none\n"
    folder = tmp_path / "history" / "views"
    (folder / "01_v.sql").write_text(_view_file("v", header), encoding="utf-8")
    monkeypatch.setattr(views, "sql_root", lambda: tmp_path)
    views.load_views.cache_clear()
    try:
        assert views.load_views()["v"].description == "First half, second half."
    finally:
        views.load_views.cache_clear()


# --- read-only ---------------------------------------------------------------------------


@pytest.mark.parametrize(("sql", "refused"), [
    ("INSERT INTO runs SELECT * FROM runs", "INSERT is refused"),
    ("CREATE TABLE notes (a INTEGER)", "CREATE is refused"),
    ("DROP VIEW day_over_day", "DROP is refused"),
    ("ATTACH '{tmp}/other.duckdb' AS other", "ATTACH is refused"),
    ("COPY findings TO '{tmp}/findings.csv'", "COPY ... TO is refused"),
    ("-- a comment first\nDELETE FROM findings", "DELETE is refused"),
])
def test_a_write_is_refused_with_exit_2_and_changes_nothing(
        history_db: Path, tmp_path: Path, sql: str, refused: str) -> None:
    before = digest(history_db)
    result = invoke("query", "--db", history_db, "--", sql.format(tmp=tmp_path))
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"reconcile: error: {refused}: reconcile query only reads")
    assert result.stderr.count("\n") == 1
    assert digest(history_db) == before
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("sql", "message"), [
    ("UPDATE runs SET status = 'x'", "UPDATE is refused"),
    ("INSTALL httpfs", "INSTALL is refused"),
    ("LOAD httpfs", "LOAD is refused"),
    ("EXPORT DATABASE 'dump'", "EXPORT is refused"),
    ("SET enable_external_access = true", "SET is refused"),
    ("PRAGMA enable_profiling", "PRAGMA is refused"),
    ("CALL checkpoint()", "CALL is refused"),
    ("UPDATE EXTENSIONS", "UPDATE is refused"),
    ("BEGIN TRANSACTION", "BEGIN is refused"),
    ("PIVOT runs ON status USING count(*)", "PIVOT is refused without an explicit IN list"),
    ("SELECT * FROM read_csv('/etc/hostname')", "file system operations are disabled"),
    ("SELECT 1; DROP VIEW day_over_day", "one statement at a time: got 2"),
    ("-- nothing", "no SQL statement given"),
    ("SELEC 1", 'syntax error at or near "SELEC"'),
    ("SELECT * FROM no_such_view", "Table with name no_such_view does not exist"),
])
def test_what_could_escape_read_only_is_refused(history_db: Path, sql: str,
                                                message: str) -> None:
    with pytest.raises(QueryError, match=re.escape(message)) as caught:
        run_query(history_db, sql)
    assert "\n" not in str(caught.value)


def test_reads_of_every_kind_run(history_db: Path) -> None:
    assert run_query(history_db, "FROM runs_by_night SELECT count(*) AS n;")[1] == [(4,)]
    assert run_query(history_db, "WITH n AS (SELECT 2 AS x) SELECT x FROM n")[1] == [(2,)]
    assert ("run_id", "VARCHAR") in [r[:2] for r in run_query(history_db, "DESCRIBE runs")[1]]
    assert run_query(history_db, "PIVOT (SELECT night, blocked FROM runs_by_night WHERE "
                                 "is_latest) ON night IN ('2026-11-21', '2026-11-24') "
                                 "USING sum(blocked)")[1] == [(Decimal(1), Decimal(3))]
    assert run_query(history_db, "EXPLAIN SELECT 1")[0] == ["explain_key", "explain_value"]


def test_a_missing_database_is_exit_2_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nope.duckdb"
    result = invoke("query", "--db", missing, "SELECT 1")
    assert result.exit_code == EXIT_BAD_INPUT
    assert result.stderr == (f"reconcile: error: history {missing}: no such file "
                             "(a run given it as its history creates it)\n")
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_database_is_exit_2(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("not a database\n", encoding="utf-8")
    result = invoke("query", "--db", bogus, "SELECT 1")
    assert result.exit_code == EXIT_BAD_INPUT
    assert result.stderr.startswith(f"reconcile: error: history {bogus}: cannot be opened (")
    assert bogus.read_text(encoding="utf-8") == "not a database\n"


def test_bad_sql_is_exit_2_with_one_line(history_db: Path) -> None:
    result = invoke("query", "--db", history_db, "SELECT * FROM runz")
    assert result.exit_code == EXIT_BAD_INPUT
    assert result.stderr == ('reconcile: error: Catalog Error: Table with name runz does not '
                             'exist! Did you mean "runs"?\n')


def test_sql_and_db_are_required(history_db: Path) -> None:
    assert invoke("query", "--db", history_db).stderr == (
        "reconcile: error: give the SQL to run (or --list-views)\n")
    assert invoke("query", "SELECT 1").stderr == (
        "reconcile: error: --db FILE is required: the history database to query\n")


# --- output ------------------------------------------------------------------------------

SAMPLE_SQL = ("SELECT night, as_of, borrower_id, borrower_name, nights, flags_seen "
              "FROM borrowers_repeatedly_blocked JOIN runs_by_night "
              "ON runs_by_night.night = borrowers_repeatedly_blocked.last_night")


def test_table_format(history_db: Path) -> None:
    result = invoke("query", "--db", history_db, SAMPLE_SQL + " ORDER BY borrower_id")
    assert result.exit_code == EXIT_OK, result.output
    assert result.stdout == (
        "night       as_of                      borrower_id  borrower_name  nights  flags_seen\n"
        "----------  -------------------------  -----------  -------------  ------  "
        "---------------------------------\n"
        "2026-11-24  2026-11-24 01:30:00+08:00  B2           name B2             3  "
        "[NOT_OVERDUE, STALE_DATA]\n"
        "2026-11-24  2026-11-24 01:30:00+08:00  B7           name B7             2  "
        "[BORROWER_MISMATCH, UNKNOWN_LOAN]\n"
        "(2 rows)\n")


def test_table_aligns_wide_characters_and_shows_null() -> None:
    text = render(["name", "n"], [("许可", 1), ("Li", None)], "table")
    assert text.splitlines() == ["name     n", "----  ----", "许可     1", "Li    NULL", "(2 rows)"]


def test_csv_format(history_db: Path) -> None:
    result = invoke("query", "--db", history_db, "--format", "csv",
                    SAMPLE_SQL + " ORDER BY borrower_id")
    assert result.exit_code == EXIT_OK, result.output
    assert result.stdout == (
        "night,as_of,borrower_id,borrower_name,nights,flags_seen\n"
        "2026-11-24,2026-11-24T01:30:00+08:00,B2,name B2,3,NOT_OVERDUE;STALE_DATA\n"
        "2026-11-24,2026-11-24T01:30:00+08:00,B7,name B7,2,BORROWER_MISMATCH;UNKNOWN_LOAN\n")


def test_json_format(history_db: Path) -> None:
    result = invoke("query", "--db", history_db, "--format", "json",
                    "SELECT night, as_of, rule_id, false_positive_rate, messages, NULL AS none "
                    "FROM false_positives_by_rule_night WHERE night = '2026-11-24' LIMIT 1")
    assert result.exit_code == EXIT_OK, result.output
    assert json.loads(result.stdout) == [{
        "night": "2026-11-24", "as_of": "2026-11-24T01:30:00+08:00", "rule_id": "R_A",
        "false_positive_rate": "1.0000", "messages": 2, "none": None}]


def test_json_of_no_rows_is_an_empty_list(history_db: Path) -> None:
    result = invoke("query", "--db", history_db, "--format", "json", "SELECT 1 AS x LIMIT 0")
    assert result.exit_code == EXIT_OK, result.output
    assert json.loads(result.stdout) == []


def test_timestamps_come_back_in_the_historys_timezone(history_db: Path) -> None:
    [(as_of, day)] = run_query(history_db, "SELECT as_of, as_of::DATE FROM runs "
                                           "WHERE run_id = 'R3'")[1]
    assert as_of == dt.datetime(2026, 11, 24, 1, 30, tzinfo=SHANGHAI)
    assert as_of.utcoffset() == dt.timedelta(hours=8)
    assert day == D24  # the session's TimeZone is the lender's, not the machine's


def test_sql_from_stdin(history_db: Path) -> None:
    from click.testing import CliRunner

    from reconcile.cli.main import main

    result = CliRunner().invoke(main, ["query", "--db", str(history_db), "-"],
                                input="SELECT count(*) AS runs FROM runs\n")
    assert result.exit_code == EXIT_OK, result.output
    assert result.stdout == "runs\n----\n   4\n(1 row)\n"


# --- --list-views ------------------------------------------------------------------------


def test_list_views_names_every_file_with_its_description() -> None:
    result = invoke("query", "--list-views")
    assert result.exit_code == EXIT_OK, result.output
    files = sorted(f.name for f in sql_root().joinpath("history", "views").iterdir()
                   if f.name.endswith(".sql"))
    names = [line for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert names == [re.sub(r"^\d+_|\.sql$", "", f) for f in files]
    for view in views.load_views().values():
        assert view.description.split()[0] in result.stdout


def test_list_views_as_json() -> None:
    result = invoke("query", "--list-views", "--format", "json")
    assert result.exit_code == EXIT_OK, result.output
    assert json.loads(result.stdout) == [
        {"view": v.name, "description": v.description} for v in views.load_views().values()]


# --- with reconcile run --db, and docs/queries.md ----------------------------------------

SAMPLE_NIGHTS = ("2026-11-22", "2026-11-23", "2026-11-24")


@pytest.fixture(scope="module")
def sample_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sample_data reconciled as of 01:30 on three nights, as docs/queries.md shows."""
    folder = tmp_path_factory.mktemp("sample_history")
    db = folder / "history.duckdb"
    for night in SAMPLE_NIGHTS:
        result = invoke("run", ROOT / "sample_data", "--out", folder / "out",
                        "--as-of", f"{night}T01:30:00+08:00", "--db", db, "-q")
        assert result.exit_code == EXIT_OK, result.output
    return db


@pytest.mark.slow
def test_views_over_sample_data_recorded_on_three_nights(sample_history: Path) -> None:
    nights = select(sample_history, "SELECT night, messages, sent, held, blocked, rejected "
                                    "FROM runs_by_night")
    # On 11-22 the drop of 11-23 is replayed a day early: its rules say they ran at 11-22
    # 22:00, after that as-of, so CLOCK_SKEW holds what is not blocked.
    assert [tuple(n.values()) for n in nights] == [
        (dt.date(2026, 11, 22), 107, 2, 80, 19, 6),
        (dt.date(2026, 11, 23), 107, 55, 25, 21, 6),  # sample_data/README.md
        (D24, 107, 1, 78, 22, 6)]
    # The 21 blocked on 11-23 (sample_data/README.md) are blocked again a day later;
    # 邓超's payment posted at 23:10 on 11-22 was not yet known on the first night.
    repeated = select(sample_history, "SELECT borrower_id, nights "
                                      "FROM borrowers_repeatedly_blocked")
    assert len(repeated) == 21
    assert {r["borrower_id"]: r["nights"] for r in repeated}["BR3100301"] == 2
    # On 11-24 the rules' 11-22 22:00 snapshot is 27.5 h old: past the 24 h limit. Only
    # row 98's rule, which says it ran at 11-23 03:00, is fresh then (22.5 h).
    stale = select(sample_history, "SELECT measure, count FROM day_over_day "
                                   "WHERE night = DATE '2026-11-24' AND kind = 'verdict'")
    assert {r["measure"]: r["count"] for r in stale}["send"] == 1


def _documented_queries(text: str) -> list[re.Match[str]]:
    return list(re.finditer(r"<!-- history-query -->\n```sql\n(.*?)```\n\n```text\n(.*?)```",
                            text, re.DOTALL))


@pytest.mark.slow
def test_readme_answers_are_real(sample_history: Path) -> None:
    """Each question's output block in docs/queries.md is what its SQL gives on the sample
    history (UPDATE_DOCS=1 rewrites them; review the diff)."""
    page = doc("queries.md")
    text = page.read_text(encoding="utf-8")
    found = _documented_queries(text)
    assert len(found) == 6
    answers = [render(*run_query(sample_history, m.group(1)), "table") + "\n" for m in found]
    if os.environ.get("UPDATE_DOCS"):
        for match, answer in reversed(list(zip(found, answers, strict=True))):
            text = text[:match.start(2)] + answer + text[match.end(2):]
        page.write_text(text, encoding="utf-8")
        pytest.skip("docs/queries.md history answers regenerated")
    assert [m.group(2) for m in found] == answers


def test_readme_lists_the_views() -> None:
    assert_block_is("list-views", query_module.views_listing("table") + "\n", doc("queries.md"))
