"""A new flag is one new sql/nightly/checks/*.sql file: with nothing else changed, the run
finds it, gives it its header's verdict, counts it in summary.json and the history, the
history's views grow its column and measure (an existing catalog is rebuilt for it), and the
morning report names it in both languages.

The package and its sql/ are copied to a temp folder and run from there in a subprocess,
so the flag lists the copy derives at import are the copy's own.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from reconcile import checks, sqlfiles
from reconcile.config import Settings
from reconcile.sqlfiles import SqlFile

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-23T01:30:00+08:00"

NEW_CHECK = """\
-- flag: LONG_OVERDUE_CLAIM
-- order: 255
-- kind: ledger
-- verdict: hold
-- source: a lender's own rule
-- summary: the message claims 30 days past due or more
-- definition: `claimed_days_past_due` is 30 or more
-- en name: Long overdue claim
-- en explained: The message claims a month or more overdue: checked by hand first.
-- zh name: 声称逾期过久
-- zh explained: 短信声称逾期 30 天以上，先人工核实。
-- reads: message_context
SELECT source_row, format('message claims {} days past due', claimed_days_past_due) AS detail
FROM message_context
WHERE claimed_days_past_due >= 30
"""


def _run(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([sys.executable, "-m", "reconcile", *args], cwd=tree, text=True,
                          capture_output=True, env=environment, check=False)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package and its SQL, runnable with PYTHONPATH set to it."""
    folder = tmp_path_factory.mktemp("new_flag")
    ignore = shutil.ignore_patterns("__pycache__")
    for part in ("reconcile", "sql"):
        shutil.copytree(ROOT / part, folder / part, ignore=ignore)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["ledger", "feed"])
def test_a_new_check_file_is_a_new_flag_everywhere(tree: Path, tmp_path: Path,
                                                  kind: str) -> None:
    """A feed flag (a night-wide guard) shows in the report's glance by its name."""
    history = tmp_path / "history.duckdb"
    before = _run(tree, "run", str(ROOT / "sample_data"), "--out", str(tmp_path / "before"),
                  "--as-of", AS_OF, "--db", str(history), "-q")
    assert before.returncode == 0, before.stderr

    (tree / "sql" / "nightly" / "checks" / "long_overdue_claim.sql").write_text(
        NEW_CHECK.replace("-- kind: ledger", f"-- kind: {kind}"))
    out = tmp_path / "after"
    after = _run(tree, "run", str(ROOT / "sample_data"), "--out", str(out), "--as-of", AS_OF,
                 "--db", str(history), "-q", "--config", str(_config(tmp_path)))
    assert after.returncode == 0, after.stderr

    with (out / "findings.csv").open(encoding="utf-8", newline="") as handle:
        findings = list(csv.DictReader(handle))
    flagged = [row for row in findings if "LONG_OVERDUE_CLAIM" in row["flags"].split(";")]
    assert flagged, "no message claims 30 days or more in sample_data"
    assert all("LONG_OVERDUE_CLAIM: message claims" in row["reason"] for row in flagged)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    # The same drop, as-of and settings, judged by other SQL: a new run, not a repeat.
    assert summary["history"] == "recorded"
    assert summary["flags"]["LONG_OVERDUE_CLAIM"] == len(flagged)
    assert list(summary["flags"])[-1] == "LONG_OVERDUE_CLAIM"  # its order: last

    with duckdb.connect(str(history), read_only=True) as con:
        definition = con.execute("SELECT position, kind, default_verdict, zh_name "
                                 "FROM flag_definitions WHERE flag = 'LONG_OVERDUE_CLAIM'"
                                 ).fetchall()
        column = con.execute("SELECT sum(long_overdue_claim) FROM "
                             "false_positives_by_rule_night WHERE run_id = ?",
                             [summary["run_id"]]).fetchone()
        measure = con.execute("SELECT count FROM day_over_day WHERE run_id = ? AND "
                              "measure = 'LONG_OVERDUE_CLAIM'", [summary["run_id"]]).fetchone()
    assert definition == [(26, kind, "hold", "声称逾期过久")]
    assert column == (len(flagged),)
    assert measure == (len(flagged),)

    for report_format in ("text", "html"):
        report = _run(tree, "report", "--db", str(history), "--lang", "en",
                      "--format", report_format)
        assert report.returncode == 0, report.stderr
        assert "Long overdue claim" in report.stdout


def _config(folder: Path) -> Path:
    """The new flag's verdict can be set like any other's."""
    path = folder / "reconcile.toml"
    path.write_text('[verdicts]\nLONG_OVERDUE_CLAIM = "hold"\n', encoding="utf-8")
    return path


def _with(header_line: str, instead_of: str) -> str:
    return NEW_CHECK.replace(instead_of, header_line)


@pytest.mark.parametrize(("text", "message"), [
    (_with("", "-- verdict: hold\n"), "header lacks verdict"),
    (_with("-- verdict: hold\n-- colour: red\n", "-- verdict: hold\n"),
     "unknown key(s) colour"),
    (_with("-- verdict: maybe\n", "-- verdict: hold\n"), "verdict 'maybe' is not one of"),
    (_with("-- kind: weather\n", "-- kind: ledger\n"), "kind 'weather' is not one of"),
    (_with("-- order: last\n", "-- order: 255\n"), "order 'last' is not a whole number"),
    (_with("-- flag: long_claim\n", "-- flag: LONG_OVERDUE_CLAIM\n"), "not an upper-case name"),
    (_with("-- verdict: hold\n-- needs: send_batch.colour\n", "-- verdict: hold\n"),
     "needs 'send_batch.colour', which is no input table or column"),
    (_with("-- verdict: hold\n-- verdict: block\n", "-- verdict: hold\n"),
     "header key 'verdict' given twice"),
])
def test_a_malformed_check_header_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        checks.check_from(SqlFile("long_overdue_claim.sql", text))


def test_a_flag_or_order_claimed_twice_is_refused(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "nightly" / "checks"
    folder.mkdir(parents=True)
    (folder / "a.sql").write_text(NEW_CHECK, encoding="utf-8")
    (folder / "b.sql").write_text(NEW_CHECK.replace("-- order: 255", "-- order: 256"),
                                  encoding="utf-8")
    monkeypatch.setattr(sqlfiles, "sql_root", lambda: tmp_path)
    checks.load_checks.cache_clear()
    try:
        with pytest.raises(ValueError, match="flag LONG_OVERDUE_CLAIM is claimed twice"):
            checks.load_checks()
    finally:
        checks.load_checks.cache_clear()


def test_every_off_switch_names_a_setting() -> None:
    """`off unless` names a setting (or a night read from a database): a typo would fail
    every night that reaches it."""
    settings = {field.name for field in dataclasses.fields(Settings)}
    for check in checks.load_checks().values():
        for name in check.off_unless:
            assert name in settings or name == checks.DATABASE_SNAPSHOT, check.file_name
