"""The DuckDB work a Spark task does, on Arrow data: stage part of a table, find a table's
repeated keys, and decide one bucket of co-located tables with the nightly SQL.

No pyspark here: every function takes and gives pyarrow, so it is shipped to the executors
as it is, and it can be tested without Spark. Tables travel between tasks as *envelopes*,
rows of (bucket, table, Arrow IPC stream), so that one task receives every table its
bucket needs whatever their columns.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from reconcile.config import Settings
from reconcile.nightly import feeds
from reconcile.nightly.decide import create_params, decide, prepare_session, prepare_truth
from reconcile.nightly.inputs import InputFile
from reconcile.nightly.staging import (
    SQL_TYPE,
    create_input_issues,
    repeated_key_select,
    stage,
)
from reconcile.result import PreviousNight, SkippedCheck
from reconcile.schema import TABLES, TABLES_BY_NAME, Table
from reconcile.sqlfiles import quote_identifier, quote_literal, truth_steps

# The 0-based position of a row in its file, carried beside the raw columns.
ROW_POSITION = "file_row_number"
# The column of an envelope naming the bucket its rows go to.
BUCKET = "__bucket"
ENVELOPE_SCHEMA = pa.schema([("bucket", pa.int32()), ("table", pa.string()),
                             ("payload", pa.binary())])
# What a bucket job gives back: named Arrow IPC streams, gathered by the driver.
RESULT_SCHEMA = pa.schema([("table", pa.string()), ("payload", pa.binary())])
# Envelopes in one batch a packing task yields.
ENVELOPES_PER_BATCH = 64
# Rows of a result in one payload: a payload is one value of a row in Spark's heap.
RESULT_ROWS = 50_000
# Rows staged by one statement: fewer, and each statement's fixed cost adds up; more, and
# a task holds more in memory.
STAGE_ROWS = 500_000


def staged_columns(table: Table) -> list[tuple[str, str]]:
    """(name, DuckDB type) of a staged table: source_row, its columns, problem."""
    return ([("source_row", "BIGINT")]
            + [(c.name, SQL_TYPE[c.kind]) for c in table.columns]
            + [("problem", "VARCHAR")])


def arrow_table(con: duckdb.DuckDBPyConnection, query: str) -> pa.Table:
    """A query's rows as Arrow; an earlier execute() left unfinished is run to its end
    first, as DuckDB asks before the next query."""
    con.complete()
    return con.sql(query).to_arrow_table()


def table_from_arrow(con: duckdb.DuckDBPyConnection, name: str, rows: pa.Table,
                     append: bool = False) -> None:
    """Table `name` made of (or, with append, extended by) Arrow rows, matched by name."""
    con.complete()
    con.register("arrow_rows", rows)
    try:
        target = quote_identifier(name)
        con.execute(f"INSERT INTO {target} BY NAME FROM arrow_rows" if append
                    else f"CREATE OR REPLACE TABLE {target} AS FROM arrow_rows")
    finally:
        con.unregister("arrow_rows")


def task_connection(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A DuckDB session like the nightly one, sized for one task of many on an executor."""
    con = duckdb.connect()
    prepare_session(con, settings.timezone)
    con.execute(f"SET memory_limit = {quote_literal(settings.memory_limit)}")
    con.execute(f"SET threads = {max(1, settings.threads)}")
    con.execute(f"SET temp_directory = {quote_literal(tempfile.mkdtemp(prefix='reconcile-'))}")
    return con


