"""Each finding's evidence kept as data (findings.details) from the night to the report, and
the history read and written by column name, never by position."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from drops import LEDGER_ONLY_CONFIG, Drop, invoke, read_csv_rows

from reconcile.errors import EXIT_BAD_INPUT, EXIT_OK
from reconcile.history import store as history
from reconcile.report.build import Evidence, build_report
from reconcile.report.trace import build_trace

AS_OF = "2026-11-23T02:00:00+08:00"
# A loan_id that quotes another flag's clause: UNKNOWN_LOAN's detail echoes it, so the
# reason reads as if NOT_OVERDUE held too.
QUOTING_LOAN = "L9; NOT_OVERDUE: paid in full"
QUOTED_DETAIL = f"loan_id {QUOTING_LOAN} is not in loans"


def quoting_drop(night: str = "2026-11-23") -> Drop:
    """The drop of a night (its rules run at 22:00 the evening before): M1 names the
    quoting loan (UNKNOWN_LOAN); M2 is a loan paid in full (NOT_OVERDUE); M3 is overdue
    (send)."""
    evening = (dt.date.fromisoformat(night) - dt.timedelta(days=1)).isoformat()
    timing = {"rule_evaluated_at": f"{evening}T22:00:00+08:00",
              "scheduled_at": f"{night}T09:00:00+08:00"}
    drop = Drop()
    drop.loan("L2", "B2").installment("L2", 1, "2026-11-01", "100.00")
    drop.payment("P2", "L2", "100.00", posted_at="2026-11-20T10:00:00+08:00")
    drop.loan("L3", "B3").installment("L3", 1, "2026-11-01", "100.00")
    drop.message("M1", loan_id=QUOTING_LOAN, borrower_id="B1", **timing)
    drop.message("M2", loan_id="L2", borrower_id="B2", **timing)
    drop.message("M3", loan_id="L3", borrower_id="B3", **timing)
    return drop


def record_night(drop: Drop, tmp_path: Path, db: Path, name: str,
                 as_of: str = AS_OF) -> Path:
    """Run the drop into out_<name> and record it in db, with the ledger checks only and
    phones and names kept clear; returns the output folder."""
    data_dir = drop.write(tmp_path / f"drop_{name}")
    config = tmp_path / "reconcile.toml"
    config.write_text(LEDGER_ONLY_CONFIG + 'history_personal_data = "clear"\n',
                      encoding="utf-8")
    out = tmp_path / f"out_{name}"
    result = invoke("run", data_dir, "--out", out, "--as-of", as_of, "--db", db,
                    "--config", config, "-q")
    assert result.exit_code == EXIT_OK, result.output
    return out


@pytest.mark.slow
def test_a_detail_quoting_another_flags_clause_stays_with_its_own_flag(
        tmp_path: Path) -> None:
    db = tmp_path / "history.duckdb"
    out = record_night(quoting_drop(), tmp_path, db, "night")
    findings = {row["message_id"]: row for row in read_csv_rows(out / "findings.csv")}
    # The text alone cannot tell: it reads like two clauses.
    assert findings["M1"]["flags"] == "UNKNOWN_LOAN"
    assert findings["M1"]["reason"] == f"UNKNOWN_LOAN: {QUOTED_DETAIL}"
    assert "; NOT_OVERDUE: " in findings["M1"]["reason"]
    parquet = pl.read_parquet(out / "findings.parquet")
    details = dict(zip(parquet["message_id"], parquet["details"].to_list(), strict=True))
    assert details == {
        "M1": [{"flag": "UNKNOWN_LOAN", "detail": QUOTED_DETAIL}],
        "M2": [{"flag": "NOT_OVERDUE", "detail": findings["M2"]["reason"].removeprefix(
            "NOT_OVERDUE: ")}],
        "M3": [],
    }

    report = build_report(db)
    assert [e.message_id for e in report.examples_of("UNKNOWN_LOAN")] == ["M1"]
    assert report.examples_of("UNKNOWN_LOAN")[0].evidence == [
        f"UNKNOWN_LOAN: {QUOTED_DETAIL}"]
    assert [e.message_id for e in report.examples_of("NOT_OVERDUE")] == ["M2"]
    document = json.loads(invoke("report", "--db", db, "--format", "json").stdout)
    assert document["examples"]["UNKNOWN_LOAN"][0]["reason"] == findings["M1"]["reason"]

    traced = build_trace(db, message_id="M1")
    assert [m.evidence for m in traced.messages] == [
        (Evidence("UNKNOWN_LOAN", QUOTED_DETAIL),)]
    assert traced.to_dict()["messages"][0]["evidence"] == [
        {"flag": "UNKNOWN_LOAN", "detail": QUOTED_DETAIL}]
    text = invoke("trace", "--message", "M1", "--db", db, "--lang", "en").stdout
    assert QUOTED_DETAIL in text


def as_recorded_before_details(db: Path) -> None:
    """Turn a history into one the version before migration 5 wrote: its findings files
    without `details`, its catalog built for schema version 4."""
    paths = history.HistoryPaths.of(db)
    with duckdb.connect() as con:
        for path in paths.folder("findings").glob("night=*/*.parquet"):
            aside = path.with_suffix(".old")
            con.execute(f"COPY (SELECT * EXCLUDE (details) FROM '{path}') TO '{aside}' "
                        "(FORMAT parquet)")
            aside.replace(path)
    with duckdb.connect(str(db)) as catalog:
        catalog.execute("UPDATE history_layout SET schema_version = 4")
        catalog.execute("DELETE FROM schema_migrations WHERE version = 5")


@pytest.mark.slow
def test_runs_recorded_before_details_read_them_from_their_reason(tmp_path: Path) -> None:
    """A history recorded by the version before migration 5: readers refuse its catalog
    until it is rebuilt, then read the old runs' details from their reasons (best effort:
    a detail quoting a flag's clause is split there), and new runs' as recorded."""
    db = tmp_path / "history.duckdb"
    record_night(quoting_drop(), tmp_path, db, "old")
    as_recorded_before_details(db)

    refused = invoke("report", "--db", db)
    assert refused.exit_code == EXIT_BAD_INPUT
    assert "reconcile history migrate" in refused.stderr
    assert invoke("trace", "--message", "M1", "--db", db).exit_code == EXIT_BAD_INPUT
    assert invoke("history", "migrate", "--db", db).exit_code == EXIT_OK

    old = build_report(db)
    not_overdue = old.examples_of("NOT_OVERDUE")[0]
    assert not_overdue.evidence == [not_overdue.reason]
    assert old.examples_of("UNKNOWN_LOAN")[0].evidence == [
        "UNKNOWN_LOAN: loan_id L9", "NOT_OVERDUE: paid in full is not in loans"]
    assert [m.evidence for m in build_trace(db, message_id="M3").messages] == [()]

    record_night(quoting_drop("2026-11-24"), tmp_path, db, "new",
                 as_of="2026-11-24T02:00:00+08:00")
    new = build_report(db)
    assert new.examples_of("UNKNOWN_LOAN")[0].evidence == [f"UNKNOWN_LOAN: {QUOTED_DETAIL}"]
    by_night = {m.night: m.evidence for m in build_trace(db, message_id="M1").messages}
    assert by_night == {
        "2026-11-23": (Evidence("UNKNOWN_LOAN", "loan_id L9"),
                       Evidence("NOT_OVERDUE", "paid in full is not in loans")),
        "2026-11-24": (Evidence("UNKNOWN_LOAN", QUOTED_DETAIL),),
    }


# A later migration that puts a column before every other one of runs and findings (an
# ALTER TABLE ... ADD COLUMN would put it last).
LEADING_COLUMN_MIGRATION = """
CREATE TABLE runs_reordered AS SELECT CAST(NULL AS VARCHAR) AS extra, * FROM runs;
DROP TABLE runs;
ALTER TABLE runs_reordered RENAME TO runs;
CREATE TABLE findings_reordered AS SELECT CAST(NULL AS VARCHAR) AS extra, * FROM findings;
DROP TABLE findings;
ALTER TABLE findings_reordered RENAME TO findings;
"""


@pytest.mark.slow
def test_a_column_added_before_the_others_still_records_and_reports(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    current = history.migrations()
    extra = history.Migration(current[-1].version + 1, "leading_column",
                              LEADING_COLUMN_MIGRATION)
    monkeypatch.setattr(history, "migrations", lambda: [*current, extra])
    db = tmp_path / "history.duckdb"
    outs = [record_night(quoting_drop(), tmp_path, db, "first"),
            record_night(quoting_drop("2026-11-24"), tmp_path, db, "second",
                         as_of="2026-11-24T02:00:00+08:00")]
    summaries = [json.loads((out / "summary.json").read_text(encoding="utf-8"))
                 for out in outs]
    assert summaries[1]["previous_run"]["run_id"] == summaries[0]["run_id"]

    paths = history.HistoryPaths.of(db)
    with duckdb.connect() as con:
        for table in history.RECORDED_TABLES:
            recorded = paths.file(table, "2026-11-24", summaries[1]["run_id"])
            columns = [c for (c,) in con.execute(
                f"SELECT column_name FROM (DESCRIBE SELECT * FROM '{recorded}')").fetchall()]
            assert columns[0] == "extra", table
        findings = con.execute(
            f"SELECT message_id, verdict, flags, reason, details FROM "
            f"'{paths.file('findings', '2026-11-24', summaries[1]['run_id'])}' "
            "ORDER BY source_row").fetchall()
    csv_rows = read_csv_rows(outs[1] / "findings.csv")
    assert [(m, v, ";".join(f), r) for m, v, f, r, _ in findings] == [
        (row["message_id"], row["verdict"], row["flags"], row["reason"]) for row in csv_rows]
    assert findings[0][4] == [{"flag": "UNKNOWN_LOAN", "detail": QUOTED_DETAIL}]

    report = build_report(db)
    assert report.run.run_id == summaries[1]["run_id"]
    assert report.run.messages == 3 and report.run.data_dir == summaries[1]["data_dir"]
    assert {c.name: c.count for c in report.verdicts} == summaries[1]["verdicts"]
    assert report.comparison is not None
    assert report.comparison.previous.run_id == summaries[0]["run_id"]
    assert [(m.key, m.messages, m.blocked) for m in report.rules] == [("R_DEL", 3, 2)]
    assert report.examples_of("UNKNOWN_LOAN")[0].evidence == [f"UNKNOWN_LOAN: {QUOTED_DETAIL}"]
    for fmt in ("text", "json", "markdown", "html"):
        shown = invoke("report", "--db", db, "--format", fmt)
        assert shown.exit_code == EXIT_OK, shown.output
    traced = build_trace(db, borrower_id="B2")
    assert [(m.night, m.verdict) for m in traced.messages] == [
        ("2026-11-23", "block"), ("2026-11-24", "block")]
