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
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from drops import invoke, read_csv_rows

from reconcile.checks import FEED_FLAGS
from reconcile.errors import ConfigError
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
from reconcile.synth.generator.drop import parse_as_of
from reconcile.synth.reference import FLAGS

SEED = 20261123
MESSAGES = 3000


@pytest.fixture(scope="module")
def csv_drop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateResult]:
    folder = tmp_path_factory.mktemp("gen") / "drop"
    return folder, generate(folder, MESSAGES, SEED)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.slow
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


@pytest.mark.slow
def test_ids_and_text_look_like_a_lenders_export(csv_drop: tuple[Path, GenerateResult]
                                                  ) -> None:
    folder, _ = csv_drop
    batch = read_csv_rows(folder / "send_batch.csv")
    stating = [m for m in batch if m["template_id"] == "TPL_COL_M1"
               and m["claimed_overdue_amount"].replace(".", "").isdigit()
               and m["claimed_days_past_due"]]
    message = next(m for m in stating if "应还金额" in m["message_text"])  # the usual wording
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_rates_of_zero_give_an_all_send_drop(tmp_path: Path) -> None:
    result = generate(tmp_path / "clean", 2000, 5, rates=Rates.zero())
    assert result.verdicts == {"send": 2000, "hold": 0, "block": 0, "rejected": 0}
    # No case gave collection_pauses a row: no file, as a lender with none sends none (an
    # empty file would be a failed export, INCOMPLETE_FEED).
    assert result.rows["collection_pauses"] == 0
    assert not (tmp_path / "clean" / "collection_pauses.csv").exists()
    assert (tmp_path / "clean" / "contact_flags.csv").exists()


@pytest.mark.slow
def test_one_failure_mode_at_rate_1(tmp_path: Path) -> None:
    result = generate(tmp_path / "pending", 200, 5, rates=replace(Rates.zero(), pending=1.0))
    assert result.verdicts["hold"] == 200 and result.flags["PAYMENT_PENDING"] == 200


def _mode_drop(tmp_path: Path, mode: str, messages: int = 300) -> dict[str, list[dict[str, str]]]:
    """A drop where every case has failure mode `mode`: its tables and labels, as text."""
    generate(tmp_path / mode, messages, 14, rates=replace(Rates.zero(), **{mode: 1.0}))
    names = (*TABLE_NAMES, "labels")
    files = {name: tmp_path / mode / f"{name}.csv" for name in names}
    return {name: read_csv_rows(path) if path.exists() else [] for name, path in files.items()}


# Each new failure mode at rate 1: the flag sets its cases (and near misses, "") lead to, as
# the oracle labels them.
MODE_FLAGS = {
    "paused": {"COLLECTION_PAUSED", "STALE_DATA;COLLECTION_PAUSED",
               "UNKNOWN_LOAN;COLLECTION_PAUSED", "STALE_DATA", ""},
    "own_tolerance": {"NOT_OVERDUE;RULE_MISMATCH;CONTENT_MISMATCH", "PAYMENT_PENDING",
                      "RULE_MISMATCH;CONTENT_MISMATCH", ""},
    "allocated": {"RULE_MISMATCH;CONTENT_MISMATCH", "NOT_OVERDUE;RULE_MISMATCH;CONTENT_MISMATCH",
                  ""},
    "components": {"CONTENT_MISMATCH", ""},
}


@pytest.mark.slow
@pytest.mark.parametrize("mode", sorted(MODE_FLAGS))
def test_each_new_failure_mode_leads_to_its_flags_and_near_misses(tmp_path: Path,
                                                                  mode: str) -> None:
    tables = _mode_drop(tmp_path, mode)
    found = {row["flags"] for row in tables["labels"]}
    assert found >= MODE_FLAGS[mode], found


