"""`reconcile.synth.generator`: reproducible, chunk-independent, realistic drops with labels.

The engine-vs-labels comparison on many drops is tests/test_differential.py; here the
generator's own promises: the same seed gives the same bytes whatever the chunk size, the
failure modes show up at their rates (and not at all at rate 0), CSV and Parquet carry the
same drop, and options are checked.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from drops import invoke, read_csv_rows

from reconcile.errors import ConfigError
from reconcile.schema import FEED_FLAGS
from reconcile.synth.generator import (
    CONFIG_FILE,
    DROP_FILE,
    LABEL_COLUMNS,
    LABELS_FILE,
    TABLE_NAMES,
    GenerateResult,
    Rates,
    generate,
    parse_rates,
)
from reconcile.synth.reference import FLAGS

SEED = 20261123
MESSAGES = 3000


@pytest.fixture(scope="module")
def csv_drop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateResult]:
    folder = tmp_path_factory.mktemp("gen") / "drop"
    return folder, generate(folder, MESSAGES, SEED)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_drop_has_every_table_labels_and_drop_json(csv_drop: tuple[Path, GenerateResult]
                                                     ) -> None:
    folder, result = csv_drop
    expected = {f"{name}.csv" for name in TABLE_NAMES} | {LABELS_FILE, DROP_FILE, CONFIG_FILE}
    assert {p.name for p in folder.iterdir()} == expected
    labels = read_csv_rows(folder / LABELS_FILE)
    assert tuple(labels[0]) == LABEL_COLUMNS
    assert [int(row["source_row"]) for row in labels] == list(range(1, MESSAGES + 1))
    batch = read_csv_rows(folder / "send_batch.csv")
    assert [row["message_id"] for row in batch] == [row["message_id"] for row in labels]
    description = json.loads((folder / DROP_FILE).read_text(encoding="utf-8"))
    assert description["seed"] == SEED and description["messages"] == MESSAGES
    assert description["as_of"] == result.as_of == "2026-11-23T01:30:00+08:00"
    assert description["rows"]["send_batch"] == MESSAGES
    assert description["rows"]["installments"] > 3 * MESSAGES  # 3-24 installments a loan
    assert description["rates"] == Rates().to_dict()
    assert sum(description["labels"]["verdicts"].values()) == MESSAGES
    assert f"--as-of {result.as_of}" in description["run"]


def test_ids_and_text_look_like_a_lenders_export(csv_drop: tuple[Path, GenerateResult]
                                                  ) -> None:
    folder, _ = csv_drop
    batch = read_csv_rows(folder / "send_batch.csv")
    stating = [m for m in batch if m["template_id"] == "TPL_COL_M1"
               and m["claimed_overdue_amount"].replace(".", "").isdigit()
               and m["claimed_days_past_due"]]
    message = stating[0]
    assert message["message_id"].startswith("SMS20261123")
    assert message["loan_id"].startswith("LN") and message["borrower_id"].startswith("BR")
    assert message["message_text"].startswith("【XX消费金融】" + message["borrower_name"])
    # The text states the rule's claim (a few claims are then altered by a failure mode),
    # mostly in the usual wording, now and then in another (¥, RMB, English).
    said = [m for m in stating
            if f"{float(m['claimed_overdue_amount']):,.2f}" in m["message_text"]
            and m["claimed_days_past_due"] in m["message_text"]]
    assert len(said) > 0.9 * len(stating)
    usual = [m for m in said if "应还金额" in m["message_text"]]
    assert 0.75 * len(said) < len(usual) < len(said)
    assert {m["template_id"] for m in batch} >= {"TPL_REM_PRE", "TPL_COL_M2", "TPL_ESC_M4"}
    loans = read_csv_rows(folder / "loans.csv")
    assert {row["status"] for row in loans} >= {"active", "closed"}
    statuses = {row["status"] for row in read_csv_rows(folder / "payments.csv")}
    assert statuses >= {"settled", "pending", "reversed", "failed"}


def test_every_flag_and_rejected_rows_occur_at_default_rates(
        csv_drop: tuple[Path, GenerateResult]) -> None:
    _, result = csv_drop
    # MISSING_OPT_OUT is evaluated by the us_reg_f profile only; generated labels use cn,
    # without the flags that judge the night as a whole (generator.labels_config).
    assert all(result.flags[flag] > 0 for flag in FLAGS
               if flag != "MISSING_OPT_OUT" and flag not in FEED_FLAGS), result.flags
    assert result.flags["MISSING_OPT_OUT"] == 0
    assert result.verdicts["rejected"] > 0
    assert 0.7 < result.verdicts["send"] / MESSAGES < 0.9, result.verdicts


def test_same_seed_same_bytes_whatever_the_chunk_size(
        csv_drop: tuple[Path, GenerateResult], tmp_path: Path) -> None:
    """Chunks of 7 loans, labelled in a worker process, give the very same files as one
    chunk labelled inline: the chunks really are independent."""
    folder, _ = csv_drop
    again = generate(tmp_path / "again", MESSAGES, SEED, chunk_loans=7, workers=1)
    assert _files(tmp_path / "again") == _files(folder)
    assert again.verdicts == csv_drop[1].verdicts


def test_different_seeds_differ(tmp_path: Path) -> None:
    generate(tmp_path / "a", 50, 1)
    generate(tmp_path / "b", 50, 2)
    assert (tmp_path / "a" / "send_batch.csv").read_bytes() != \
        (tmp_path / "b" / "send_batch.csv").read_bytes()


def test_rates_of_zero_give_an_all_send_drop(tmp_path: Path) -> None:
    result = generate(tmp_path / "clean", 2000, 5, rates=Rates.zero())
    assert result.verdicts == {"send": 2000, "hold": 0, "block": 0, "rejected": 0}


def test_one_failure_mode_at_rate_1(tmp_path: Path) -> None:
    result = generate(tmp_path / "pending", 200, 5, rates=replace(Rates.zero(), pending=1.0))
    assert result.verdicts["hold"] == 200 and result.flags["PAYMENT_PENDING"] == 200


def test_csv_and_parquet_of_one_seed_give_the_same_findings(
        csv_drop: tuple[Path, GenerateResult], tmp_path: Path) -> None:
    folder, result = csv_drop
    parquet = generate(tmp_path / "pq", MESSAGES, SEED, file_format="parquet")
    assert parquet.rows == result.rows and parquet.verdicts == result.verdicts
    assert (tmp_path / "pq" / LABELS_FILE).read_bytes() == (folder / LABELS_FILE).read_bytes()
    findings = {}
    for name, drop in (("csv", folder), ("parquet", tmp_path / "pq")):
        out = tmp_path / f"out_{name}"
        run = invoke("run", drop, "--out", out, "--as-of", result.as_of, "-q",
                     "--config", drop / CONFIG_FILE)
        assert run.exit_code == 0, run.output
        rows = read_csv_rows(out / "findings.csv")
        for row in rows:  # the reason names the file it read
            row["reason"] = row["reason"].replace(".parquet", ".csv")
        findings[name] = rows
    assert findings["csv"] == findings["parquet"]


def test_parquet_columns_are_typed_where_no_malformed_value_is_injected(tmp_path: Path) -> None:
    generate(tmp_path / "pq", 60, 3, file_format="parquet", timestamp_style="utc")
    generate(tmp_path / "clean", 60, 3, file_format="parquet", timestamp_style="naive",
             rates=Rates.zero())

    def types(drop: str, table: str) -> dict[str, str]:
        path = tmp_path / drop / f"{table}.parquet"
        return {row[0]: row[1] for row in
                duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()}

    installments = types("pq", "installments")
    assert installments["amount_due"] == "DECIMAL(18,2)"
    assert installments["installment_no"] == "INTEGER"
    assert installments["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert installments["due_date"] == "VARCHAR"  # malformed dates are injected
    assert types("pq", "payments")["posted_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types("pq", "loans")["grace_days"] == "VARCHAR"
    assert types("clean", "installments")["due_date"] == "DATE"
    assert types("clean", "loans")["grace_days"] == "INTEGER"
    assert types("clean", "send_batch")["scheduled_at"] == "TIMESTAMP"  # naive = local


def test_timestamp_styles_write_the_same_instants(tmp_path: Path) -> None:
    shapes = {}
    for style in ("offset", "utc", "naive", "mixed"):
        result = generate(tmp_path / style, 40, 9, timestamp_style=style)
        shapes[style] = read_csv_rows(tmp_path / style / "payments.csv")[0]["posted_at"]
        assert result.verdicts == generate(tmp_path / "o", 40, 9).verdicts
    assert shapes["offset"].endswith("+08:00") and shapes["utc"].endswith("Z")
    assert "+" not in shapes["naive"] and "Z" not in shapes["naive"]
    assert (tmp_path / "offset" / LABELS_FILE).read_bytes() == \
        (tmp_path / "mixed" / LABELS_FILE).read_bytes()


def test_progress_is_told_every_message_chunk_by_chunk(tmp_path: Path) -> None:
    told: list[int] = []
    generate(tmp_path / "p", 300, 4, chunk_loans=50, progress=told.append, labels=False)
    assert sum(told) == 300 and len(told) > 3
    assert not (tmp_path / "p" / LABELS_FILE).exists()


def test_as_of_moves_the_whole_drop(tmp_path: Path) -> None:
    result = generate(tmp_path / "a", 30, 1, as_of="2028-02-29T06:00:00Z", rates=Rates.zero())
    assert result.as_of == "2028-02-29T14:00:00+08:00"
    batch = read_csv_rows(tmp_path / "a" / "send_batch.csv")
    assert all(row["scheduled_at"].startswith(("2028-03-01", "2028-03-02")) for row in batch)


def test_rates_from_name_value_items() -> None:
    assert parse_rates([]) == Rates()
    rates = parse_rates(["paid=0.5", "all=0", "stale=0.25"])
    assert rates == replace(Rates.zero(), paid=0.5, stale=0.25)
    assert parse_rates(["wrong-amount=0.1"]).wrong_amount == 0.1


@pytest.mark.parametrize("items, message", [
    (["nope=0.1"], "expected NAME=R"),
    (["paid"], "expected NAME=R"),
    (["paid=x"], "not a number"),
    (["paid=1.5"], "between 0 and 1"),
    (["all=0.1"], "add up to 2.7"),
])
def test_bad_rates_are_refused(items: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_rates(items)


def test_options_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 1"):
        generate(tmp_path / "x", 0, 1)
    with pytest.raises(ConfigError, match="not a timestamp"):
        generate(tmp_path / "x", 10, 1, as_of="yesterday")
    with pytest.raises(ConfigError, match=r"^timestamp_style: 'local' is not one of"):
        generate(tmp_path / "x", 10, 1, timestamp_style="local")
    assert not (tmp_path / "x").exists()


def test_an_earlier_drop_is_replaced_anything_else_is_refused(tmp_path: Path) -> None:
    generate(tmp_path / "drop", 20, 1)
    generate(tmp_path / "drop", 10, 2)
    assert len(read_csv_rows(tmp_path / "drop" / "send_batch.csv")) == 10
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(ConfigError, match="not empty"):
        generate(tmp_path / "mine", 10, 1)
    assert (tmp_path / "mine" / "notes.txt").read_text(encoding="utf-8") == "keep"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_labels_are_the_references_answers_on_the_rows_written(tmp_path: Path) -> None:
    """labels.csv is reference() on the files as written (all at once, not by chunk)."""
    from datetime import datetime

    from reconcile.synth.reference import reference

    result = generate(tmp_path / "d", 400, 12, timestamp_style="mixed", chunk_loans=13,
                      workers=0)
    tables = {}
    for name in TABLE_NAMES:
        with (tmp_path / "d" / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
            tables[name] = [{k: (v if v != "" else None) for k, v in row.items()}
                            for row in csv.DictReader(handle)]
    found = reference(tables, datetime.fromisoformat(result.as_of))
    labels = read_csv_rows(tmp_path / "d" / LABELS_FILE)
    assert [(f.verdict, ";".join(f.flags)) for f in found] == \
        [(row["verdict"], row["flags"]) for row in labels]
