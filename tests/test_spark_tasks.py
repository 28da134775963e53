"""The Spark engine's task functions, without Spark: they take and give Arrow, so each is
checked here in milliseconds (reconcile/spark/tasks.py)."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

pa = pytest.importorskip("pyarrow", reason="the Spark engine's tasks need reconcile[spark]")

from reconcile.config import Settings  # noqa: E402
from reconcile.nightly.decide import prepare_session  # noqa: E402
from reconcile.nightly.inputs import InputFile  # noqa: E402
from reconcile.nightly.staging import DUPLICATE, stage  # noqa: E402
from reconcile.schema import TABLES_BY_NAME  # noqa: E402
from reconcile.spark import tasks  # noqa: E402

LOANS = pa.table({
    "loan_id": [" L1", "L2", "L3", "L4"],
    "borrower_id": ["B1", "B2", "", "B4"],
    "status": ["active", "closed", "active", "frozen"],
    "grace_days": ["3", "", "3.5", "-1"],
    tasks.ROW_POSITION: pa.array([0, 1, 2, 3], pa.int64()),
})


def test_a_slice_is_staged_as_the_single_machine_run_stages_the_table() -> None:
    settings = Settings()
    staged = pa.Table.from_batches(list(tasks.stage_batches("loans", settings,
                                                            LOANS.to_batches(max_chunksize=3))))
    con = duckdb.connect()
    prepare_session(con, settings.timezone)
    con.register("raw_loans", LOANS)
    table = TABLES_BY_NAME["loans"]
    stage(con, table, InputFile("loans", None, "arrow", tuple(LOANS.column_names[:-1]),
                                row_number=f"{tasks.ROW_POSITION} + 1"), settings.timezone)
    expected = con.sql("FROM loans ORDER BY source_row").fetchall()
    con.register("staged_by_tasks", staged)
    found = con.sql("FROM staged_by_tasks ORDER BY source_row").fetchall()
    assert found == expected
    assert [row[0] for row in found] == [1, 2, 3, 4]
    assert found[0][1] == "L1"  # identifiers trimmed
    assert "grace_days '3.5' is not an integer" in found[2][-1]
    assert "status 'frozen' is not one of active, closed" in found[3][-1]


def test_repeated_keys_carry_stagings_reason() -> None:
    keys = pa.table({"payment_id": ["P1", "P2", "P1", "", "P1"]})
    found = pa.Table.from_batches(list(tasks.repeated_keys("payments", Settings(),
                                                           keys.to_batches())))
    assert found.to_pylist() == [{"payment_id": "P1",
                                  DUPLICATE: "payment_id P1 appears 3 times"}]
    assert list(tasks.repeated_keys("payments", Settings(), [])) == []


def test_envelopes_carry_each_buckets_rows_and_unpack_to_them() -> None:
    rows = pa.table({"source_row": [1, 2, 3, 4, 5], tasks.BUCKET: pa.array([0, 1, 0, 2, 1],
                                                                           pa.int32())})
    envelopes = pa.Table.from_batches(list(tasks.pack("loans", rows.to_batches(max_chunksize=2))))
    assert set(envelopes.column("bucket").to_pylist()) == {0, 1, 2}
    for bucket, expected in ((0, [1, 3]), (1, [2, 5]), (2, [4])):
        mine = envelopes.filter(pa.compute.equal(envelopes.column("bucket"), bucket))
        unpacked = tasks.unpack(mine)
        assert list(unpacked) == ["loans"]
        assert sorted(unpacked["loans"].column("source_row").to_pylist()) == expected


def test_a_task_reads_all_its_input_before_it_answers() -> None:
    """Spark's JVM sends a task all of its input before reading what it answers: a task
    that answered early could wait forever on a full socket."""
    consumed: list[int] = []

    def batches() -> Iterator[pa.RecordBatch]:
        for number, batch in enumerate(LOANS.to_batches(max_chunksize=1)):
            consumed.append(number)
            yield batch

    for function in (lambda b: tasks.stage_batches("loans", Settings(), b),
                     lambda b: tasks.pack("loans", (x.append_column(
                         tasks.BUCKET, pa.array([0] * x.num_rows, pa.int32())) for x in b))):
        consumed.clear()
        answers = function(batches())
        next(answers)
        assert consumed == [0, 1, 2, 3]


def test_a_bucket_job_runs_once_per_bucket_of_its_partition() -> None:
    seen: list[list[int]] = []

    def job(context: tasks.NightContext, envelopes: pa.Table) -> pa.Table:
        seen.append(sorted(set(envelopes.column("bucket").to_pylist())))
        return pa.Table.from_pylist([{"table": "t", "payload": b""}],
                                    schema=tasks.RESULT_SCHEMA)

    envelopes = pa.Table.from_pylist(
        [{"bucket": b, "table": "loans", "payload": b""} for b in (3, 1, 3, 1, 0)],
        schema=tasks.ENVELOPE_SCHEMA)
    context = tasks.NightContext(Settings(), "2026-11-23T01:30:00+08:00", {})
    results = list(tasks.bucket_job(job, context)(envelopes.to_batches(max_chunksize=2)))
    assert sorted(seen) == [[0], [1], [3]]
    assert sum(batch.num_rows for batch in results) == 3
    assert list(tasks.bucket_job(job, context)([])) == []
