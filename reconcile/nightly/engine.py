"""`run()`: one nightly drop in, findings and the send / hold / block / rejected split out.

Data flows one way: locate and load inputs → stage typed tables → ledger truth and checks
(sql/) → verdicts (sql/nightly/findings.sql) → outputs, written all-or-nothing by `writer`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from reconcile.checks import FLAGS
from reconcile.config import Settings
from reconcile.errors import ConfigError, one_line
from reconcile.faults import from_duckdb, run_step
from reconcile.history import store as history
from reconcile.nightly import feeds, writer
from reconcile.nightly.databases import (
    DatabaseSource,
    Snapshot,
    database_for_night,
    read_tables,
    set_snapshot_variables,
    snapshot_warnings,
)
from reconcile.nightly.decide import (
    NightFacts,
    partial_checks,
    prepare_session,
    reconcile_night,
    skipped_checks,
)
from reconcile.nightly.inputs import (
    InputFile,
    check_unchanged,
    drop_relation,
    load,
    locate,
    require_messages,
)
from reconcile.nightly.out_dir import OutputClaim
from reconcile.nightly.out_dir import claim as claim_out_dir
from reconcile.nightly.staging import create_input_issues, stage, stages_as_view
from reconcile.result import PreviousNight, RunResult, SkippedCheck
from reconcile.schema import OUTCOMES, TABLES
from reconcile.spark.options import SparkOptions
from reconcile.sqlfiles import quote_literal
from reconcile.timestamps import iso_text, local_isoformat


def new_run_id(now: dt.datetime) -> str:
    """Sortable and unique: UTC start time plus random hex, e.g. 20261123T020000Z-3f9a1c."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


# Told each stage's name and seconds as it ends (logs, progress display).
StageListener = Callable[[str, float], None]


class Stopwatch:
    """Wall time since start, and the time each named stage took."""

    def __init__(self, on_stage: StageListener | None = None) -> None:
        self.started = dt.datetime.now(dt.UTC)
        self._start = time.perf_counter()
        self._on_stage = on_stage
        self.laps: dict[str, float] = {}

    def elapsed(self) -> float:
        return time.perf_counter() - self._start

    def lap(self, stage: str) -> None:
        self.laps[stage] = self.elapsed() - sum(self.laps.values())
        if self._on_stage:
            self._on_stage(stage, self.laps[stage])


@dataclass(frozen=True)
class RunRequest:
    """What a caller asked of one run."""

    # A folder; under the Spark engine also any URI Spark reads (hdfs://, s3a://, file:);
    # the database's URL when every table comes from one.
    data_dir: str
    out_dir: Path
    settings: Settings
    as_of: str | None
    history_db: Path | None
    force: bool
    # Seconds to wait for a lock (the output folder's, the history's) another run holds.
    wait_lock: float = 0
    # None: this process reconciles the night with DuckDB; else Spark does (reconcile.spark).
    spark: SparkOptions | None = None
    # The database the tables in `from_database` are read from, in one snapshot.
    database: DatabaseSource | None = None
    from_database: tuple[str, ...] = ()