@pytest.mark.slow
def test_paused_writes_periods_of_every_kind_around_the_send_day(tmp_path: Path) -> None:
    from reconcile.schema import PAUSE_KINDS

    pauses = _mode_drop(tmp_path, "paused")["collection_pauses"]
    assert {row["kind"] for row in pauses} == set(PAUSE_KINDS)
    assert any(row["paused_until"] == "" for row in pauses)  # open-ended
    assert all(row["paused_until"] == "" or row["paused_until"] >= row["paused_from"]
               for row in pauses)
    dates = {row["paused_until"] for row in pauses} | {row["paused_from"] for row in pauses}
    assert {"2026-11-22", "2026-11-23", "2026-11-24"} <= dates  # the day before, of, after


@pytest.mark.slow
def test_own_tolerance_sets_min_overdue_amount_on_its_loans_only(
        tmp_path: Path, csv_drop: tuple[Path, GenerateResult]) -> None:
    tables = _mode_drop(tmp_path, "own_tolerance")
    messaged = {row["loan_id"] for row in tables["send_batch"]}
    own = {row["loan_id"]: row["min_overdue_amount"] for row in tables["loans"]}
    assert all(float(own[loan_id]) >= 0.01 for loan_id in messaged)
    default = read_csv_rows(csv_drop[0] / "loans.csv")
    assert 0 < sum(row["min_overdue_amount"] != "" for row in default) < 0.05 * len(default)


@pytest.mark.slow
def test_components_texts_state_labelled_amounts(tmp_path: Path) -> None:
    texts = [row["message_text"] for row in _mode_drop(tmp_path, "components")["send_batch"]]
    assert any("本金" in text for text in texts) and any("principal" in text for text in texts)
    assert any("%" in text or "％" in text for text in texts)  # a rate: states no amount


@pytest.mark.slow
def test_allocated_names_a_later_installment_while_the_loan_is_overdue(tmp_path: Path) -> None:
    tables = _mode_drop(tmp_path, "allocated")
    due = {(row["loan_id"], row["installment_no"]): row["due_date"]
           for row in tables["installments"]}
    messaged = {row["loan_id"] for row in tables["send_batch"]}  # overdue when the rule ran
    ahead = {row["loan_id"] for row in tables["payments"] if row["installment_no"]
             and due[(row["loan_id"], row["installment_no"])] > "2026-11-24"}
    assert len(ahead & messaged) > 0.3 * len(messaged)


def _parts(row: dict[str, str], suffix: str) -> list[str]:
    return [row[f"{c}_{suffix}"] for c in ("principal", "interest", "fee", "penalty")]


def _adds_up(row: dict[str, str], total: str, suffix: str) -> bool:
    """The row gives no component, or they add up to its (given) total exactly."""
    return not any(_parts(row, suffix)) or (row[total] != "" and sum(
        Decimal(v or 0) for v in _parts(row, suffix)) == Decimal(row[total]))


@pytest.mark.slow
def test_components_add_up_and_some_payments_name_their_installment(tmp_path: Path) -> None:
    """Without malformed ledger rows, every row that gives components adds up exactly."""
    generate(tmp_path / "d", 1000, 3, rates=replace(Rates(), ledger_invalid=0.0))
    installments = read_csv_rows(tmp_path / "d" / "installments.csv")
    payments = read_csv_rows(tmp_path / "d" / "payments.csv")

    itemised = [row for row in installments if any(_parts(row, "due"))]
    assert 0.3 < len(itemised) / len(installments) < 0.7
    assert all(_adds_up(row, "amount_due", "due") for row in itemised)
    assert any(Decimal(row["penalty_due"] or 0) > 0 for row in itemised)
    assert any(Decimal(row["fee_due"] or 0) > 0 for row in itemised)
    allocated = [row for row in payments if any(_parts(row, "paid"))]
    assert allocated and all(row["status"] == "settled" for row in allocated)
    assert all(_adds_up(row, "amount", "paid") for row in allocated)
    assert 0.1 < sum(row["installment_no"] != "" for row in payments) / len(payments) < 0.5
    labels = read_csv_rows(tmp_path / "d" / LABELS_FILE)
    assert not any("LEDGER_INVALID" in row["flags"] for row in labels)