def stage_batches(table_name: str, settings: Settings,
                  batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Raw rows (their columns and ROW_POSITION) in, staged rows out: staging's own SQL,
    without the repeated-key reasons, which need every row of the table (repeated_keys)."""
    table = TABLES_BY_NAME[table_name]
    received = read_all(batches)
    if received is None:
        return
    con = task_connection(settings)
    try:
        for chunk in _chunks(received.to_batches(), STAGE_ROWS):
            table_from_arrow(con, f"raw_{table.name}", chunk)
            columns = tuple(n for n in chunk.schema.names if n != ROW_POSITION)
            source = InputFile(table.name, None, "arrow", columns,
                               row_number=f"{ROW_POSITION} + 1")
            stage(con, table, source, settings.timezone, repeated_keys=False)
            yield from arrow_table(con, f"FROM {table.name}").to_batches()
    finally:
        con.close()


def repeated_keys(table_name: str, settings: Settings,
                  batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The repeated keys among staged rows (their key columns) that hold every row of
    their key (the caller partitions by key), with staging's reason for them."""
    table = TABLES_BY_NAME[table_name]
    rows = read_all(batches)
    if rows is None or rows.num_rows == 0:
        return
    con = task_connection(settings)
    try:
        con.register("staged", rows)
        yield from arrow_table(con, repeated_key_select(table, "staged")).to_batches()
    finally:
        con.close()


def pack(table_name: str, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Rows carrying a BUCKET column in, envelopes out: one per bucket and input batch, so
    that no envelope is larger than a batch (Spark sorts envelopes in the JVM's heap)."""
    packed = []
    for batch in batches:  # every envelope made before the first is yielded: see read_all
        buckets = batch.column(BUCKET)
        rows = batch.drop_columns([BUCKET])
        packed += [{"bucket": bucket, "table": table_name,
                    "payload": to_ipc([rows.filter(pc.equal(buckets, bucket))])}
                   for bucket in pc.unique(buckets).to_pylist()]
    for start in range(0, len(packed), ENVELOPES_PER_BATCH):
        yield pa.RecordBatch.from_pylist(packed[start:start + ENVELOPES_PER_BATCH],
                                         schema=ENVELOPE_SCHEMA)


def to_ipc(batches: list[pa.RecordBatch] | pa.Table) -> bytes:
    """Rows as one Arrow IPC stream."""
    table = batches if isinstance(batches, pa.Table) else pa.Table.from_batches(batches)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as stream:
        stream.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def from_ipc(payloads: Iterable[bytes]) -> pa.Table | None:
    """The rows of several IPC streams as one table; None for no stream at all."""
    tables = [pa.ipc.open_stream(payload).read_all() for payload in payloads]
    return pa.concat_tables(tables) if tables else None


def unpack(envelopes: pa.Table) -> dict[str, pa.Table]:
    """The tables an envelope table holds, by name."""
    names = envelopes.column("table").to_pylist()
    payloads = envelopes.column("payload").to_pylist()
    found: dict[str, list[bytes]] = {}
    for name, payload in zip(names, payloads, strict=True):
        found.setdefault(name, []).append(payload)
    return {name: table for name, parts in found.items()
            if (table := from_ipc(parts)) is not None}


def load_staged(con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table]) -> None:
    """Every staged table of the contract in con, typed as staging types it; a table the
    bucket got no rows of is empty."""
    for table in TABLES:
        columns = ", ".join(f"{quote_identifier(n)} {t}" for n, t in staged_columns(table))
        con.execute(f"CREATE OR REPLACE TABLE {table.name} ({columns})")
        rows = tables.get(table.name)
        if rows is not None and rows.num_rows:
            table_from_arrow(con, table.name, rows, append=True)


def results(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> pa.Table:
    """The named tables of con as a RESULT_SCHEMA table, for the driver to gather: one row
    per RESULT_ROWS rows of each (at least one, so that an empty table keeps its types)."""
    rows = []
    for name in names:
        table = arrow_table(con, f"FROM {name}")
        for start in range(0, max(table.num_rows, 1), RESULT_ROWS):
            rows.append({"table": name,
                         "payload": to_ipc(table.slice(start, RESULT_ROWS))})
    return pa.Table.from_pylist(rows, schema=RESULT_SCHEMA)


@dataclass(frozen=True)
class NightContext:
    """What every bucket job is told about the night as a whole."""

    settings: Settings
    as_of: str
    inputs: dict[str, InputFile]
    skipped: dict[str, SkippedCheck] = field(default_factory=dict)
    previous: PreviousNight | None = None
    # Whether the run is recorded in the history, which reads more of each shard.
    recorded: bool = False
    # Tables every bucket holds whole, as IPC: the small reference tables and the
    # night-wide facts (payment_feed, unplaced_payments).
    shared: dict[str, bytes] = field(default_factory=dict)


# The reference facts each loan bucket finds: its unusable and unplaced rows, its money
# that no loan can take, and its newest payment.
LEDGER_RESULTS = ("input_issues", "unplaced_payments", "payment_feed")
# The truth steps those facts need (sql/nightly/truth/NN_<table>.sql), by the table each
# creates.
_LEDGER_STEPS = ("loan_ledger", "payment_feed", "unplaced_payments")
# What each message shard gives back: its findings and the feed flags' details; for a run
# recorded in the history also its staged messages and what sql/history/
# record_findings.sql reads of message_context.
SHARD_RESULTS = ("findings", "feed_flags")
HISTORY_RESULTS = ("send_batch", "history_context")
HISTORY_CONTEXT = ("source_row", "template_kind", "rule_category")


def ledger_job(context: NightContext, envelopes: pa.Table) -> pa.Table:
    """One loan bucket: every row of its loans (and a share of the other reference
    tables), staged; gives LEDGER_RESULTS."""
    con = task_connection(context.settings)
    try:
        load_staged(con, unpack(envelopes))
        create_input_issues(con, [t for t in TABLES if t.name != "send_batch"],
                            context.inputs)
        create_params(con, context.settings, context.as_of)
        for name, sql in truth_steps():
            if name.removesuffix(".sql").split("_", 1)[1] in _LEDGER_STEPS:
                con.execute(sql)
        return results(con, LEDGER_RESULTS)
    finally:
        con.close()


def shard_job(context: NightContext, envelopes: pa.Table) -> pa.Table:
    """One shard of messages with every row of every table they need: the whole nightly
    decision, with the night-wide facts taken from context.shared; gives SHARD_RESULTS."""
    con = task_connection(context.settings)
    try:
        tables = unpack(envelopes)
        for name, payload in context.shared.items():
            shared = from_ipc([payload])
            if shared is not None and name in TABLES_BY_NAME:
                tables[name] = shared
        load_staged(con, tables)
        create_input_issues(con, [t for t in TABLES if t.name != "send_batch"],
                            context.inputs)
        feeds.create_feed_volume(con, context.inputs, context.previous)
        prepare_truth(con, context.settings, context.as_of)
        for name, payload in context.shared.items():
            if name not in TABLES_BY_NAME:  # a night-wide fact replaces the shard's own
                table_from_arrow(con, name, from_ipc([payload]))
        details = decide(con, context.skipped)
        con.execute("CREATE TABLE feed_flags (flag VARCHAR, messages BIGINT, detail VARCHAR)")
        for flag, (messages, detail) in details.items():
            con.execute("INSERT INTO feed_flags VALUES (?, ?, ?)", [flag, messages, detail])
        if not context.recorded:
            return results(con, SHARD_RESULTS)
        listed = ", ".join(HISTORY_CONTEXT)
        con.execute(f"CREATE TABLE history_context AS SELECT {listed} FROM message_context")
        return results(con, SHARD_RESULTS + HISTORY_RESULTS)
    finally:
        con.close()


def bucket_job(job: Callable[[NightContext, pa.Table], pa.Table], context: NightContext
               ) -> Callable[[Iterable[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """job bound to context, as mapInArrow calls it: the envelopes of a partition (every
    envelope of each of its buckets) in; each bucket's results out, one bucket at a time."""
    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        envelopes = read_all(batches)
        if envelopes is None:
            return
        buckets = envelopes.column("bucket")
        for bucket in pc.unique(buckets).to_pylist():
            yield from job(context, envelopes.filter(pc.equal(buckets, bucket))).to_batches()
    return run


def read_all(batches: Iterable[pa.RecordBatch]) -> pa.Table | None:
    """A task's whole input, read before it yields anything (None for no batch at all).

    Spark's JVM sends a mapInArrow task all its input before it reads any output, so a
    task that answered early could fill the socket both ways and wait forever (seen with
    8 shards at 1M messages)."""
    received = list(batches)
    return pa.Table.from_batches(received) if received else None


def _chunks(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """The batches regrouped into tables of about `rows` rows (the last one smaller)."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield pa.Table.from_batches(pending)
            pending, count = [], 0
    if pending:
        yield pa.Table.from_batches(pending)

