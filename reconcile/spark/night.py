"""`spark_night`: the night decided on Spark, leaving in the driver's DuckDB connection the
same tables the single-machine night leaves there (findings, input_issues,
unplaced_payments, raw_send_batch), so that the outputs are written by the same code.

Spark distributes, DuckDB decides (docs/spark.md):
1. Each table is read where it lies and staged by DuckDB in Spark tasks (tasks.stage_batches);
   repeated keys are found over the whole table, partitioned by key.
2. Loan buckets: every row of a loan in one bucket, so input_issues, the money no loan can
   take and the newest payment are found per bucket and gathered (tasks.ledger_job).
3. Message shards: messages by the key FREQUENCY_CAP counts by (borrower, or loan under
   frequency_scope "loan"), so that the checks across messages see all they compare;
   with them every ledger row of each loan they name (a loan named from two shards goes to
   both) and every contact row of each borrower; the small tables and the night-wide
   facts go to every shard. Each shard runs the nightly SQL (tasks.shard_job).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path

import duckdb
import pyarrow as pa
from py4j.protocol import Py4JError
from pyspark import StorageLevel
from pyspark.errors import PySparkException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.types import from_arrow_schema

from reconcile.config import Settings
from reconcile.errors import UnexpectedError
from reconcile.nightly import feeds
from reconcile.nightly.decide import NightFacts, skipped_checks
from reconcile.nightly.inputs import InputFile, require_messages
from reconcile.nightly.staging import DUPLICATE
from reconcile.result import PreviousNight, SkippedCheck
from reconcile.schema import TABLES, TABLES_BY_NAME, Table
from reconcile.spark import tasks
from reconcile.spark.options import SparkOptions
from reconcile.spark.sources import Source, error_line, read_sources

_SPARK_TYPES: dict[str, T.DataType] = {
    "VARCHAR": T.StringType(),
    "DECIMAL(18, 2)": T.DecimalType(18, 2),
    "BIGINT": T.LongType(),
    "DATE": T.DateType(),
    "TIMESTAMPTZ": T.TimestampType(),
}
# The JVM heap of a local[N] Spark that reconcile starts itself (spark.driver.memory).
LOCAL_DRIVER_MEMORY = "6g"
# tasks.ENVELOPE_SCHEMA and tasks.RESULT_SCHEMA as Spark declares them.
_ENVELOPE_TYPE = from_arrow_schema(tasks.ENVELOPE_SCHEMA)
_RESULT_TYPE = from_arrow_schema(tasks.RESULT_SCHEMA)
# How a message shard gets each reference table, read off the schema so that a new table
# is routed by what it is: a loan's rows (Table.loan_column) with each loan the shard's
# messages name, a borrower's (Table.borrower_column) with each borrower, and the rest
# (templates, rules: a handful of rows) whole.
_LOAN_TABLES = {t.name: t.loan_column for t in TABLES if t.loan_column}
_BORROWER_TABLES = {t.name: t.borrower_column for t in TABLES if t.borrower_column}
_SHARED_TABLES = tuple(t.name for t in TABLES if t.name != "send_batch"
                       and t.name not in _LOAN_TABLES and t.name not in _BORROWER_TABLES)


def spark_session(options: SparkOptions) -> SparkSession:
    """The running session (spark-submit's, a notebook's, an earlier run's), else a new
    one on options.master, else local[*]. Its Python workers run this interpreter, which
    has reconcile."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (SparkSession.builder.appName("reconcile")
               .config("spark.ui.showConsoleProgress", "false"))
    if options.master:
        builder = builder.master(options.master)
    if _starts_spark():
        master = options.master or "local[*]"
        logging = Path(__file__).with_name("log4j2.properties").as_uri()
        # Spark makes its catalog's warehouse folder at start, by default in the working
        # directory: a run must not leave a folder where the scheduler happened to start it.
        warehouse = Path(tempfile.gettempdir()) / "reconcile-spark-warehouse"
        builder = (builder.master(master)
                   .config("spark.driver.extraJavaOptions",
                           f"-Dlog4j2.configurationFile={logging}")
                   .config("spark.sql.warehouse.dir", warehouse.as_uri()))
        if master.startswith("local"):
            # Local mode runs the executor in the driver's JVM, whose default heap
            # (1 GiB) is far below what a night's shuffles hold.
            builder = builder.config("spark.driver.memory", LOCAL_DRIVER_MEMORY)
    return builder.getOrCreate()


def _starts_spark() -> bool:
    """Whether getOrCreate will start a JVM here: no session is running and this is not
    a driver that spark-submit started (which hands its JVM over in PYSPARK_GATEWAY_PORT,
    with the master, memory and logging it was given)."""
    return (SparkSession.getActiveSession() is None
            and "PYSPARK_GATEWAY_PORT" not in os.environ)


