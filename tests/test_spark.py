"""The Spark engine gives exactly the single-machine answers (issue #13, docs/spark.md).

Differential: generated drops that carry every flag (both profiles, CSV and Parquet, with
rejected rows, unusable ledger rows, repeated keys whose copies land in different shards,
money no loan can take, an empty feed, a stale feed) are run by the DuckDB engine and by
Spark local[2] with several shards; every output is compared as a sorted table, every
column, and byte for byte. The drops are checked to hold a loan named from two shards.
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark", reason="the Spark engine's tests need reconcile[spark]")

import duckdb
from drops import invoke, read_csv_rows
from generated import rewrite_csv
from pyspark.sql import functions as F

from reconcile.checks import FLAGS
from reconcile.schema import OUTCOMES
from reconcile.spark.night import bucket_of, spark_session
from reconcile.spark.options import SparkOptions
from reconcile.synth.generator import generate

MASTER = "local[2]"
CSV_OUTPUTS = ("findings.csv", *(f"{outcome}.csv" for outcome in OUTCOMES), "input_issues.csv")
# What summary.json says of the night, beside the run's own identity and timings.
SUMMARY_FACTS = ("as_of", "inputs", "messages", "verdicts", "nothing_to_send", "flags",
                 "skipped_checks", "input_issues", "unattributed_ledger_rows",
                 "unplaced_payments", "warnings", "settings")


@pytest.fixture(scope="module")
def spark() -> Any:
    return spark_session(SparkOptions(master=MASTER))


def run_both(drop: Path, tmp_path: Path, as_of: str, *extra: str,
             shards: int = 4) -> tuple[Path, Path]:
    """The drop run by the DuckDB engine and by Spark; both output folders."""
    single, distributed = tmp_path / "out_duckdb", tmp_path / "out_spark"
    for out, engine in ((single, ()), (distributed, ("--engine", "spark", "--spark-master",
                                                     MASTER, "--shards", str(shards)))):
        result = invoke("run", drop, "--out", out, "--as-of", as_of, "-q", *extra, *engine)
        assert result.exit_code == 0, result.output
    return single, distributed


def sorted_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    return header, sorted(rows)


def assert_same_outputs(single: Path, distributed: Path) -> None:
    for name in CSV_OUTPUTS:
        expected, found = sorted_rows(single / name), sorted_rows(distributed / name)
        assert found[0] == expected[0], f"{name}: columns differ"
        missing = [r for r in expected[1] if r not in found[1]][:3]
        extra = [r for r in found[1] if r not in expected[1]][:3]
        assert found == expected, f"{name}: only DuckDB's {missing}; only Spark's {extra}"
        # Written by the same writer from the same table: the bytes agree too.
        assert (distributed / name).read_bytes() == (single / name).read_bytes(), name
    parquet = [duckdb.sql(f"FROM '{out / 'findings.parquet'}' ORDER BY source_row").fetchall()
               for out in (single, distributed)]
    assert parquet[1] == parquet[0]
    summaries = [json.loads((out / "summary.json").read_text(encoding="utf-8"))
                 for out in (single, distributed)]
    for fact in SUMMARY_FACTS:
        assert summaries[1][fact] == summaries[0][fact], fact
    assert (summaries[0]["engine"], summaries[1]["engine"]) == ("duckdb", "spark")


def flags_seen(out: Path) -> set[str]:
    return {flag for row in read_csv_rows(out / "findings.csv")
            for flag in row["flags"].split(";") if flag}


def named_from_two_shards(spark: Any, drop: Path, column: str, key: str, shards: int) -> int:
    """Values of column (a loan, a borrower) whose messages go to more than one shard when
    messages are sharded by key."""
    batch = next(drop.glob("send_batch.*"))
    reader = spark.read.parquet if batch.suffix == ".parquet" else \
        spark.read.option("header", True).csv
    frame = reader(str(batch)).select(column, bucket_of(key, shards).alias("shard"))
    shards_of = frame.groupBy(column).agg(F.countDistinct("shard").alias("shards"))
    return int(shards_of.where("shards > 1").count())


def share_loans_across_shards(spark: Any, drop: Path, shards: int, pairs: int = 3) -> None:
    """Messages of borrowers in different shards made to name the same loan (as a
    BORROWER_MISMATCH does), so that loan's ledger must reach both shards."""
    batch = read_csv_rows(drop / "send_batch.csv")
    borrowers = sorted({m["borrower_id"] for m in batch})
    frame = spark.createDataFrame([(b,) for b in borrowers], "borrower_id STRING")
    shard_of = {row[0]: row[1] for row in
                frame.select("borrower_id", bucket_of("borrower_id", shards)).collect()}
    change: dict[int, dict[str, str]] = {}
    for number, message in enumerate(batch[: 20 * pairs], start=1):
        partner = next((m for m in batch[number:] if shard_of[m["borrower_id"]]
                        != shard_of[message["borrower_id"]]), None)
        if partner and len(change) < pairs and number not in change:
            change[number] = {"loan_id": partner["loan_id"]}
    rewrite_csv(drop / "send_batch.csv", drop / "send_batch.edited", change)
    (drop / "send_batch.edited").replace(drop / "send_batch.csv")


