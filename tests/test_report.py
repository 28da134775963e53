"""`reconcile report`: the morning report of a recorded run, in four formats, masked by default.

Most tests read a hand-written history (tests/history_db.py: runs N0, N1, N2A, N2) so the
numbers are exact; the last ones read sample_data reconciled on two nights by the real
`reconcile run --db`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from history_db import NIGHTS, ROOT, build_history, sample_history
from readme import assert_block_is, command_help, doc

from reconcile.checks import FLAGS
from reconcile.cli.main import main
from reconcile.config import Settings
from reconcile.errors import EXIT_BAD_INPUT, EXIT_OK
from reconcile.history import store as history
from reconcile.report.build import SECTION_QUERIES, build_report, mask_pii
from reconcile.report.render import FORMATS, render
from reconcile.report.text import table
from reconcile.safe_text import display_width

RAW_PHONES = {f[6] for _, _, findings in NIGHTS.values() for f in findings}
RAW_NAMES = {f[7] for _, _, findings in NIGHTS.values() for f in findings}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_history(tmp_path_factory.mktemp("history") / "history.duckdb")


def report_cli(*args: str | Path):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["report", *(str(a) for a in args)],
                              catch_exceptions=False)


@pytest.mark.parametrize(("text", "columns"), [
    ("abc", 3),
    ("张三", 4),            # wide: two columns each
    ("ＡＢ", 4),            # full-width: two columns each
    ("e\u0301", 1),        # e and a combining acute accent: one column
    ("", 0),
])
def test_display_width_counts_terminal_columns(text: str, columns: int) -> None:
    assert display_width(text) == columns


def test_a_combining_mark_takes_no_column_in_a_text_table() -> None:
    lines = table(["name", "n"], [["Jose\u0301", "1"], ["张三", "22"]])
    assert [display_width(line) for line in lines] == [14, 14, 14]


# --- masking -----------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "masked"), [
    ("13812341234", "138****1234"),
    ("+8613812341234", "+86*******1234"),
    ("12345678", "123*5678"),
    ("1234567", "*******"),
    ("", ""),
    (None, None),
])
def test_mask_phone_keeps_the_first_3_and_last_4(value: str | None, masked: str | None) -> None:
    assert mask_pii(value, "phone") == masked


@pytest.mark.parametrize(("value", "masked"), [
    ("张三丰", "张**"), ("张三", "张*"), ("Li Wei", "L*****"), ("吴", "*"), (None, None),
])
def test_mask_name_keeps_the_first_character(value: str | None, masked: str | None) -> None:
    assert mask_pii(value, "name") == masked


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_masks_phones_and_names_by_default(db: Path, fmt: str) -> None:
    result = report_cli("--db", db, "--format", fmt)
    assert result.exit_code == EXIT_OK, result.output
    assert "139****1111" in result.stdout and "L*****" in result.stdout
    assert "王*" in result.stdout
    for raw in RAW_PHONES | RAW_NAMES:
        assert raw not in result.stdout, f"{raw} shown unmasked in {fmt}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_show_pii_unmasks_in_every_format(db: Path, fmt: str) -> None:
    result = report_cli("--db", db, "--format", fmt, "--show-pii")
    assert result.exit_code == EXIT_OK, result.output
    assert "13900001111" in result.stdout and "Li Wei" in result.stdout
    assert "139****1111" not in result.stdout


# --- which run, and the night before ------------------------------------------------------


def test_default_run_is_the_latest_and_previous_is_the_night_before(db: Path) -> None:
    report = build_report(db)
    # N2 and N2A share an as-of: the later finish wins; N2A is the same night, not "previous".
    assert report.run.run_id == "N2"
    assert report.comparison is not None and report.comparison.previous.run_id == "N1"
    assert report.run.as_of == "2026-11-23 01:30:00+08"
    assert report.run.finished_at == "2026-11-23 03:00:00+08"


@pytest.mark.parametrize(("run_id", "previous"), [("N2A", "N1"), ("N1", "N0"), ("N0", None)])
def test_a_named_run_and_its_previous_night(db: Path, run_id: str, previous: str | None) -> None:
    report = build_report(db, run_id)
    assert report.run.run_id == run_id
    if previous is None:
        assert report.comparison is None
    else:
        assert report.comparison is not None
        assert report.comparison.previous.run_id == previous


def test_first_night_says_there_is_nothing_to_compare(db: Path) -> None:
    result = report_cli("N0", "--db", db, "--lang", "en")
    assert result.exit_code == EXIT_OK, result.output
    assert "previous night: none recorded" in result.stdout
    assert "No earlier night is recorded." in result.stdout
    assert "Only one night is recorded: no trend yet." in report_cli(
        "N0", "--db", db, "--lang", "en", "--format", "html").stdout


# --- the numbers ---------------------------------------------------------------------------


def test_counts_by_verdict_and_flag(db: Path) -> None:
    report = build_report(db)
    assert {c.name: c.count for c in report.verdicts} == {
        "send": 1, "hold": 2, "block": 2, "rejected": 1}
    flags = {c.name: c.count for c in report.flags}
    assert list(flags) == list(FLAGS)
    assert flags["NOT_OVERDUE"] == 2 and flags["PRE_DUE_TARGETING"] == 1
    assert flags["STALE_DATA"] == flags["RULE_MISMATCH"] == flags["PAYMENT_PENDING"] == 1
    assert report.false_positives == 4


def test_false_positives_per_rule_and_template_with_rates(db: Path) -> None:
    report = build_report(db)
    rules = {m.key: m for m in report.rules}
    # R_DEL: M1 send, M3 block, M4 hold, M5 hold, M6 rejected -> 3 of 5.
    # Highest rate first: R_RISK stops its one message (100%), R_DEL 3 of 5 (60%).
    assert list(rules) == ["R_RISK", "R_DEL"]
    r_del = rules["R_DEL"]
    assert (r_del.messages, r_del.blocked, r_del.held, r_del.false_positives) == (5, 1, 2, 3)
    assert r_del.rate == pytest.approx(0.6)
    # N1: M1 send, M3 hold (M4 has no rule) -> 1 of 2.
    assert (r_del.previous_messages, r_del.previous_false_positives) == (2, 1)
    assert r_del.previous_rate == pytest.approx(0.5)
    templates = {m.key: m for m in report.templates}
    assert templates["T_COL"].false_positives == 3 and templates["T_COL"].messages == 5
    assert templates["T_REM"].rate == 1.0 and templates["T_REM"].previous_rate is None
    assert "block or hold" in report.false_positive_definition


def test_staleness_buckets_per_rule(db: Path) -> None:
    report = build_report(db)
    by_rule = {s.rule_id: s for s in report.staleness}
    # R_DEL ages 3.5, 50, 13, 25 (the rejected M6 has none); R_RISK 7.
    assert by_rule["R_DEL"].buckets == (1, 0, 1, 1, 1)
    assert by_rule["R_DEL"].max_hours == 50.0
    assert by_rule["R_RISK"].buckets == (0, 1, 0, 0, 0)
    assert report.staleness_buckets == ("<6h", "6–12h", "12–24h", "24–48h", "≥48h")


def test_comparison_with_the_previous_night(db: Path) -> None:
    report = build_report(db)
    assert report.comparison is not None
    changes = {(c.kind, c.name): (c.previous, c.current, c.delta)
               for c in report.comparison.changes}
    assert changes[("total", "messages")] == (4, 6, 2)
    assert changes[("total", "false positives")] == (2, 4, 2)
    assert changes[("verdict", "send")] == (1, 1, 0)
    assert changes[("verdict", "block")] == (1, 2, 1)
    assert changes[("flag", "NOT_OVERDUE")] == (1, 2, 1)
    assert changes[("flag", "PRE_DUE_TARGETING")] == (0, 1, 1)
    assert changes[("flag", "STALE_DATA")] == (1, 1, 0)
    assert [name for kind, name in changes if kind == "flag"] == list(FLAGS)


def test_examples_carry_their_evidence(db: Path) -> None:
    report = build_report(db, examples_per_flag=1)
    assert [e.message_id for e in report.examples_of("NOT_OVERDUE")] == ["M2"]
    example = report.examples_of("STALE_DATA")[0]
    assert example.message_id == "M3" and example.verdict == "block"
    assert example.flags == ("NOT_OVERDUE", "STALE_DATA")  # listed once, with every flag
    assert (example.phone, example.borrower_name, example.loan_id) == (
        "137****2222", "王*", "L-M3")
    assert (example.overdue_amount, example.days_past_due) == ("1234.50", 12)
    assert (example.claimed_overdue_amount, example.claimed_days_past_due) == ("1234.50", 12)
    assert example.evidence == ["NOT_OVERDUE: evidence for not_overdue",
                                "STALE_DATA: evidence for stale_data"]
    assert len(build_report(db).examples_of("NOT_OVERDUE")) == 2


# --- the formats ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_text_report_fits_80_columns(db: Path, lang: str) -> None:
    result = report_cli("--db", db, "--lang", lang)
    assert result.exit_code == EXIT_OK, result.output
    assert max(display_width(line) for line in result.stdout.splitlines()) <= 80


def test_text_report_sections(db: Path) -> None:
    result = report_cli("--db", db, "--lang", "en")
    assert result.exit_code == EXIT_OK, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "reconcile morning report  run N2"
    for title in ("At a glance", "Trends", "Flags", "Rules that misfire most",
                  "Templates that misfire most", "How stale the rules' data was",
                  "Compared with the previous night", "Examples", "Glossary"):
        assert any(line.startswith(title) for line in lines), title
    assert "  send             1  16.7%" in result.stdout


def test_markdown_report(db: Path) -> None:
    result = report_cli("--db", db, "--format", "markdown", "--lang", "en")
    assert result.exit_code == EXIT_OK, result.output
    text = result.stdout
    assert text.startswith("# reconcile morning report: run `N2`")
    assert "| send | 1 | 16.7% |" in text
    # rule, rate, last night, false positives, block, hold, messages
    assert "| `R_DEL` | 60.0% | 50.0% | 3 | 1 | 2 | 5 |" in text
    assert "| false positives | 2 | 4 | +2 |" in text
    assert "### Payment pending PAYMENT_PENDING" in text


def test_json_report(db: Path) -> None:
    result = report_cli("--db", db, "--format", "json", "--lang", "en")
    assert result.exit_code == EXIT_OK, result.output
    data = json.loads(result.stdout)
    assert data.pop("language") == "en"
    assert data.pop("glossary")["flags"]["NOT_OVERDUE"]["name"] == "Not overdue"
    assert data["run"]["run_id"] == "N2" and data["pii_masked"] is True
    assert data["verdicts"] == {"send": 1, "hold": 2, "block": 2, "rejected": 1}
    assert data["rules"][1] == {
        "key": "R_DEL", "messages": 5, "blocked": 1, "held": 2, "previous_messages": 2,
        "previous_false_positives": 1, "false_positives": 3, "rate": 0.6,
        "previous_rate": 0.5}
    assert data["staleness"][0]["buckets"] == {
        "<6h": 1, "6–12h": 0, "12–24h": 1, "24–48h": 1, "≥48h": 1}
    assert data["comparison"]["previous_run"]["run_id"] == "N1"
    # M3 carries NOT_OVERDUE and STALE_DATA: listed once, under the first.
    assert "STALE_DATA" not in data["examples"]
    assert data["examples"]["NOT_OVERDUE"][1]["phone"] == "137****2222"
    assert data["examples"]["NOT_OVERDUE"][1]["flags"] == ["NOT_OVERDUE", "STALE_DATA"]
    assert data == build_report(db).to_dict()


def test_html_report_is_one_self_contained_file(db: Path) -> None:
    result = report_cli("--db", db, "--format", "html")
    assert result.exit_code == EXIT_OK, result.output
    page = result.stdout
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<meta charset="utf-8">' in page and "<style>" in page
    assert page.count("<svg") >= 5
    assert not re.search(r"https?://", page, re.IGNORECASE)
    # Nothing that could fetch: no external stylesheet, script, image, font or import.
    for pattern in (r"<link\b", r"<script\b", r"<img\b", r"<iframe\b", r"\bsrc=", r"@import",
                    r"url\((?!#)", r"//[a-z0-9.-]+\.[a-z]{2,}"):
        assert not re.search(pattern, page, re.IGNORECASE), pattern
    assert 'id="verdict-block"' in page and 'id="run-id">N2<' in page


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_every_section(db: Path, fmt: str) -> None:
    text = render(build_report(db), fmt)
    for needle in ("N2", "N1", "R_DEL", "T_COL", "PAYMENT_PENDING", "M5"):
        assert needle in text, (fmt, needle)


def test_output_writes_the_file_and_prints_nothing(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    result = report_cli("--db", db, "--format", "html", "--output", target)
    assert result.exit_code == EXIT_OK, result.output
    assert result.stdout == ""
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_the_database_is_opened_read_only(db: Path) -> None:
    before = db.stat().st_mtime_ns, db.read_bytes()
    assert report_cli("--db", db).exit_code == EXIT_OK
    assert (db.stat().st_mtime_ns, db.read_bytes()) == before
    assert not db.with_name(db.name + ".wal").exists()


# --- exit 2 --------------------------------------------------------------------------------


def assert_one_line_exit_2(result, needle: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("reconcile: error: ") and needle in result.stderr


def test_unknown_run_id_is_exit_2(db: Path) -> None:
    assert_one_line_exit_2(report_cli("NOPE", "--db", db), "no run NOPE (the latest is N2)")


def test_missing_database_is_exit_2(tmp_path: Path) -> None:
    assert_one_line_exit_2(report_cli("--db", tmp_path / "none.duckdb"), "no such file")
    assert not (tmp_path / "none.duckdb").exists()


def test_empty_file_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "empty.duckdb").touch()
    assert_one_line_exit_2(report_cli("--db", tmp_path / "empty.duckdb"), "the file is empty")


def test_not_a_duckdb_file_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "junk.duckdb").write_text("not a database", encoding="utf-8")
    assert_one_line_exit_2(report_cli("--db", tmp_path / "junk.duckdb"), "cannot be opened")


def test_a_duckdb_without_history_tables_is_exit_2(tmp_path: Path) -> None:
    duckdb.connect(str(tmp_path / "other.duckdb")).execute("CREATE TABLE t (x INT)").close()
    assert_one_line_exit_2(report_cli("--db", tmp_path / "other.duckdb"),
                           "not a reconcile history database")


def test_a_history_without_runs_is_exit_2(tmp_path: Path) -> None:
    db = build_history(tmp_path / "fresh.duckdb", nights={})
    assert_one_line_exit_2(report_cli("--db", db), "no run is recorded yet")


def test_output_into_a_missing_folder_is_exit_2(db: Path, tmp_path: Path) -> None:
    assert_one_line_exit_2(report_cli("--db", db, "-o", tmp_path / "no" / "r.txt"),
                           "does not exist")


def test_db_is_required() -> None:
    result = report_cli()
    assert result.exit_code == EXIT_BAD_INPUT and "--db" in result.output


# --- SQL files and docs --------------------------------------------------------------------


def test_each_section_is_one_sql_file_with_a_header() -> None:
    files = sorted(p.stem for p in (ROOT / "sql" / "report").glob("*.sql"))
    assert set(SECTION_QUERIES) <= set(files)
    for name in files:
        text = (ROOT / "sql" / "report" / f"{name}.sql").read_text(encoding="utf-8")
        assert text.startswith(f"-- report: {name}\n-- answers: "), name


def test_readme_shows_the_current_report_help() -> None:
    assert_block_is("report-help", command_help("report"), doc("report.md"))


# --- sample_data on two nights, through the real `reconcile run --db` ----------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, object]]]:
    return sample_history(tmp_path_factory.mktemp("sample"))


@pytest.mark.slow
def test_sample_two_nights_report(sample: tuple[Path, list[dict[str, object]]]) -> None:
    db, (first, second) = sample
    report = build_report(db)
    assert report.run.run_id == second["run_id"]
    # The hand-checked night (sample_data/README.md).
    assert {c.name: c.count for c in report.verdicts} == {
        "send": 55, "hold": 25, "block": 21, "rejected": 6}
    assert {c.name: c.count for c in report.flags} == second["flags"]
    assert report.comparison is not None
    assert report.comparison.previous.run_id == first["run_id"]
    previous = {c.name: c.previous for c in report.comparison.changes if c.kind != "total"}
    assert previous == {**first["verdicts"], **first["flags"]}  # type: ignore[dict-item]
    assert sum(s.messages for s in report.staleness) == 107 - 6
    # The night's warnings come first (sample_data/README.md, rows 97 and 99-107).
    assert report.run.warnings[0].startswith(
        "ledger rows naming no loan of loans: 2 (payments 1, collection_pauses 1)")
    blocked = {e.message_id for e in report.examples_of("NOT_OVERDUE")}
    assert "SMS2026112300109" in blocked
    paused = {e.message_id: e.evidence for e in report.examples_of("COLLECTION_PAUSED")}
    assert paused["SMS2026112300397"] == [
        "COLLECTION_PAUSED: collection paused: repayment_plan 2026-11-10..2026-12-31 "
        "(recorded 2026-11-10 15:00:00+08)"]


@pytest.mark.slow
def test_sample_text_report_fits_80_columns(sample: tuple[Path, list[dict[str, object]]]) -> None:
    result = report_cli("--db", sample[0], "--lang", "en")
    assert result.exit_code == EXIT_OK, result.output
    assert max(display_width(line) for line in result.stdout.splitlines()) <= 80
    # The history keeps phones and names pseudonymised by default: the report shows the
    # start of each keyed hash, the hash of the phone and name sample_data gives.
    db = sample[0]
    key = history.pseudonym_key(history.HistoryPaths.of(db), Settings(), create=False)
    phone, name = (history.pseudonym(key, value)[:8] for value in ("13800001111", "邓超"))
    assert f"phone #{phone}; name #{name}; loan LN202604150070" in " ".join(
        result.stdout.split())
    assert "phones and names are pseudonymised" in result.stdout


# --- at a glance: what moved, the rules to look at first ----------------------------------


def _night(day: int, stopped: dict[str, tuple[int, int]]) -> tuple[str, str, list[Any]]:
    """A night of 2026-11-DAY whose rule R had stopped[R] = (false positives, messages)."""
    findings = []
    for rule, (false_positives, messages) in stopped.items():
        findings += [(f"{rule}-{day}-{i}", "block" if i < false_positives else "send",
                      ["NOT_OVERDUE"] if i < false_positives else [], rule, "T", 2.0,
                      "13800000000", "张三") for i in range(messages)]
    return (f"2026-11-{day:02d} 01:30:00+08", f"2026-11-{day:02d} 02:00:00+08", findings)


@pytest.mark.slow
def test_the_glance_names_the_highest_rates_and_the_fastest_riser(tmp_path: Path) -> None:
    # R_ALL stops everything, R_MOST 9 of 10 every night; R_RISE was clean and stops half
    # tonight; R_SOME stops 4 of 10 every night: higher tonight than R_RISE, but not rising.
    quiet = {"R_ALL": (2, 2), "R_MOST": (9, 10), "R_RISE": (0, 10), "R_SOME": (4, 10)}
    nights = {f"D{day}": _night(day, quiet) for day in range(10, 20)}
    nights["D20"] = _night(20, {**quiet, "R_RISE": (3, 10)})
    report = build_report(build_history(tmp_path / "history.duckdb", nights))
    assert report.glance is not None and report.trends is not None
    watched = [(r.key, r.why, round(r.rate, 2), r.median_rate) for r in report.glance.watched]
    assert watched == [("R_ALL", "highest", 1.0, 1.0), ("R_MOST", "highest", 0.9, 0.9),
                       ("R_RISE", "rising", 0.3, 0.0)]
    assert report.glance.watched[2].recent_rates == (0.0,) * 7 + (0.3,)
    # 11 nights recorded: all in the trends; the medians read the 7 before tonight.
    assert len(report.trends.nights) == 11
    moved = {m.name: (m.current, m.previous, m.median) for m in report.glance.movements}
    assert moved["false_positives"] == (18, 15, 15)
    assert moved["messages"] == (32, 32, 32)
    text = render(report, "text", "en")
    assert "R_RISE" in text and "rising fastest" in text


def test_the_feed_guards_count_what_they_held(db: Path) -> None:
    report = build_report(db)
    assert report.glance is not None
    assert [(f.flag, f.held, f.enabled) for f in report.glance.feeds] == [
        ("STALE_FEED", 0, True), ("INCOMPLETE_FEED", 0, True), ("UNPLACED_PAYMENT", 0, True)]