def spark_night(con: duckdb.DuckDBPyConnection, options: SparkOptions, data_dir: str,
                paths: dict[str, Path | None], settings: Settings, as_of: str,
                previous: PreviousNight | None, inputs_read: Callable[[], None],
                recorded: bool = False
                ) -> tuple[dict[str, InputFile], dict[str, SkippedCheck], NightFacts]:
    """The night of data_dir (and options.tables) on Spark: (inputs, skipped checks,
    night facts), with findings, input_issues and unplaced_payments left in con; for a
    `recorded` run also send_batch and message_context, which the history reads."""
    try:
        spark = spark_session(options)
        shards = options.shards or 2 * spark.sparkContext.defaultParallelism
        with _shuffle_partitions(spark, shards), \
                read_sources(spark, con, data_dir, paths, options.tables) as sources:
            inputs = {name: source.input for name, source in sources.items()}
            require_messages(inputs["send_batch"])
            staged = {name: _staged(source, settings, shards)
                      for name, source in sources.items()}
            inputs_read()
            skipped = skipped_checks(inputs, settings)
            try:
                context = tasks.NightContext(settings, as_of, inputs, skipped, previous,
                                             recorded)
                facts = _decide(con, staged, shards, context)
            finally:
                for frame in staged.values():
                    frame.unpersist()
    except (PySparkException, Py4JError, ConnectionError) as error:
        # ConnectionError: the JVM is gone (killed, or out of memory).
        raise UnexpectedError(f"Spark failed: {error_line(error)}") from error
    return inputs, skipped, facts


def _decide(con: duckdb.DuckDBPyConnection, staged: dict[str, DataFrame], shards: int,
            context: tasks.NightContext) -> NightFacts:
    """Loan buckets, then message shards (the module's 2. and 3.), gathered into con."""
    _gather(con, _ledger_buckets(staged, shards), shards, tasks.ledger_job, context)
    con.execute("CREATE OR REPLACE TABLE payment_feed AS "
                "SELECT max(newest_posted_at) AS newest_posted_at FROM payment_feed")
    unattributed = feeds.unattributed_rows(con)
    money = feeds.unplaced_money(con)
    feeds.stop_if_policy_fails(money, context.settings)
    shared = {name: tasks.to_ipc(staged[name].toArrow()) for name in _SHARED_TABLES}
    shared |= {name: tasks.to_ipc(tasks.arrow_table(con, f"FROM {name}"))
               for name in ("payment_feed", "unplaced_payments")}
    _gather(con, _message_shards(staged, shards, context.settings), shards, tasks.shard_job,
            replace(context, shared=shared))
    con.execute("CREATE OR REPLACE TABLE findings AS FROM findings ORDER BY source_row")
    if context.recorded:
        con.execute("CREATE OR REPLACE VIEW message_context AS FROM history_context")
    feed_flags = {str(flag): (int(n), str(detail)) for flag, n, detail in con.execute(
        "SELECT flag, sum(messages), min(detail) FROM feed_flags GROUP BY flag").fetchall()}
    return NightFacts(unattributed, money, feeds.warnings(unattributed, money, feed_flags))


@contextmanager
def _shuffle_partitions(spark: SparkSession, shards: int) -> Iterator[None]:
    """Every shuffle of the run into `shards` partitions, as many as the buckets: Spark's
    default (200) would start a DuckDB task per empty partition. The session's own
    setting is restored afterwards."""
    setting = "spark.sql.shuffle.partitions"
    before = spark.conf.get(setting) or "200"
    spark.conf.set(setting, str(shards))
    try:
        yield
    finally:
        spark.conf.set(setting, before)


def _staged(source: Source, settings: Settings, shards: int) -> DataFrame:
    """The table staged by DuckDB in Spark tasks, with the reasons of its repeated keys;
    kept (memory, then disk) for the two passes that read it."""
    table = TABLES_BY_NAME[source.input.table]
    schema = _spark_schema(table)
    if source.raw is None:
        spark = SparkSession.getActiveSession()
        assert spark is not None
        return spark.createDataFrame([], schema)
    staged = source.raw.mapInArrow(partial(tasks.stage_batches, table.name, settings), schema)
    if table.unique_key:
        staged = _with_repeated_keys(staged, table, settings, shards)
    return staged.persist(StorageLevel.MEMORY_AND_DISK)


def _spark_schema(table: Table) -> T.StructType:
    return T.StructType([T.StructField(name, _SPARK_TYPES[kind])
                         for name, kind in tasks.staged_columns(table)])


