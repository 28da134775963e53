"""Where each table of the night comes from under Spark, read into a raw DataFrame: its
columns as the file has them, plus each row's 0-based position in its file.

- A Parquet file, in a folder or under any URI Spark reads: read by Spark's executors, the
  position taken from Spark's `_metadata.row_index`, which counts as DuckDB's
  file_row_number does.
- A CSV file: parsed once by DuckDB on the driver, exactly as the single-machine run parses
  it (the same row numbers and the same errors for an unreadable row), then handed to
  Spark. A CSV under a URI is copied to the driver first: CSV has no row boundaries a
  cluster could split at.
- A catalog table (`--table installments=dw.installments`), file-backed by Parquet: its
  rows are numbered in (file, row in file) order, and its name is what reasons cite.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from reconcile.errors import InputError
from reconcile.nightly.inputs import (
    InputFile,
    changed_while_read,
    check_columns,
    choose_file,
    drop_relation,
    load,
)
from reconcile.schema import TABLES, Table
from reconcile.spark.tasks import ROW_POSITION, arrow_table, table_from_arrow
from reconcile.sqlfiles import quote_identifier

if TYPE_CHECKING:
    from py4j.java_gateway import JavaObject

# How much of a remote file one call reads while its SHA-256 is taken.
_HASH_CHUNK = 4 << 20


@dataclass(frozen=True)
class Source:
    """One table of the night: what summary.json says of it, and its raw rows."""

    input: InputFile
    raw: DataFrame | None  # None: an optional table the night does not have
    # For a file under a URI: its URI and (size, modification time) when it was read.
    remote: tuple[str, tuple[int, int]] | None = None


@contextmanager
def read_sources(spark: SparkSession, con: duckdb.DuckDBPyConnection, data_dir: str,
                 paths: dict[str, Path | None],
                 catalog: dict[str, str]) -> Iterator[dict[str, Source]]:
    """Every table's Source. `paths` are the drop's files when data_dir is a folder, empty
    when it is a URI. send_batch's raw rows are also left in con as raw_send_batch, for
    the split files. Copies of remote CSV files live until the context ends."""
    copies = Path(tempfile.mkdtemp(prefix="reconcile-csv-"))
    try:
        sources = {table.name: _source(spark, con, table, data_dir, paths, catalog, copies)
                   for table in TABLES}
        yield sources
        _check_unchanged(spark, sources.values())
    finally:
        shutil.rmtree(copies, ignore_errors=True)


def _check_unchanged(spark: SparkSession, sources: Iterable[Source]) -> None:
    """Refuse a night whose remote files changed while it was reconciled (as
    inputs.check_unchanged does for local ones)."""
    for source in sources:
        if source.remote and _hadoop_identity(spark, source.remote[0]) != source.remote[1]:
            raise changed_while_read(source.input)


def _source(spark: SparkSession, con: duckdb.DuckDBPyConnection, table: Table, data_dir: str,
            paths: dict[str, Path | None], catalog: dict[str, str], copies: Path) -> Source:
    remote = None if paths or table.name in catalog else _remote_file(spark, table, data_dir)
    if table.name in catalog or (remote and remote.endswith(".parquet")):
        # Read by Spark where it lies; the split files need send_batch's rows on the driver.
        source = (_catalog_source(spark, table, catalog[table.name]) if table.name in catalog
                  else _remote_parquet(spark, table, str(remote)))
        if table.name == "send_batch":
            _gather_raw(con, source)
        return source
    path = _copy_to_driver(spark, remote, copies) if remote else paths.get(table.name)
    described = load(con, table, path)
    if remote:  # the copy is this run's own; the remote file is what may change
        described = replace(described, identity=None)
    if path is None:
        raw = None
    elif described.file_format == "csv":
        raw = _from_driver(spark, con, described)
    else:
        raw = _numbered(spark.read.parquet(str(path)), described.columns)
    if table.name != "send_batch":
        drop_relation(con, described.raw_table)
    return Source(described, raw, (remote, _hadoop_identity(spark, remote)) if remote else None)


def _from_driver(spark: SparkSession, con: duckdb.DuckDBPyConnection,
                 described: InputFile) -> DataFrame:
    """A CSV table DuckDB parsed on the driver, handed to Spark with its rows' positions."""
    listed = ", ".join(quote_identifier(c) for c in described.columns)
    rows = arrow_table(con, f"SELECT {listed}, rowid AS {ROW_POSITION} "
                            f"FROM {described.raw_table}")
    return spark.createDataFrame(rows)


def _numbered(frame: DataFrame, columns: tuple[str, ...]) -> DataFrame:
    """A single Parquet file's rows with their position in it."""
    return frame.select(*[F.col(f"`{c}`") for c in columns],
                        F.col("_metadata.row_index").alias(ROW_POSITION))


def _remote_file(spark: SparkSession, table: Table, data_dir: str) -> str | None:
    """The URI of the table's file under data_dir, or None for an optional table that is
    not there (the rules of inputs.locate)."""
    base = data_dir.rstrip("/")
    name = choose_file(table, data_dir, lambda n: _hadoop_exists(spark, f"{base}/{n}"))
    return f"{base}/{name}" if name else None