def cross_shard_edits(drop: Path) -> None:
    """Repeated keys whose copies belong to different loans and borrowers (so to different
    shards and loan buckets), a payment for no known loan, and the night's first message
    sent twice to another borrower."""
    payments = read_csv_rows(drop / "payments.csv")
    batch = read_csv_rows(drop / "send_batch.csv")
    history = read_csv_rows(drop / "send_history.csv")
    other_loan = next(i for i, p in enumerate(payments) if p["loan_id"] != payments[0]["loan_id"])
    rewrite_csv(drop / "payments.csv", drop / "payments.edited", {
        other_loan + 1: {"payment_id": payments[0]["payment_id"]},
        len(payments): {"loan_id": "LN-NOT-IN-LOANS", "status": "settled"},
    })
    (drop / "payments.edited").replace(drop / "payments.csv")
    other_borrower = next(i for i, m in enumerate(batch)
                          if m["borrower_id"] != batch[0]["borrower_id"])
    rewrite_csv(drop / "send_batch.csv", drop / "send_batch.edited",
                {other_borrower + 1: {"message_id": batch[0]["message_id"]}})
    (drop / "send_batch.edited").replace(drop / "send_batch.csv")
    if len(history) > 1:
        other_sent = next((i for i, h in enumerate(history)
                           if h["borrower_id"] != history[0]["borrower_id"]), None)
        if other_sent is not None:
            rewrite_csv(drop / "send_history.csv", drop / "send_history.edited",
                        {other_sent + 1: {"message_id": history[0]["message_id"]}})
            (drop / "send_history.edited").replace(drop / "send_history.csv")