def run(
    data_dir: str | Path | None,
    out_dir: str | Path,
    *,
    settings: Settings | None = None,
    as_of: str | dt.datetime | None = None,
    history_db: str | Path | None = None,
    force: bool = False,
    wait_lock: float = 0,
    on_stage: StageListener | None = None,
    on_start: Callable[[str], None] | None = None,
    spark: SparkOptions | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> RunResult:
    """Reconcile the drop in data_dir as of `as_of` (ISO 8601 text or a datetime; naive =
    local in the settings' timezone; default now) into out_dir.

    With history_db the run is also appended to that history file, unless the same drop was
    already reconciled the same way (then `force` records it again). A lock another run
    holds is waited for up to `wait_lock` seconds. `on_start` is told the run's id once,
    as soon as it is made (before any lock is taken); `on_stage` each stage as it ends.
    With `spark` the night is reconciled on Apache Spark (docs/spark.md), with the same
    answers and outputs. The settings' `sources` may name a database that some tables, or
    without data_dir every table, are read from in one snapshot (docs/databases.md).
    `connection` is an in-memory DuckDB connection to run in instead of a new one (a test's
    or a profiler's); the run sets its session (time zone, resources) and leaves it open.
    """
    as_of_text = as_of.isoformat() if isinstance(as_of, dt.datetime) else as_of
    settings = settings or Settings()
    spark = _with_catalog_sources(spark, settings)
    if spark:
        spark.check()
    database, from_database = database_for_night(settings, data_dir is not None,
                                                 under_spark=spark is not None)
    remote = spark is not None and is_uri(str(data_dir))
    location = (database.label_of_night() if data_dir is None and database
                else str(data_dir) if remote else str(Path(str(data_dir))))
    request = RunRequest(location, Path(out_dir), settings, as_of_text,
                         Path(history_db) if history_db else None, force, wait_lock, spark,
                         database, from_database)
    elsewhere = [*(spark.tables if spark else ()), *from_database]
    paths = ({} if remote else dict.fromkeys(from_database) if data_dir is None
             else locate(Path(location), elsewhere))
    watch = Stopwatch(on_stage)
    run_id = new_run_id(watch.started)
    if on_start:
        on_start(run_id)
    lock = (history.locked(request.history_db, run_id, request.wait_lock)
            if request.history_db else contextlib.nullcontext())
    # The output folder's lock first, then the history's; the claim's working folders
    # (the spill folder included, unless temp_directory names one) go when it ends.
    with claim_out_dir(request.out_dir, run_id, request.wait_lock) as output, lock:
        spill_dir = Path(request.settings.temp_directory or output.spill_folder())
        con = _connect(request.settings, spill_dir, connection)
        try:
            return _run(con, request, paths, run_id, watch, output)
        except duckdb.Error as error:  # an unreadable input (exit 2) or a machine fault (1)
            raise from_duckdb(error, run_step(watch.laps), con=con,
                              inputs=[p for p in paths.values() if p]) from error
        finally:
            if connection is None:
                con.close()


def _with_catalog_sources(spark: SparkOptions | None, settings: Settings) -> SparkOptions | None:
    """Under Spark, tables [sources] maps (with no database named) are catalog tables, as
    --table's are; --table wins for a table both name."""
    mapped = settings.table_sources
    if spark is None or settings.database_url is not None or not mapped:
        return spark
    return replace(spark, tables={**mapped, **spark.tables})


def is_uri(location: str) -> bool:
    """`hdfs://…`, `s3a://…`, `file:/…`: a location only Spark's file systems open."""
    return re.match(r"[A-Za-z][A-Za-z0-9+.-]+:/", location) is not None


def _run(con: duckdb.DuckDBPyConnection, request: RunRequest, paths: dict[str, Path | None],
         run_id: str, watch: Stopwatch, output: OutputClaim) -> RunResult:
    settings = request.settings
    as_of_text = _resolve_as_of(con, request.as_of, settings.timezone, watch.started)
    if request.history_db:
        history.prepare(con, request.history_db, settings)
    previous = (history.previous_night(con, request.history_db, as_of_text)
                if request.history_db else None)
    snapshot = None
    if request.spark is None:
        inputs, skipped, night, snapshot = _local_night(con, request, paths, as_of_text,
                                                        previous, watch)
    else:
        from reconcile.spark.night import spark_night  # pyspark only when asked for

        inputs, skipped, night = spark_night(
            con, request.spark, request.data_dir, paths, settings, as_of_text, previous,
            lambda: watch.lap("inputs"), recorded=request.history_db is not None)
    watch.lap("checks")
    result = RunResult(
        run_id=run_id,
        as_of=as_of_text,
        data_dir=request.data_dir,
        out_dir=str(request.out_dir),
        settings=settings,
        inputs=inputs,
        verdict_counts=_verdict_counts(con),
        flag_counts=_flag_counts(con),
        input_issue_counts=_input_issue_counts(con),
        unattributed_ledger_rows=sum(night.unattributed.values()),
        started_at=local_isoformat(watch.started, settings.timezone),
        duration_seconds=0.0,
        skipped_checks=skipped,
        partial_checks=partial_checks(inputs, skipped),
        unplaced_payments=night.money,
        previous_run=previous,
        warnings=night.warnings + snapshot_warnings(snapshot, as_of_text),
        engine="spark" if request.spark else "duckdb",
        snapshot=snapshot.to_dict() if snapshot else None,
    )
    with output.staged() as folder:
        writer.write_tables(con, folder, inputs["send_batch"])
        check_unchanged(list(inputs.values()))
        watch.lap("outputs")
        result = replace(result, duration_seconds=watch.elapsed(), stage_seconds=dict(watch.laps))
        run_fingerprint, earlier_run = _history_lookup(con, request, result)
        if request.history_db:
            status = f"already recorded as {earlier_run}" if earlier_run else "recorded"
            result = replace(result, history=status)
        writer.write_summary(folder, result)
        # Recorded before OUT_DIR is replaced: if killed in between, the re-run is
        # recognised by its fingerprint and only publishes the output.
        if request.history_db and earlier_run is None:
            history.record(con, request.history_db, result, run_fingerprint,
                           dt.datetime.now(dt.UTC).isoformat())
            _apply_retention(con, request.history_db, result)
            watch.lap("history")
    return result


def _local_night(con: duckdb.DuckDBPyConnection, request: RunRequest,
                 paths: dict[str, Path | None], as_of: str, previous: PreviousNight | None,
                 watch: Stopwatch) -> tuple[dict[str, InputFile], dict[str, SkippedCheck],
                                            NightFacts, Snapshot | None]:
    """The night in this process: every input staged into con, then decided."""
    inputs, snapshot = _load_inputs(con, paths, request)
    feeds.create_feed_volume(con, inputs, previous)
    watch.lap("inputs")
    skipped = skipped_checks(inputs, request.settings)
    return inputs, skipped, reconcile_night(con, request.settings, as_of, skipped), snapshot


def _history_lookup(con: duckdb.DuckDBPyConnection, request: RunRequest,
                    result: RunResult) -> tuple[str, str | None]:
    """(this run's fingerprint, the run already recorded with it); ("", None) without a
    history. With force nothing counts as recorded."""
    if not request.history_db:
        return "", None
    run_fingerprint = history.fingerprint(result)
    earlier_run = (None if request.force
                   else history.recorded_run(con, request.history_db, run_fingerprint))
    return run_fingerprint, earlier_run


def _apply_retention(con: duckdb.DuckDBPyConnection, db_path: Path, result: RunResult) -> None:
    """With history_keep_days, prune the runs of nights that many days before this one's."""
    keep_days = result.settings.history_keep_days
    if keep_days:
        (night,) = con.execute(
            "SELECT CAST(timezone(?, CAST(? AS TIMESTAMPTZ)) AS DATE)",
            [result.settings.timezone, result.as_of]).fetchone() or (None,)
        history.prune(db_path, str(night - dt.timedelta(days=keep_days)))


def _connect(settings: Settings, spill_dir: Path,
             given: duckdb.DuckDBPyConnection | None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session (the one given, else a new one) in the run's time zone
    and resource limits, with parsers.

    Past memory_limit DuckDB spills to spill_dir instead of failing, so a drop larger than
    memory still reconciles.
    """
    con = given if given is not None else duckdb.connect()
    try:
        prepare_session(con, settings.timezone)
        _set_resources(con, settings, spill_dir)
    except BaseException:
        if given is None:
            con.close()
        raise
    return con


def _set_resources(con: duckdb.DuckDBPyConnection, settings: Settings, spill_dir: Path) -> None:
    try:
        con.execute(f"SET memory_limit = {quote_literal(settings.memory_limit)}")
        con.execute(f"SET temp_directory = {quote_literal(str(spill_dir))}")
        if settings.threads:
            con.execute(f"SET threads = {int(settings.threads)}")
    except duckdb.Error as error:
        raise ConfigError(f"resource setting refused by DuckDB: {one_line(error)}"
                          ) from error


def _resolve_as_of(
    con: duckdb.DuckDBPyConnection, as_of: str | None, timezone: str, now: dt.datetime
) -> str:
    """T as text with its offset; parsed with the same rules as the drop's timestamps."""
    text = as_of if as_of is not None else now.isoformat()
    row = con.execute(
        "SELECT CAST(parse_timestamp($1, $2) AS VARCHAR), "
        "wall_time_fault(naive_timestamp($1), $2)", [text, timezone]
    ).fetchone()
    if row is not None and row[1] is not None:  # a naive time a clock change skipped/repeated
        raise ConfigError(f"{text!r} {row[1]}", parameter="as_of")
    if row is None or row[0] is None:
        day_start = _start_of_day(con, text)
        if day_start:
            raise ConfigError(
                f"{text!r} is a date, not an instant: write {day_start} for the start of "
                f"that day in {timezone}", parameter="as_of")
        raise ConfigError(
            f"{text!r} is not a timestamp (ISO 8601, e.g. 2026-11-23T02:00:00+08:00)",
            parameter="as_of")
    return iso_text(str(row[0]))


def _start_of_day(con: duckdb.DuckDBPyConnection, text: str) -> str | None:
    """For a date alone (`2026-11-23`): its first instant in the session's time zone, ISO
    8601 with the offset that zone had then (`2026-11-23T00:00:00+08:00`); else None."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        return None
    row = con.execute(
        "SELECT CAST(CAST(TRY_CAST($1 AS DATE) AS TIMESTAMP) AS TIMESTAMPTZ)::VARCHAR",
        [text.strip()]).fetchone()
    return iso_text(str(row[0])) if row and row[0] is not None else None


def _load_inputs(con: duckdb.DuckDBPyConnection, paths: dict[str, Path | None],
                 request: RunRequest) -> tuple[dict[str, InputFile], Snapshot | None]:
    """Every table loaded (the database's first, in one snapshot, so the snapshot is as
    close as it can be to T) and staged, and the snapshot they were read in."""
    snapshot = None
    read: dict[str, InputFile] = {}
    if request.database:
        read, snapshot = read_tables(con, request.database, request.from_database,
                                     request.settings.timezone)
        set_snapshot_variables(con, snapshot)
    inputs = {t.name: read[t.name] if t.name in read else load(con, t, paths[t.name])
              for t in TABLES}
    require_messages(inputs["send_batch"])
    for table in TABLES:
        stage(con, table, inputs[table.name], request.settings.timezone)
    create_input_issues(con, [t for t in TABLES if t.name != "send_batch"], inputs)
    # A staged copy no longer needs its raw table (a CSV's is a full text copy); only
    # send_batch's original rows are written out again, in the split CSVs.
    for table in TABLES:
        if table.name != "send_batch" and not stages_as_view(table, inputs[table.name]):
            drop_relation(con, inputs[table.name].raw_table)
    return inputs, snapshot


def _verdict_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    counts = dict(con.execute("SELECT verdict, count(*) FROM findings GROUP BY ALL").fetchall())
    return {outcome: int(counts.get(outcome, 0)) for outcome in OUTCOMES}


def _flag_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    counts = dict(
        con.execute("SELECT flag, count(*) FROM (SELECT unnest(flags) AS flag FROM findings) "
                    "GROUP BY ALL").fetchall()
    )
    return {flag: int(counts.get(flag, 0)) for flag in FLAGS}


def _input_issue_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    counts = dict(
        con.execute("SELECT table_name, count(*) FROM input_issues GROUP BY ALL").fetchall()
    )
    return {t.name: int(counts.get(t.name, 0)) for t in TABLES if t.name != "send_batch"}
