"""`reconcile.synth.verify`: a run's findings.csv against a drop's labels, message by message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from drops import invoke, read_csv_rows
from generated import rewrite_csv

from reconcile.checks import FEED_FLAGS, FLAGS
from reconcile.errors import InputError
from reconcile.synth.generator import CONFIG_FILE, generate
from reconcile.synth.verify import default_labels, verify

# Every test here reads a generated drop and its run (one module fixture). Left out by `pytest -m
# "not slow"`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated drop of 600 messages and a run on it (as `drop/` and `out/`)."""
    root = tmp_path_factory.mktemp("verify")
    result = generate(root / "drop", 600, 77)
    run = invoke("run", root / "drop", "--out", root / "out", "--as-of", result.as_of, "-q",
                 "--config", root / "drop" / CONFIG_FILE)
    assert run.exit_code == 0, run.output
    return root / "out"


def test_a_faithful_run_agrees_on_every_message(run_out: Path) -> None:
    result = verify(run_out.parent / "drop" / "labels.csv", run_out / "findings.csv")
    assert result.ok and result.disagreeing == 0 and result.disagreements == ()
    assert result.labelled == result.reported == result.agreeing == 600
    assert result.agreement == dict.fromkeys(
        ("message_id", "verdict", "flags", "overdue_amount", "days_past_due"), 600)
    # The flags that judge the night as a whole are off in a generated drop's config.
    assert [s.flag for s in result.flags] == [f for f in FLAGS if f not in FEED_FLAGS]
    for score in result.flags:
        assert score.false_positives == score.false_negatives == 0
        assert score.precision in (1.0, None) and score.recall in (1.0, None)
    assert sum(result.verdict_pairs.values()) == 600
    assert all(expected == found for expected, found in result.verdict_pairs)


def test_disagreements_are_counted_per_flag_and_shown_with_both_answers(
        run_out: Path, tmp_path: Path) -> None:
    labels = read_csv_rows(run_out.parent / "drop" / "labels.csv")
    sent = next(i for i, row in enumerate(labels, 1) if row["verdict"] == "send")
    flagged = next(i for i, row in enumerate(labels, 1) if row["flags"] == "RULE_MISMATCH")
    changed = rewrite_csv(run_out.parent / "drop" / "labels.csv", tmp_path / "labels.csv", {
        sent: {"verdict": "hold", "flags": "STALE_DATA"},  # the run misses a flag
        flagged: {"verdict": "send", "flags": ""},  # the run flags what it should not
    })
    result = verify(changed, run_out / "findings.csv")
    assert not result.ok and result.disagreeing == 2 and result.agreeing == 598
    scores = {s.flag: s for s in result.flags}
    assert scores["STALE_DATA"].false_negatives == 1
    assert scores["RULE_MISMATCH"].false_positives == 1
    assert scores["RULE_MISMATCH"].precision == pytest.approx(
        scores["RULE_MISMATCH"].true_positives / scores["RULE_MISMATCH"].found)
    first = result.disagreements[0]
    assert first.source_row == min(sent, flagged)
    assert first.expected is not None and first.found is not None
    assert set(first.differences) == {"verdict", "flags"}
    assert first.to_dict()["message_id"] == labels[first.source_row - 1]["message_id"]


def test_numbers_are_compared_by_value_and_flags_as_a_set(run_out: Path, tmp_path: Path) -> None:
    labels = read_csv_rows(run_out.parent / "drop" / "labels.csv")
    two = next(i for i, row in enumerate(labels, 1) if row["flags"].count(";") == 1)
    amount = next(i for i, row in enumerate(labels, 1) if row["overdue_amount"] and i != two)
    flags = labels[two - 1]["flags"].split(";")
    changed = rewrite_csv(run_out.parent / "drop" / "labels.csv", tmp_path / "labels.csv", {
        two: {"flags": ";".join(reversed(flags))},
        amount: {"overdue_amount": labels[amount - 1]["overdue_amount"] + "0",
                 "days_past_due": "+" + labels[amount - 1]["days_past_due"]},
    })
    assert verify(changed, run_out / "findings.csv").ok


def test_rows_missing_on_either_side_disagree(run_out: Path, tmp_path: Path) -> None:
    findings = rewrite_csv(run_out / "findings.csv", tmp_path / "findings.csv", {}, (5,))
    result = verify(run_out.parent / "drop" / "labels.csv", findings)
    assert result.labelled == 600 and result.reported == 599 and result.disagreeing == 1
    assert result.disagreements[0].found is None
    assert result.disagreements[0].differences == ("missing in findings",)


def test_unusable_files_are_input_errors(run_out: Path, tmp_path: Path) -> None:
    labels = run_out.parent / "drop" / "labels.csv"
    with pytest.raises(InputError, match="cannot be read"):
        verify(tmp_path / "nope.csv", run_out / "findings.csv")
    (tmp_path / "bad.csv").write_text("message_id,verdict\nM1,send\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column"):
        verify(labels, tmp_path / "bad.csv")
    broken = rewrite_csv(labels, tmp_path / "broken.csv", {3: {"source_row": "x"}})
    with pytest.raises(InputError, match="whole-number source_row"):
        verify(broken, run_out / "findings.csv")


def test_default_labels_come_from_the_drop_the_run_read(run_out: Path, tmp_path: Path) -> None:
    assert default_labels(run_out) == Path(str(run_out.parent / "drop")) / "labels.csv"
    shutil.copytree(run_out, tmp_path / "copy")
    (tmp_path / "copy" / "summary.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match=r"^labels_csv: not given, and "):
        default_labels(tmp_path / "copy")