@pytest.mark.slow
@pytest.mark.parametrize("seed, file_format, style, profile", [
    (401, "csv", "mixed", "cn"),
    (402, "parquet", "offset", "cn"),
    (403, "csv", "naive", "us_reg_f"),
    (404, "parquet", "naive", "us_reg_f"),
])
def test_spark_gives_the_single_machine_answers(spark: Any, tmp_path: Path, seed: int,
                                                file_format: str, style: str,
                                                profile: str) -> None:
    drop = tmp_path / "drop"
    generated = generate(drop, 1500, seed, file_format=file_format, timestamp_style=style,
                         labels=False)
    shards = 5 if profile == "cn" else 4
    if file_format == "csv":
        cross_shard_edits(drop)
        share_loans_across_shards(spark, drop, shards)
    single, distributed = run_both(drop, tmp_path, generated.as_of, "--profile", profile,
                                   shards=shards)
    assert_same_outputs(single, distributed)
    if profile == "cn" and file_format == "csv":
        assert named_from_two_shards(spark, drop, "loan_id", "borrower_id", shards) > 0
    if profile == "us_reg_f":  # sharded by loan: a borrower's loans in several shards
        assert named_from_two_shards(spark, drop, "borrower_id", "loan_id", shards) > 0
    summary = json.loads((single / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdicts"]["rejected"] > 0
    assert sum(summary["input_issues"].values()) > 0
    if file_format == "csv":
        assert summary["unplaced_payments"]["payments"] > 0


@pytest.mark.slow
def test_every_flag_is_compared(tmp_path: Path) -> None:
    """The flags the generated drops above leave out (the night-wide ones), made to fire:
    an empty optional feed (INCOMPLETE_FEED), a payment feed three days behind
    (STALE_FEED), money no loan takes (UNPLACED_PAYMENT); with the drop's own flags,
    every flag of the contract is compared between the engines."""
    drop = tmp_path / "drop"
    generated = generate(drop, 1200, 405, labels=False)
    cross_shard_edits(drop)
    header = (drop / "send_history.csv").read_text(encoding="utf-8").splitlines()[0]
    (drop / "send_history.csv").write_text(header + "\n", encoding="utf-8")
    three_days_on = datetime.fromisoformat(generated.as_of) + timedelta(days=3)
    rewrite_csv(drop / "send_batch.csv", drop / "send_batch.edited", {  # CLOCK_SKEW
        5: {"rule_evaluated_at": (three_days_on + timedelta(hours=2)).isoformat()}})
    (drop / "send_batch.edited").replace(drop / "send_batch.csv")
    single, distributed = run_both(drop, tmp_path, three_days_on.isoformat(), shards=6)
    assert_same_outputs(single, distributed)
    missing = set(FLAGS) - flags_seen(single) - {"MISSING_OPT_OUT"}
    assert missing == set(), "flags no Spark comparison covers"


@pytest.mark.slow
def test_us_reg_f_flags_are_compared(tmp_path: Path) -> None:
    """MISSING_OPT_OUT needs the us_reg_f profile."""
    drop = tmp_path / "drop"
    generated = generate(drop, 1500, 406, labels=False)
    single, distributed = run_both(drop, tmp_path, generated.as_of, "--profile", "us_reg_f")
    assert_same_outputs(single, distributed)
    assert "MISSING_OPT_OUT" in flags_seen(single)


@pytest.mark.slow
def test_a_drop_under_a_uri_reads_as_the_folder(spark: Any, tmp_path: Path) -> None:
    """DATA_DIR as a URI (file: here, hdfs:// or s3a:// on a cluster): Parquet read where it
    lies, CSV copied to the driver; the outputs are the folder's."""
    drop = tmp_path / "drop"
    generated = generate(drop, 400, 407, file_format="parquet", labels=False)
    for name in ("templates", "rules"):  # a mixed drop: some tables as CSV
        duckdb.sql(f"COPY (FROM '{drop / name}.parquet') TO '{drop / name}.csv'")
        (drop / f"{name}.parquet").unlink()
    single = tmp_path / "out_duckdb"
    assert invoke("run", drop, "--out", single, "--as-of", generated.as_of, "-q").exit_code == 0
    remote = tmp_path / "out_spark"
    result = invoke("run", drop.as_uri(), "--out", remote, "--as-of", generated.as_of, "-q",
                    "--engine", "spark", "--spark-master", MASTER, "--shards", "4")
    assert result.exit_code == 0, result.output
    assert_same_outputs(single, remote)


@pytest.mark.slow
def test_a_catalog_table_replaces_the_drops_file(spark: Any, tmp_path: Path) -> None:
    """--table installments=<catalog table>: the ledger from the catalog, cited by its name
    in reasons, its rows numbered in (file, row) order."""
    drop = tmp_path / "drop"
    generated = generate(drop, 400, 408, file_format="parquet", labels=False)
    name = "reconcile_test_installments"
    spark.sql(f"DROP TABLE IF EXISTS {name}")
    spark.read.parquet(str(drop / "installments.parquet")).coalesce(1) \
        .write.format("parquet").option("path", str(tmp_path / "warehouse")) \
        .saveAsTable(name)
    catalog_drop = tmp_path / "catalog_drop"
    shutil.copytree(drop, catalog_drop)
    (catalog_drop / "installments.parquet").unlink()
    single = tmp_path / "out_duckdb"
    assert invoke("run", drop, "--out", single, "--as-of", generated.as_of, "-q").exit_code == 0
    out = tmp_path / "out_spark"
    result = invoke("run", catalog_drop, "--out", out, "--as-of", generated.as_of, "-q",
                    "--engine", "spark", "--spark-master", MASTER,
                    "--table", f"installments={name}")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["inputs"]["installments"]["file"] == name
    assert summary["inputs"]["installments"]["format"] == "catalog"
    expected = [row for row in read_csv_rows(single / "findings.csv")]
    found = read_csv_rows(out / "findings.csv")
    strip = "installments.parquet"
    assert [{**r, "reason": r["reason"].replace(strip, name)} for r in expected] == found
    spark.sql(f"DROP TABLE IF EXISTS {name}")


@pytest.mark.parametrize("args, message", [
    (("--shards", "4"), "--shards needs --engine spark"),
    (("--table", "installments=dw.plan"), "or --engine spark"),
    (("--engine", "spark", "--table", "installments"), "is not NAME=WHERE"),
    (("--engine", "spark", "--table", "ledger=dw.plan"), "ledger is not a table of the drop"),
])
def test_spark_options_are_checked_before_anything_runs(tmp_path: Path, args: tuple[str, ...],
                                                        message: str) -> None:
    result = invoke("run", "sample_data", "--out", tmp_path / "out", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_without_pyspark_the_spark_engine_is_a_clear_exit_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyspark" else real(name, *a))
    result = invoke("run", "sample_data", "--out", tmp_path / "out", "--engine", "spark")
    assert result.exit_code == 2
    assert "pip install 'reconcile[spark]'" in result.output


@pytest.mark.slow
def test_an_unreadable_catalog_table_is_bad_input(spark: Any, tmp_path: Path) -> None:
    result = invoke("run", "sample_data", "--out", tmp_path / "out", "--engine", "spark",
                    "--spark-master", MASTER, "--table", "payments=no_such_db.no_such_table")
    assert result.exit_code == 2, result.output
    assert "no_such_db.no_such_table: cannot be read" in result.output


@pytest.mark.slow
def test_a_spark_run_leaves_nothing_in_the_working_directory(
        spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No spark-warehouse, metastore_db or log folder where the scheduler started the run
    (the session of these tests was started by reconcile, in the checkout)."""
    working = tmp_path / "cwd"
    working.mkdir()
    monkeypatch.chdir(working)
    root = Path(__file__).resolve().parent.parent
    result = invoke("run", root / "sample_data", "--out", tmp_path / "out", "-q",
                    "--engine", "spark", "--spark-master", MASTER)
    assert result.exit_code == 0, result.output
    assert list(working.iterdir()) == []
    assert not (root / "spark-warehouse").exists()


@pytest.mark.slow
def test_a_spark_run_records_the_history_as_any_run(spark: Any, tmp_path: Path) -> None:
    """The history records a Spark night as it records any; the same night re-run on the
    DuckDB engine is recognised as already recorded (the engine decides nothing)."""
    history = tmp_path / "history.duckdb"
    as_of = "2026-11-23T01:30:00+08:00"
    first = invoke("run", "sample_data", "--out", tmp_path / "out_spark", "--as-of", as_of,
                   "--db", history, "-q", "--engine", "spark", "--spark-master", MASTER)
    assert first.exit_code == 0, first.output
    summary = json.loads((tmp_path / "out_spark" / "summary.json").read_text("utf-8"))
    assert summary["history"] == "recorded"
    again = invoke("run", "sample_data", "--out", tmp_path / "out_duckdb", "--as-of", as_of,
                   "--db", history, "-q")
    assert again.exit_code == 0, again.output
    repeated = json.loads((tmp_path / "out_duckdb" / "summary.json").read_text("utf-8"))
    assert repeated["history"] == f"already recorded as {summary['run_id']}"
    counted = invoke("query", "SELECT count(*) AS n FROM findings", "--db", history,
                     "--format", "csv")
    assert counted.exit_code == 0, counted.output
    assert counted.output.split() == ["n", str(summary["messages"])]


def _header_only(drop: Path) -> str:
    batch = drop / "send_batch.csv"
    batch.write_text(batch.read_text(encoding="utf-8").splitlines()[0] + "\n", "utf-8")
    return ""


def _unreadable_row(drop: Path) -> str:
    with (drop / "installments.csv").open("a", encoding="utf-8") as handle:
        handle.write('LN1,"unclosed,2026-01-01\n')
    return ""


def _unplaced_money_fails(drop: Path) -> str:
    config = drop.parent / "fail.toml"
    config.write_text('unplaced_payment_policy = "fail"\nmax_unplaced_payments = 0\n',
                      encoding="utf-8")
    return str(config)


@pytest.mark.slow
@pytest.mark.parametrize("edit, code", [(_header_only, 2), (_unreadable_row, 2),
                                        (_unplaced_money_fails, 4)],
                         ids=["no messages", "unreadable csv row", "unplaced money"])
def test_spark_fails_as_the_duckdb_engine_does(spark: Any, tmp_path: Path, edit: Any,
                                               code: int) -> None:
    drop = tmp_path / "drop"
    shutil.copytree("sample_data", drop)
    config = edit(drop)
    options = ["--config", config] if config else []
    results = [invoke("run", drop, "--out", tmp_path / f"out{i}", "-q", *options, *engine)
               for i, engine in enumerate(((), ("--engine", "spark", "--spark-master",
                                                 MASTER)))]
    assert [r.exit_code for r in results] == [code, code], [r.output for r in results]
    assert results[1].output == results[0].output
    assert not (tmp_path / "out1").exists()


@pytest.mark.slow
def test_under_spark_submit_the_submitted_master_is_kept(tmp_path: Path) -> None:
    """The cluster recipe of docs/spark.md, with a local master in place of YARN:
    spark-submit starts the JVM and runs reconcile's __main__ as the application; reconcile
    joins that JVM (its master, memory and logging) instead of starting its own."""
    import os
    import subprocess
    import sys

    import pyspark

    import reconcile

    submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    entry = Path(reconcile.__file__).with_name("__main__.py")
    out = tmp_path / "out"
    command = [str(submit), "--master", "local[1]", str(entry), "run", "sample_data",
               "--out", str(out), "--as-of", "2026-11-23T01:30:00+08:00", "-q",
               "--engine", "spark"]
    environment = {**os.environ, "PYSPARK_PYTHON": sys.executable,
                   "PYSPARK_DRIVER_PYTHON": sys.executable}
    finished = subprocess.run(command, env=environment, capture_output=True, text=True,
                              timeout=600, check=False)
    assert finished.returncode == 0, finished.stderr[-3000:]
    reference = tmp_path / "reference"
    assert invoke("run", "sample_data", "--out", reference, "--as-of",
                  "2026-11-23T01:30:00+08:00", "-q").exit_code == 0
    assert (out / "findings.csv").read_bytes() == (reference / "findings.csv").read_bytes()
    # The submitted JVM's logging (Spark's INFO lines), not reconcile's errors-only one.
    assert "SparkContext: Running Spark version" in finished.stderr
