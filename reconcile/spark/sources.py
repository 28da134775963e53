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
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from reconcile.errors import InputError
from reconcile.nightly.inputs import FORMATS, InputFile, check_columns, drop_relation, load
from reconcile.schema import TABLES, Table
from reconcile.spark.tasks import ROW_POSITION, arrow_table

if TYPE_CHECKING:
    from py4j.java_gateway import JavaObject

# How much of a remote file one call reads while its SHA-256 is taken.
_HASH_CHUNK = 4 << 20


@dataclass(frozen=True)
class Source:
    """One table of the night: what summary.json says of it, and its raw rows."""

    input: InputFile
    raw: DataFrame | None  # None: an optional table the night does not have


@contextmanager
def read_sources(spark: SparkSession, con: duckdb.DuckDBPyConnection, data_dir: str,
                 paths: dict[str, Path | None],
                 catalog: dict[str, str]) -> Iterator[dict[str, Source]]:
    """Every table's Source. `paths` are the drop's files when data_dir is a folder, empty
    when it is a URI. send_batch's raw rows are also left in con as raw_send_batch, for
    the split files. Copies of remote CSV files live until the context ends."""
    copies = Path(tempfile.mkdtemp(prefix="reconcile-csv-"))
    try:
        yield {table.name: _source(spark, con, table, data_dir, paths, catalog, copies)
               for table in TABLES}
    finally:
        shutil.rmtree(copies, ignore_errors=True)


def _source(spark: SparkSession, con: duckdb.DuckDBPyConnection, table: Table, data_dir: str,
            paths: dict[str, Path | None], catalog: dict[str, str], copies: Path) -> Source:
    if table.name in catalog:
        source = _catalog_source(spark, table, catalog[table.name])
        if table.name == "send_batch":
            _gather_raw(con, source)
        return source
    path = paths.get(table.name) if paths else _remote_file(spark, table, data_dir, copies)
    if isinstance(path, str):  # a Parquet file under a URI, read by Spark where it lies
        source = _remote_parquet(spark, table, path)
        if table.name == "send_batch":
            _gather_raw(con, source)
        return source
    described = load(con, table, path)
    raw = None
    if path is None:
        pass
    elif described.file_format == "csv":
        raw = _from_driver(spark, con, described)
    else:
        raw = _numbered(spark.read.parquet(str(path)), described.columns)
    if table.name != "send_batch":
        drop_relation(con, described.raw_table)
    return Source(described, raw)


def _from_driver(spark: SparkSession, con: duckdb.DuckDBPyConnection,
                 described: InputFile) -> DataFrame:
    """A CSV table DuckDB parsed on the driver, handed to Spark with its rows' positions."""
    listed = ", ".join(f'"{c}"' for c in described.columns)
    rows = arrow_table(con, f"SELECT {listed}, rowid AS {ROW_POSITION} "
                            f"FROM {described.raw_table}")
    return spark.createDataFrame(rows)


def _numbered(frame: DataFrame, columns: tuple[str, ...]) -> DataFrame:
    """A single Parquet file's rows with their position in it."""
    return frame.select(*[F.col(f"`{c}`") for c in columns],
                        F.col("_metadata.row_index").alias(ROW_POSITION))


def _remote_file(spark: SparkSession, table: Table, data_dir: str,
                 copies: Path) -> Path | str | None:
    """The table's file under a URI: a Parquet file's URI, a local copy of a CSV file, or
    None for an optional table that is not there (the rules of inputs.locate)."""
    base = data_dir.rstrip("/")
    candidates = [f"{base}/{table.name}{suffix}" for suffix, _ in FORMATS]
    present = [c for c in candidates if _hadoop_exists(spark, c)]
    if len(present) > 1:
        names = " and ".join(c.rsplit("/", 1)[-1] for c in present)
        raise InputError(f"{data_dir}: table {table.name} is given twice ({names})")
    if not present:
        if table.required:
            expected = ", ".join(c.rsplit("/", 1)[-1] for c in candidates)
            raise InputError(f"{data_dir}: missing required table {table.name} "
                             f"(one of {expected})")
        return None
    if present[0].endswith(".parquet"):
        return present[0]
    local = copies / present[0].rsplit("/", 1)[-1]
    fs, hadoop_path = _hadoop(spark, present[0])
    fs.copyToLocalFile(False, hadoop_path, _jvm(spark).org.apache.hadoop.fs.Path(str(local)))
    return local


def _remote_parquet(spark: SparkSession, table: Table, uri: str) -> Source:
    name = uri.rsplit("/", 1)[-1]
    frame = _read(lambda: spark.read.parquet(uri), name)
    columns = tuple(frame.columns)
    check_columns(table, Path(name), columns)
    raw = _numbered(frame, columns)
    described = InputFile(table.name, Path(name), "parquet", columns, raw.count(),
                          _hadoop_sha256(spark, uri), f"{ROW_POSITION} + 1")
    return Source(described, raw)


def _catalog_source(spark: SparkSession, table: Table, name: str) -> Source:
    """A catalog table, its rows numbered in (file, row in file) order."""
    frame = _read(lambda: spark.table(name), name)
    columns = tuple(frame.columns)
    check_columns(table, Path(name), columns)
    try:
        located = frame.select(*[F.col(f"`{c}`") for c in columns],
                               F.col("_metadata.file_path").alias("__file"),
                               F.col("_metadata.row_index").alias("__row"))
    except AnalysisException as error:
        raise InputError(f"{name}: not a table of Parquet files, so its rows have no "
                         f"position to report ({_first_line(error)})") from error
    order = Window.orderBy("__file", "__row")
    raw = located.withColumn(ROW_POSITION, F.row_number().over(order) - 1) \
        .drop("__file", "__row")
    described = InputFile(table.name, Path(name), "catalog", columns, raw.count(),
                          _listing_sha256(spark, frame), f"{ROW_POSITION} + 1")
    return Source(described, raw)


def _gather_raw(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    """raw_send_batch in con from Spark's rows, for the split files the driver writes."""
    assert source.raw is not None  # send_batch is required
    rows = source.raw.toArrow()
    con.register("gathered_batch", rows)
    con.execute(f"CREATE OR REPLACE TABLE {source.input.raw_table} AS FROM gathered_batch")
    con.unregister("gathered_batch")


def _read(reader: Any, name: str) -> DataFrame:
    try:
        frame: DataFrame = reader()
    except AnalysisException as error:
        raise InputError(f"{name}: cannot be read ({_first_line(error)})") from error
    return frame


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


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
