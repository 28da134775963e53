"""Differential tests: `reconcile run` against the pure-Python oracle on generated drops.

Each case generates a drop of a few thousand messages (`reconcile.synth.generator`, labelled by
`reconcile.synth.reference`, which shares no code with the engine), runs the engine on it through
the CLI with the drop's own as-of, and compares every message's verdict, flags,
overdue_amount and days_past_due with labels.csv. Seeds, timestamp styles (+08:00 offsets,
UTC Z, naive local, a mix of shapes), as-of instants (month ends, a leap day, afternoons,
UTC and naive as-of) and file formats vary across the cases. A disagreement fails the test
and prints the message, its loan's ledger rows and both answers.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from drops import invoke
from generated import explain, read_tables, rewrite_csv, write_labels

from reconcile.synth.generator import CONFIG_FILE, TABLE_NAMES, Rates, generate
from reconcile.synth.reference import Settings, reference
from reconcile.synth.verify import verify

# Every test here generates a drop of thousands of messages and runs it. Left out by `pytest -m
# "not slow"`.
pytestmark = pytest.mark.slow

STYLES = ("offset", "utc", "naive", "mixed")
AS_OFS = (None, "2027-01-31T23:59:59+08:00", "2028-02-29T06:00:00Z", "2026-12-31 18:00:00",
          "2026-03-31T01:00:00+08:00")
CASES = [
    pytest.param(seed, STYLES[i % len(STYLES)], AS_OFS[i % len(AS_OFS)],
                 "parquet" if i % 7 == 3 else "csv", 2000 + (i * 173) % 1000,
                 id=f"seed{seed}-{STYLES[i % len(STYLES)]}-{'parquet' if i % 7 == 3 else 'csv'}")
    for i, seed in enumerate(range(101, 121))
]


@pytest.mark.parametrize("seed, style, as_of, file_format, messages", CASES)
def test_engine_agrees_with_the_reference_on_every_message(
        tmp_path: Path, seed: int, style: str, as_of: str | None, file_format: str,
        messages: int) -> None:
    drop, out = tmp_path / "drop", tmp_path / "out"
    generated = generate(drop, messages, seed, file_format=file_format, timestamp_style=style,
                         as_of=as_of)
    recorded = json.loads((drop / "drop.json").read_text(encoding="utf-8"))["as_of"]
    assert recorded == generated.as_of
    run = invoke("run", drop, "--out", out, "--as-of", recorded, "-q",
                 "--config", drop / CONFIG_FILE)
    assert run.exit_code == 0, run.output
    result = verify(drop / "labels.csv", out / "findings.csv", show=10)
    assert result.labelled == result.reported == messages
    if not result.ok:
        shown = "\n\n".join(explain(drop, out, d) for d in result.disagreements)
        pytest.fail(f"engine and reference disagree on {result.disagreeing} of {messages} "
                    f"messages (seed {seed}, {style}, as of {recorded}, {file_format}); "
                    f"first {len(result.disagreements)}:\n\n{shown}", pytrace=False)


@pytest.mark.parametrize("seed, style", [(131, "offset"), (132, "mixed")])
def test_engine_agrees_with_the_reference_under_the_us_reg_f_profile(
        tmp_path: Path, seed: int, style: str) -> None:
    """The other policy profile: 08:00-21:00, 7 messages in 7 x 24 h per loan, opt-out
    required, country code 1. The oracle labels the drop with the same profile."""
    drop, out = tmp_path / "drop", tmp_path / "out"
    generated = generate(drop, 2500, seed, timestamp_style=style, labels=False)
    settings = Settings.for_profile("us_reg_f")
    findings = reference(read_tables(drop, TABLE_NAMES), datetime.fromisoformat(generated.as_of),
                         settings)
    labels = write_labels(findings, tmp_path / "labels.csv")
    config = tmp_path / "reconcile.toml"
    config.write_text('profile = "us_reg_f"\n', encoding="utf-8")
    run = invoke("run", drop, "--out", out, "--as-of", generated.as_of, "--config", config, "-q")
    assert run.exit_code == 0, run.output
    for flag in ("FREQUENCY_CAP", "MISSING_OPT_OUT", "QUIET_HOURS", "THIRD_PARTY_RECIPIENT"):
        assert any(flag in f.flags for f in findings), flag
    result = verify(labels, out / "findings.csv", show=10)
    if not result.ok:
        shown = "\n\n".join(explain(drop, out, d) for d in result.disagreements)
        pytest.fail(f"engine and reference disagree under us_reg_f on {result.disagreeing} "
                    f"messages (seed {seed}); first {len(result.disagreements)}:\n\n{shown}",
                    pytrace=False)


def test_a_disagreement_is_shown_with_its_message_ledger_and_both_answers(
        tmp_path: Path) -> None:
    """What the test above prints when the two disagree (here: a label altered on purpose)."""
    drop, out = tmp_path / "drop", tmp_path / "out"
    generated = generate(drop, 60, 8, file_format="parquet", rates=Rates.zero())
    assert invoke("run", drop, "--out", out, "--as-of", generated.as_of, "-q",
                  "--config", drop / CONFIG_FILE).exit_code == 0
    labels = rewrite_csv(drop / "labels.csv", tmp_path / "labels.csv",
                         {2: {"verdict": "block", "flags": "NOT_OVERDUE"}})
    result = verify(labels, out / "findings.csv")
    assert result.disagreeing == 1
    text = explain(drop, out, result.disagreements[0])
    assert text.startswith("source_row 2: differs in verdict, flags")
    assert "'verdict': 'block', 'flags': 'NOT_OVERDUE'" in text
    assert "'verdict': 'send', 'flags': ''" in text
    assert "send_batch: {'message_id': 'SMS20261123" in text
    assert "\n  loans: {'loan_id': 'LN" in text and "\n  installments: {" in text
