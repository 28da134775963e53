"""Identifiers are compared after trimming surrounding whitespace, in every table and in
CSV and Parquet alike (docs/inputs.md): CHAR columns exported from Oracle, DB2 or MySQL
arrive space-padded, and a padded loan_id must neither lose a payment nor a message.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import duckdb
import pytest
from drops import Drop, invoke, read_csv_rows, run_drop
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.schema import TABLES_BY_NAME
from reconcile.synth.generator import TABLE_NAMES, generate

# Every test here runs padded and unpadded drops through the CLI. Left out by `pytest -m "not
# slow"`.
pytestmark = pytest.mark.slow

# Whitespace a padded export carries: spaces (CHAR), tabs, a no-break or full-width space.
PADDING = (" ", "   ", "\t", "\u00a0", "\u3000")
IDENTIFIER_COLUMNS = {
    name: [c.name for c in table.columns if c.identifier]
    for name, table in TABLES_BY_NAME.items()
}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_padded_identifiers_in_every_table_match(tmp_path: Path, fmt: str) -> None:
    """Each id padded differently in each table: the message still finds its loan, template,
    rule and payments, and its own id comes out trimmed."""
    drop = Drop()
    drop.tables["templates"], drop.tables["rules"] = [], []
    drop.template("  T_COL", "collection ").rule("R_DEL\t", " delinquency")
    drop.loan(" L1 ", borrower_id="B1  ", status="active   ")
    drop.installment("L1\u3000", 1, "2026-11-01", "100.00")
    drop.payment(" P1", "\u00a0L1", "100.00", status="settled  ",
                 posted_at="2026-11-22T20:00:00+08:00")
    drop.message(" M1 ", loan_id="L1  ", borrower_id=" B1", template_id="T_COL ",
                 rule_id=" R_DEL", phone=" 13800001234 ")
    by_id = run_drop(drop, tmp_path, fmt=fmt)
    assert list(by_id) == ["M1"]
    m1 = by_id["M1"]
    assert (m1["verdict"], m1["flags"], m1["loan_id"]) == ("block", "NOT_OVERDUE", "L1")


def test_a_padded_duplicate_is_a_duplicate(tmp_path: Path) -> None:
    drop = Drop()
    drop.loan("L1").installment("L1", 1, "2026-11-01", "100.00")
    drop.message("M1").message("M1 ")
    by_row = read_csv_rows(_run(drop, tmp_path) / "findings.csv")
    assert [row["verdict"] for row in by_row] == ["rejected", "rejected"]
    assert "message_id M1 appears 2 times" in by_row[0]["reason"]


def _run(drop: Drop, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    result = invoke("run", drop.write(tmp_path / "drop"), "--out", out,
                    "--as-of", "2026-11-23T02:00:00+08:00")
    assert result.exit_code == 0, result.output
    return out


# ---------------------------------------------------------------------------------------
# Property: random padding of identifiers changes no finding.


@pytest.fixture(scope="module")
def generated_drop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    """A generated drop (every failure mode at its default rate) and its unpadded run."""
    root = tmp_path_factory.mktemp("padding")
    drop = root / "drop"
    result = generate(drop, 120, 11, labels=False)
    out = root / "out"
    run = invoke("run", drop, "--out", out, "--as-of", result.as_of, "-q")
    assert run.exit_code == 0, run.output
    return drop, result.as_of, out


def _pad(source: Path, target: Path, rng: random.Random, share: float) -> None:
    """Copy a generated drop's CSVs with a share of identifier cells padded on either side."""
    target.mkdir()
    for name in TABLE_NAMES:
        with (source / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        columns = IDENTIFIER_COLUMNS[name]
        for row in rows:
            for column in columns:
                if column in row and rng.random() < share:
                    row[column] = (rng.choice(("", *PADDING)) + row[column]
                                   + rng.choice(PADDING))
        with (target / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else [])
            writer.writeheader()
            writer.writerows(rows)


def _to_parquet(folder: Path) -> None:
    """Each CSV as a Parquet file of text columns, as a CHAR export to Parquet carries it."""
    for path in sorted(folder.glob("*.csv")):
        duckdb.execute(
            f"COPY (SELECT * FROM read_csv('{path}', header = true, all_varchar = true)) "
            f"TO '{path.with_suffix('.parquet')}' (FORMAT parquet)")
        path.unlink()


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), share=st.sampled_from((0.1, 0.5, 1.0)),
       fmt=st.sampled_from(("csv", "parquet")))
def test_padding_identifiers_changes_no_finding(
        generated_drop: tuple[Path, str, Path], tmp_path_factory: pytest.TempPathFactory,
        seed: int, share: float, fmt: str) -> None:
    drop, as_of, unpadded_out = generated_drop
    padded = tmp_path_factory.mktemp("padded") / "drop"
    _pad(drop, padded, random.Random(seed), share)
    if fmt == "parquet":
        _to_parquet(padded)
    out = padded.parent / "out"
    run = invoke("run", padded, "--out", out, "--as-of", as_of, "-q")
    assert run.exit_code == 0, run.output
    expected = read_csv_rows(unpadded_out / "findings.csv")
    found = read_csv_rows(out / "findings.csv")
    if fmt == "parquet":  # reasons name the file a row came from
        found = [{k: v.replace(".parquet row", ".csv row") for k, v in row.items()}
                 for row in found]
    assert found == expected