def _copy_to_driver(spark: SparkSession, uri: str, copies: Path) -> Path:
    """A CSV file under a URI, copied into the driver's folder `copies` to be parsed."""
    local = copies / uri.rsplit("/", 1)[-1]
    fs, hadoop_path = _hadoop(spark, uri)
    fs.copyToLocalFile(False, hadoop_path, _jvm(spark).org.apache.hadoop.fs.Path(str(local)))
    return local


def _remote_parquet(spark: SparkSession, table: Table, uri: str) -> Source:
    name = uri.rsplit("/", 1)[-1]
    frame = _read(lambda: spark.read.parquet(uri), name)
    columns = tuple(frame.columns)
    check_columns(table, name, columns)
    raw = _numbered(frame, columns)
    identity = _hadoop_identity(spark, uri)
    described = InputFile(table.name, Path(name), "parquet", columns, raw.count(),
                          _hadoop_sha256(spark, uri), f"{ROW_POSITION} + 1")
    return Source(described, raw, (uri, identity))


def _catalog_source(spark: SparkSession, table: Table, name: str) -> Source:
    """A catalog table, its rows numbered in (file, row in file) order."""
    frame = _read(lambda: spark.table(name), name)
    columns = tuple(frame.columns)
    check_columns(table, name, columns)
    try:
        located = frame.select(*[F.col(f"`{c}`") for c in columns],
                               F.col("_metadata.file_path").alias("__file"),
                               F.col("_metadata.row_index").alias("__row"))
    except AnalysisException as error:
        raise InputError(f"{name}: not a table of Parquet files, so its rows have no "
                         f"position to report ({error_line(error)})") from error
    order = Window.orderBy("__file", "__row")
    raw = located.withColumn(ROW_POSITION, (F.row_number().over(order) - 1).cast("long")) \
        .drop("__file", "__row")
    described = InputFile(table.name, Path(name), "catalog", columns, raw.count(),
                          _listing_sha256(spark, frame), f"{ROW_POSITION} + 1")
    return Source(described, raw)


def _gather_raw(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    """raw_send_batch in con from Spark's rows, for the split files the driver writes."""
    assert source.raw is not None  # send_batch is required
    table_from_arrow(con, source.input.raw_table, source.raw.toArrow())


def _read(reader: Any, name: str) -> DataFrame:
    try:
        frame: DataFrame = reader()
    except AnalysisException as error:
        raise InputError(f"{name}: cannot be read ({error_line(error)})") from error
    return frame


def error_line(error: Exception) -> str:
    """What went wrong in Spark, in one line: for a Python worker's traceback its last line
    (the exception), else the message's first line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    raised = [line for line in lines if re.match(r"[\w.]+(Error|Exception)\b", line)]
    return raised[-1] if "Python worker" in lines[0] and raised else lines[0]


def _jvm(spark: SparkSession) -> Any:
    return spark.sparkContext._jvm


def _hadoop(spark: SparkSession, uri: str) -> tuple[JavaObject, JavaObject]:
    """(Hadoop FileSystem, Path) for a URI, with the session's Hadoop configuration."""
    path = _jvm(spark).org.apache.hadoop.fs.Path(uri)
    configuration = spark.sparkContext._jsc.hadoopConfiguration()
    return path.getFileSystem(configuration), path


def _hadoop_exists(spark: SparkSession, uri: str) -> bool:
    fs, path = _hadoop(spark, uri)
    return bool(fs.exists(path)) and bool(fs.getFileStatus(path).isFile())


def _hadoop_identity(spark: SparkSession, uri: str) -> tuple[int, int]:
    """(size, modification time in ms) of a file Spark reads."""
    fs, path = _hadoop(spark, uri)
    status = fs.getFileStatus(path)
    return int(status.getLen()), int(status.getModificationTime())


def _hadoop_sha256(spark: SparkSession, uri: str) -> str:
    """The SHA-256 of a file Spark reads, streamed through Hadoop's FileSystem."""
    fs, path = _hadoop(spark, uri)
    remaining = int(fs.getFileStatus(path).getLen())
    digest = hashlib.sha256()
    stream = fs.open(path)
    try:
        utils = _jvm(spark).org.apache.commons.io.IOUtils
        while remaining > 0:
            size = min(_HASH_CHUNK, remaining)
            digest.update(bytes(utils.toByteArray(stream, size)))
            remaining -= size
    finally:
        stream.close()
    return digest.hexdigest()


def _listing_sha256(spark: SparkSession, frame: DataFrame) -> str:
    """For a catalog table: the SHA-256 of its files' listing (path, size, modification
    time), which changes when any of its files does."""
    digest = hashlib.sha256()
    for uri in sorted(frame.inputFiles()):
        fs, path = _hadoop(spark, uri)
        status = fs.getFileStatus(path)
        digest.update(f"{uri}\t{status.getLen()}\t{status.getModificationTime()}\n".encode())
    return digest.hexdigest()