@pytest.mark.slow
def test_malformed_ledgers_include_the_optional_inputs(tmp_path: Path) -> None:
    tables = _mode_drop(tmp_path, "ledger_invalid", 400)
    assert all("LEDGER_INVALID" in row["flags"] for row in tables["labels"])
    assert any("COLLECTION_PAUSED" in row["flags"] for row in tables["labels"])
    pauses = tables["collection_pauses"]
    assert any(row["paused_until"] and row["paused_until"] < row["paused_from"]
               for row in pauses)
    assert any(row["kind"] not in ("collection_stop", "collection_delay", "hardship_relief",
                                   "payment_holiday", "repayment_plan") for row in pauses)
    assert any(row["min_overdue_amount"] in ("0.00", "0", "-5.00") for row in tables["loans"])
    assert any(row["installment_no"] and not row["installment_no"].isdigit()
               for row in tables["payments"])
    assert any(not _adds_up(row, "amount_due", "due") for row in tables["installments"])
    assert any(not _adds_up(row, "amount", "paid") for row in tables["payments"])


@pytest.mark.slow
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


@pytest.mark.slow
def test_parquet_columns_are_typed_where_no_malformed_value_is_injected(tmp_path: Path) -> None:
    generate(tmp_path / "pq", 60, 3, file_format="parquet", timestamp_style="utc",
             rates=replace(Rates(), paused=0.3))
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
    assert installments["penalty_due"] == "DECIMAL(18,2)"
    assert types("pq", "loans")["min_overdue_amount"] == "DECIMAL(18,2)"
    assert types("pq", "payments")["installment_no"] == "VARCHAR"  # "第2期" is injected
    assert types("clean", "payments")["installment_no"] == "INTEGER"
    pauses = types("pq", "collection_pauses")
    assert pauses["paused_until"] == "DATE" and pauses["paused_from"] == "VARCHAR"
    assert pauses["recorded_at"] == "TIMESTAMP WITH TIME ZONE"


@pytest.mark.slow
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
    (["all=0.1"], "add up to 3.1"),
])
def test_bad_rates_are_refused(items: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_rates(items)


@pytest.mark.parametrize("text, instant", [
    ("2026-11-23T01:30:00+08:00", "2026-11-23T01:30:00+08:00"),
    ("2026-11-23 01:30", "2026-11-23T01:30:00+08:00"),  # naive: Asia/Shanghai
    ("\u30002026-11-23T01:30:00.5Z ", "2026-11-23T01:30:00.500000+00:00"),
    ("2026-11-23T01:30-0330", "2026-11-23T01:30:00-03:30"),
    ("2026-02-30T01:30", None),  # no such day
    ("2026-11-23T01:30+24:00", None),
    ("2026-11-23", None),  # a date, not an instant
    ("1988-04-17T02:30", None),  # skipped when Shanghai's clocks went forward
    ("1988-09-11T01:30", None),  # repeated when they went back
])
def test_as_of_is_read_as_an_instant(text: str, instant: str | None) -> None:
    found = parse_as_of(text)
    assert (None if found is None else found.isoformat()) == instant


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


@pytest.mark.slow
def test_labels_are_the_references_answers_on_the_rows_written(tmp_path: Path) -> None:
    """labels.csv is reference() on the files as written (all at once, not by chunk), with
    the settings of the labels (no flag that judges the whole drop)."""
    from datetime import datetime

    from reconcile.synth.reference import Settings, reference

    result = generate(tmp_path / "d", 400, 12, timestamp_style="mixed", chunk_loans=13,
                      workers=0)
    tables = {}
    for name in TABLE_NAMES:
        with (tmp_path / "d" / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
            tables[name] = [{k: (v if v != "" else None) for k, v in row.items()}
                            for row in csv.DictReader(handle)]
    found = reference(tables, datetime.fromisoformat(result.as_of), Settings(whole_drop=False))
    labels = read_csv_rows(tmp_path / "d" / LABELS_FILE)
    assert [(f.verdict, ";".join(f.flags)) for f in found] == \
        [(row["verdict"], row["flags"]) for row in labels]
