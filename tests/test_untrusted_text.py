"""Text from the drop is data: never a terminal control code, never live markup.

A crafted id or message text (an ESC sequence that retitles the window or clears the
screen, a C1 control, a bidi override, an <img onerror=...>) is shown escaped by every
command that prints it, and a carriage return inside a quoted CSV field is just a
character of that field.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from drops import LEDGER_ONLY_CONFIG, Drop, read_csv_rows

from reconcile.cli.main import main
from reconcile.errors import EXIT_BAD_INPUT, EXIT_OK
from reconcile.report.render import FORMATS

AS_OF = "2026-11-23T02:00:00+08:00"
# An OSC (set the window title, ended by BEL), a CSI (clear the screen), a C1 CSI, a bidi
# override, a DEL, and a bare carriage return that would overwrite the line.
OSC = "\x1b]0;pwned\x07"
HOSTILE = f"{OSC}\x1b[2J\x9b31m\u202e\x7f\rX"
IMG = "<img src=x onerror=alert(1)>"
MESSAGE_ID = f"M{IMG}{OSC}"
RULE_ID = f"R_{IMG}|`x`{HOSTILE}"
LOAN_ID = f"L{HOSTILE}"
BORROWER_ID = f"B{OSC}\x9b1m"
# Any control character a terminal may act on; \n alone separates lines.
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def hostile_drop() -> Drop:
    drop = Drop().loan("L1").installment("L1", 1, "2026-11-01", "100.00")
    drop.rule(RULE_ID, "delinquency")
    drop.message("M1")
    # An unknown loan: blocked, so the report shows it among the examples.
    drop.message(MESSAGE_ID, loan_id=LOAN_ID, borrower_id=BORROWER_ID, rule_id=RULE_ID,
                 borrower_name=f"Li{OSC}", message_text=f"please pay {HOSTILE}")
    return drop


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def assert_no_control(text: str, where: str) -> None:
    found = CONTROL.search(text)
    assert found is None, f"{where}: raw {found.group()!r} at {found.start()}: " \
                          f"{text[max(0, found.start() - 40):found.start() + 40]!r}"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("hostile")
    data_dir = hostile_drop().write(tmp_path / "in")
    config = tmp_path / "reconcile.toml"
    config.write_text(LEDGER_ONLY_CONFIG, encoding="utf-8")
    db = tmp_path / "history.duckdb"
    result = cli("run", data_dir, "--out", tmp_path / "out", "--as-of", AS_OF,
                    "--config", config, "--db", db)
    assert result.exit_code == EXIT_OK, result.output
    assert_no_control(result.output, "run summary")
    return db


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
def test_report_shows_no_control_code(history: Path, fmt: str) -> None:
    result = cli("report", "--db", history, "--format", fmt)
    assert result.exit_code == EXIT_OK, result.output
    assert_no_control(result.stdout, f"report --format {fmt}")
    assert "\\u001b" in result.stdout and "pwned" in result.stdout  # shown, escaped


@pytest.mark.slow
def test_report_written_to_a_file_shows_no_control_code(history: Path, tmp_path: Path) -> None:
    for fmt in FORMATS:
        path = tmp_path / f"report.{fmt}"
        assert cli("report", "--db", history, "--format", fmt, "-o", path).exit_code == EXIT_OK
        assert_no_control(path.read_text(encoding="utf-8"), f"report.{fmt}")


@pytest.mark.slow
def test_json_report_keeps_the_values(history: Path) -> None:
    """Escaped the JSON way: a JSON reader gets the exact ids back."""
    data = json.loads(cli("report", "--db", history, "--format", "json").stdout)
    assert RULE_ID in [rule["key"] for rule in data["rules"]]
    examples = [e for flag in data["examples"].values() for e in flag]
    assert MESSAGE_ID in [e["message_id"] for e in examples]
    assert LOAN_ID in [e["loan_id"] for e in examples]


@pytest.mark.slow
def test_markdown_report_quotes_no_live_markup(history: Path) -> None:
    text = cli("report", "--db", history, "--format", "markdown").stdout
    assert "<img" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    # Each table row of the rule: its pipe and backticks escaped, so the row keeps as many
    # cells as its table's header.
    lines = text.splitlines()
    rows = [i for i, line in enumerate(lines) if line.startswith("| R_&lt;img")]
    assert len(rows) >= 3  # the rules to watch, the rules that misfire, staleness
    for i in rows:
        header = next(lines[j] for j in range(i, -1, -1) if not lines[j - 1].startswith("|"))
        assert "\\|\\`x\\`" in lines[i]
        cells = len(re.split(r"(?<!\\)\|", lines[i]))
        assert cells == len(re.split(r"(?<!\\)\|", header)), lines[i]


@pytest.mark.slow
def test_html_report_quotes_no_live_markup(history: Path) -> None:
    page = cli("report", "--db", history, "--format", "html").stdout
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_query_shows_no_control_code(history: Path, fmt: str) -> None:
    result = cli("query", "--db", history, "--format", fmt,
                 "SELECT message_id, borrower_id, loan_id, rule_id, borrower_name, reason "
                 "FROM findings ORDER BY source_row")
    assert result.exit_code == EXIT_OK, result.output
    assert_no_control(result.stdout, f"query --format {fmt}")
    if fmt == "json":
        rows = json.loads(result.stdout)
        assert [r["message_id"] for r in rows] == ["M1", MESSAGE_ID]
        assert rows[1]["borrower_id"] == BORROWER_ID
    else:
        assert "\\u001b]0;pwned\\u0007" in result.stdout and "\\r" in result.stdout


def test_error_messages_show_no_control_code(tmp_path: Path) -> None:
    """An error quoting the drop (here a header) prints its control codes escaped."""
    data_dir = Drop().loan("L1").message("M1").write(tmp_path / "in")
    path = data_dir / "send_batch.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        header, rest = handle.read().split("\r\n", 1)
    name = f"note{OSC}"
    path.write_text(f"{header},{name},{name}\r\n{rest}", encoding="utf-8", newline="")
    result = cli("run", data_dir, "--out", tmp_path / "out", "--as-of", AS_OF)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "appears more than once" in result.stderr
    assert_no_control(result.stderr, "error message")


@pytest.mark.slow
def test_run_summary_shows_no_control_code(tmp_path: Path) -> None:
    data_dir = Drop().loan("L1").installment("L1", 1, "2026-11-01", "100.00").message("M1")
    out_dir = tmp_path / f"out{OSC}"
    result = cli("run", data_dir.write(tmp_path / "in"), "--out", out_dir, "--as-of", AS_OF)
    assert result.exit_code == EXIT_OK, result.output
    assert_no_control(result.stdout, "run summary")
    assert (out_dir / "findings.csv").is_file()


# --- a carriage return inside a quoted field ---------------------------------------------


def write_rows(path: Path, rows: list[list[str]], newline: str) -> None:
    """RFC 4180 CSV: a field with a comma, quote, CR or LF in quotes, rows ended by newline."""
    def field(value: str) -> str:
        if any(c in value for c in ',"\r\n'):
            return '"' + value.replace('"', '""') + '"'
        return value
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.writelines(",".join(field(v) for v in row) + newline for row in rows)


@pytest.mark.slow
@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_a_carriage_return_inside_quotes_is_part_of_the_field(tmp_path: Path,
                                                               newline: str) -> None:
    drop = Drop()
    for i in range(1, 7):
        cr = i in (1, 4, 6)
        drop.loan(f"L{i}", f"B{i}").installment(f"L{i}", 1, "2026-11-01", "100.00")
        drop.message(f"M{i}", loan_id=f"L{i}", borrower_id=f"B{i}",
                     borrower_name="Li\rWei" if cr else "Li Wei",
                     message_text="cr\ronly" if cr else "plain text")
    data_dir = drop.write(tmp_path / "in")
    path = data_dir / "send_batch.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    write_rows(path, rows, newline)
    config = tmp_path / "reconcile.toml"
    config.write_text(LEDGER_ONLY_CONFIG, encoding="utf-8")
    result = cli("run", data_dir, "--out", tmp_path / "out", "--as-of", AS_OF,
                    "--config", config)
    assert result.exit_code == EXIT_OK, result.output
    findings = {r["message_id"]: r for r in read_csv_rows(tmp_path / "out" / "findings.csv")}
    assert sorted(findings) == [f"M{i}" for i in range(1, 7)]
    assert {r["verdict"] for r in findings.values()} == {"send"}, findings
    sent = {r["message_id"]: r for r in read_csv_rows(tmp_path / "out" / "send.csv")}
    assert sent["M1"]["message_text"] == "cr\ronly" and sent["M1"]["borrower_name"] == "Li\rWei"
    assert sent["M2"]["message_text"] == "plain text"
