"""`reconcile generate` and `reconcile verify` as a user runs them: output and exit codes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from drops import invoke
from generated import rewrite_csv

from reconcile.errors import EXIT_BAD_INPUT, EXIT_DISAGREE, EXIT_OK
from reconcile.synth.generator import CONFIG_FILE


@pytest.fixture(scope="module")
def drop_and_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("cli")
    result = invoke("generate", root / "drop", "--messages", "400", "--seed", "3",
                    "--timestamps", "mixed")
    assert result.exit_code == EXIT_OK, result.output
    as_of = json.loads((root / "drop" / "drop.json").read_text(encoding="utf-8"))["as_of"]
    run = invoke("run", root / "drop", "--out", root / "out", "--as-of", as_of, "-q",
                 "--config", root / "drop" / CONFIG_FILE)
    assert run.exit_code == EXIT_OK, run.output
    return root / "drop", root / "out"


@pytest.mark.slow
def test_generate_prints_what_it_wrote_and_how_to_run_it(drop_and_run: tuple[Path, Path]
                                                        ) -> None:
    drop, _ = drop_and_run
    description = json.loads((drop / "drop.json").read_text(encoding="utf-8"))
    assert description["seed"] == 3 and description["timestamp_style"] == "mixed"
    again = invoke("generate", drop, "-n", "400", "--seed", "3", "--timestamps", "mixed")
    assert again.exit_code == EXIT_OK, again.output
    assert f"generated {drop}: 400 messages (seed 3, csv, mixed timestamps)" in again.output
    assert "labels.csv: send " in again.output
    assert f"reconcile run {drop} --out {drop}-out --as-of 2026-11-23T01:30:00+08:00" \
        in again.output
    assert again.stderr == ""  # no progress bar without a terminal


def test_generate_rate_options_and_formats(tmp_path: Path) -> None:
    result = invoke("generate", tmp_path / "d", "-n", "50", "--rate", "all=0", "--rate",
                    "rejected=1", "--format", "parquet", "--no-labels", "-q")
    assert result.exit_code == EXIT_OK, result.output
    assert result.output == ""
    description = json.loads((tmp_path / "d" / "drop.json").read_text(encoding="utf-8"))
    assert description["rates"]["rejected"] == 1 and description["rates"]["paid"] == 0
    assert description["labels"] is None
    assert (tmp_path / "d" / "send_batch.parquet").is_file()
    assert not (tmp_path / "d" / "labels.csv").exists()


@pytest.mark.parametrize("args, message", [
    (["--rate", "paid=2"], "--rate: 'paid=2': a rate is between 0 and 1"),
    (["--rate", "bogus=0.1"], "--rate: 'bogus=0.1': expected NAME=R"),
    (["--as-of", "tomorrow"], "--as-of: 'tomorrow' is not a timestamp"),
])
def test_generate_unusable_options_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke("generate", tmp_path / "d", "-n", "10", *args)
    assert result.exit_code == EXIT_BAD_INPUT
    assert message in result.stderr and result.stderr.startswith("reconcile: error:")
    assert not (tmp_path / "d").exists()


def test_generate_needs_messages(tmp_path: Path) -> None:
    assert invoke("generate", tmp_path / "d").exit_code == EXIT_BAD_INPUT
    assert invoke("generate", tmp_path / "d", "-n", "0").exit_code == EXIT_BAD_INPUT


@pytest.mark.slow
def test_verify_agreeing_run_exits_0_with_a_table(drop_and_run: tuple[Path, Path]) -> None:
    _, out = drop_and_run
    result = invoke("verify", out)  # labels found through summary.json
    assert result.exit_code == EXIT_OK, result.output
    lines = result.output.splitlines()
    assert "400 messages: 400 agree, 0 disagree" in lines[1]
    header = next(line for line in lines if line.lstrip().startswith("flag"))
    assert header.split() == ["flag", "expected", "found", "TP", "FP", "FN", "precision",
                              "recall"]
    row = next(line for line in lines if line.lstrip().startswith("RULE_MISMATCH"))
    assert len(row) == len(header) and row.endswith("1.000")  # aligned, right-justified
    assert lines[-1] == "  every message agrees"


@pytest.mark.slow
def test_verify_disagreement_exits_3_and_shows_both_answers(
        drop_and_run: tuple[Path, Path], tmp_path: Path) -> None:
    drop, out = drop_and_run
    labels = rewrite_csv(drop / "labels.csv", tmp_path / "labels.csv",
                      {7: {"verdict": "block", "flags": "UNKNOWN_LOAN"}})
    result = invoke("verify", out, "--labels", labels)
    assert result.exit_code == EXIT_DISAGREE == 3
    assert "1 disagree" in result.output
    assert "row 7 " in result.output and "differs in: verdict, flags" in result.output
    assert "expected  block    UNKNOWN_LOAN" in result.output
    assert "      found     " in result.output


@pytest.mark.slow
def test_verify_unusable_input_exits_2(drop_and_run: tuple[Path, Path], tmp_path: Path) -> None:
    drop, out = drop_and_run
    missing = invoke("verify", tmp_path / "no-run", "--labels", drop / "labels.csv")
    assert missing.exit_code == EXIT_BAD_INPUT
    assert "findings" in missing.stderr
    no_summary = tmp_path / "bare"
    no_summary.mkdir()
    shutil.copy(out / "findings.csv", no_summary / "findings.csv")
    result = invoke("verify", no_summary)
    assert result.exit_code == EXIT_BAD_INPUT
    assert result.stderr.startswith("reconcile: error: --labels: not given, and ")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("script") is None, reason="needs util-linux `script` for a pty")
def test_generate_shows_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    command = f"{sys.executable} -m reconcile generate {tmp_path / 'd'} -n 200 --seed 1"
    screen = subprocess.run(["script", "-q", "-c", command, "/dev/null"], cwd=tmp_path,
                            capture_output=True, text=True, check=True).stdout
    assert "generate  [####" in screen and "100%" in screen
    assert "generated " in screen


def test_readme_lists_every_rate_with_its_default() -> None:
    from reconcile.synth.generator import RATE_NAMES, Rates

    page = (Path(__file__).resolve().parent.parent / "docs" / "synthetic.md").read_text("utf-8")
    table = page.split("<!-- rate-table -->", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| ([0-9.]+) \|", table, re.MULTILINE)
    assert [(name, float(rate)) for name, rate in rows] == \
        [(name, getattr(Rates(), name)) for name in RATE_NAMES]