def _with_repeated_keys(staged: DataFrame, table: Table, settings: Settings,
                        shards: int) -> DataFrame:
    """Each copy of a repeated key gets staging's reason appended to its problem, found
    with every row of the key in one task."""
    keys = list(table.unique_key)
    schema = T.StructType([f for f in _spark_schema(table).fields if f.name in keys]
                          + [T.StructField(DUPLICATE, T.StringType())])
    # Only the key columns travel to the tasks that group them; the repeated keys, few on
    # any night, are broadcast back to the rows, which stay where they are.
    repeated = F.broadcast(staged.select(*keys).repartition(shards, *keys).mapInArrow(
        partial(tasks.repeated_keys, table.name, settings), schema))
    reason = F.col(DUPLICATE)
    problem = (F.when(reason.isNull(), F.col("problem"))
               .when(F.col("problem").isNull(), reason)
               .otherwise(F.concat_ws("; ", F.col("problem"), reason)))
    columns = [problem.alias("problem") if name == "problem" else F.col(name)
               for name in staged.columns]
    return staged.join(repeated, on=keys, how="left").select(*columns)


def bucket_of(column: str | Column, shards: int) -> Column:
    """The bucket (0 to shards - 1) a row goes to by its value of column."""
    return F.pmod(F.xxhash64(F.col(column) if isinstance(column, str) else column),
                  F.lit(shards)).cast("int")


def _ledger_buckets(staged: dict[str, DataFrame], shards: int) -> DataFrame:
    """Envelopes of every reference table: a loan's rows in one bucket, the rest spread."""
    return _union([
        _envelope(frame, name, bucket_of(_LOAN_TABLES[name], shards) if name in _LOAN_TABLES
                  else F.pmod(F.col("source_row"), F.lit(shards)).cast("int"))
        for name, frame in staged.items() if name != "send_batch"
    ])


def _message_shards(staged: dict[str, DataFrame], shards: int,
                    settings: Settings) -> DataFrame:
    """Envelopes of each message shard with every row it needs (see the module's 3.)."""
    cap_key = "loan_id" if settings.frequency_scope == "loan" else "borrower_id"
    messages = staged["send_batch"].withColumn(tasks.BUCKET, bucket_of(F.col(cap_key), shards))
    loans = messages.select(tasks.BUCKET, "loan_id").where("loan_id IS NOT NULL").distinct()
    borrowers = (messages.select(tasks.BUCKET, "borrower_id")
                 .where("borrower_id IS NOT NULL").distinct())
    envelopes = [_envelope(messages, "send_batch", F.col(tasks.BUCKET))]
    for name, column in _LOAN_TABLES.items():
        routed = staged[name].join(loans.withColumnRenamed("loan_id", column), column)
        envelopes.append(_envelope(routed, name, F.col(tasks.BUCKET)))
    for name, column in _BORROWER_TABLES.items():
        routed = staged[name].join(borrowers.withColumnRenamed("borrower_id", column), column)
        if name == "send_history" and cap_key == "loan_id":  # FREQUENCY_CAP counts by loan
            routed = (routed.unionByName(staged[name].join(loans, "loan_id"))
                      .dropDuplicates([tasks.BUCKET, "source_row"]))
        envelopes.append(_envelope(routed, name, F.col(tasks.BUCKET)))
    return _union(envelopes)


def _envelope(frame: DataFrame, name: str, bucket: Column) -> DataFrame:
    routed = frame.select(*[F.col(f"`{c}`") for c in frame.columns if c != tasks.BUCKET],
                          bucket.alias(tasks.BUCKET))
    return routed.mapInArrow(partial(tasks.pack, name), _ENVELOPE_TYPE)


def _union(frames: list[DataFrame]) -> DataFrame:
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


def _gather(con: duckdb.DuckDBPyConnection, envelopes: DataFrame, shards: int,
            job: Callable[[tasks.NightContext, pa.Table], pa.Table],
            context: tasks.NightContext) -> None:
    """Run job on each bucket of envelopes and gather the tables it gives into con: each
    the union of every bucket's. A table no bucket gave comes from the job run on no rows
    at all, so that it exists, typed and empty."""
    # A partition of buckets rather than groupBy().applyInArrow(): Spark would sort the
    # envelopes (large binary values) in the JVM's heap, and answer a group while the
    # next one is still being sent (see tasks.read_all).
    gathered = envelopes.repartition(shards, "bucket").mapInArrow(
        tasks.bucket_job(job, context), _RESULT_TYPE).toArrow()
    tables = tasks.unpack(gathered)
    empty = tasks.unpack(job(context, tasks.ENVELOPE_SCHEMA.empty_table()))
    for name, rows in empty.items():
        tasks.table_from_arrow(con, name, tables.get(name, rows))
