"""The run history: each recorded run as immutable Parquet files, and a DuckDB catalog of views.

    HISTORY                 the catalog (`--db`): views only, over the files below
    HISTORY.d/findings/night=YYYY-MM-DD/<run_id>.parquet   the run's messages and evidence
    HISTORY.d/runs/night=YYYY-MM-DD/<run_id>.parquet       one row; its presence records the run
    HISTORY.lock            held by the one run that writes
    HISTORY.key             the pseudonym key, unless the environment or the config names one

A run is recorded by writing its two files aside and renaming them into place, findings first
and runs last: a run is recorded exactly when its runs file exists, and the catalog's views
show only recorded runs, so a kill at any point leaves the views whole. Runs never write the
catalog: its views read the files by pattern, so a new night appears without touching it.
The catalog is rebuilt (aside, then renamed over the old one) only when it is missing or
older than this version's schema. So readers, however many and however long, never block
the writer, and Spark, Trino, polars or pandas read the Parquet folders without reconcile.

The columns are defined once, by the numbered migrations in sql/history/, applied to an
in-memory schema each time a run is recorded. A history in the earlier single-file layout
is migrated once, on first use (docs/history.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from reconcile import atomic, locks
from reconcile.checks import FLAGS, judging_sql_digest
from reconcile.config import DEFAULT_TIMEZONE, PSEUDONYMISED, Settings
from reconcile.errors import ConfigError, ReconcileError, one_line
from reconcile.history import views
from reconcile.records import first_record, records
from reconcile.result import PreviousNight
from reconcile.sqlfiles import quote_identifier, quote_literal, sql_root
from reconcile.timestamps import iso_text

if TYPE_CHECKING:
    from reconcile.result import RunResult

_MIGRATION_NAME = re.compile(r"^(\d+)_(\w+)\.sql$")
# The in-memory schema a run's history rows are built in before they are written out.
STAGING_SCHEMA = "history_record"
# Written first to last: a run's runs file is its commit record.
RECORDED_TABLES = ("findings", "runs")
# The Hive-style partition of every history file: the run's local night.
PARTITION = "night"
# A zero-row file per table that keeps the catalog's file patterns matching when no run is
# recorded (a new or fully pruned history). Engines skip files named `_*` by convention;
# DuckDB reads it as no rows.
SCHEMA_PARTITION = f"{PARTITION}=0001-01-01"
SCHEMA_FILE = "_schema.parquet"
# The pseudonym key may come from the environment (a secret store), before any file.
KEY_ENVIRONMENT = "RECONCILE_HISTORY_KEY"
# Columns of findings that identify a person and are pseudonymised by default.
PERSONAL_COLUMNS = ("phone", "borrower_name")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """sql/history/migrations/NNN_name.sql in version order; a repeated version is refused."""
    found: dict[int, Migration] = {}
    for file in sql_root().joinpath("history", "migrations").iterdir():
        match = _MIGRATION_NAME.match(file.name)
        if not match:
            continue
        version = int(match.group(1))
        if version in found:
            raise ValueError(f"two history migrations numbered {version}")
        found[version] = Migration(version, match.group(2), file.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def schema_version() -> int:
    return migrations()[-1].version


@dataclass(frozen=True)
class HistoryPaths:
    """Where a history's parts live, all derived from the catalog path given as `--db`."""

    catalog: Path

    @classmethod
    def of(cls, db_path: str | os.PathLike[str]) -> HistoryPaths:
        return cls(Path(db_path).absolute())

    def _beside(self, suffix: str) -> Path:
        return self.catalog.with_name(self.catalog.name + suffix)

    @property
    def data(self) -> Path:
        return self._beside(".d")

    @property
    def lock(self) -> Path:
        return self._beside(".lock")

    @property
    def default_key(self) -> Path:
        return self._beside(".key")

    @property
    def legacy_backup(self) -> Path:
        """Where a history in the single-file layout is kept after its migration."""
        return self._beside(".layout1")

    @property
    def staging(self) -> Path:
        """Files being written; only the lock holder writes or clears it."""
        return self.data / ".staging"

    def folder(self, table: str) -> Path:
        return self.data / table

    def pattern(self, table: str) -> str:
        return str(self.folder(table) / "*" / "*.parquet")

    def file(self, table: str, night: str, run_id: str) -> Path:
        return self.folder(table) / f"{PARTITION}={night}" / f"{run_id}.parquet"


def fingerprint(result: RunResult) -> str:
    """What makes two runs the same: the input files' contents, the as-of, the settings that
    decide verdicts and the version and SQL that judged them. Resources (memory, threads,
    spill folder) and how the history is kept do not: a re-run with more memory is the same
    run; a re-run after an upgrade, or with a check added, is a new one."""
    identity = {
        "inputs": {name: f.sha256 for name, f in sorted(result.inputs.items())},
        "as_of": result.as_of,
        "settings": result.settings.judging(),
        "reconcile_version": result.version,
        "judging_sql": judging_sql_digest(),
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def locked(db_path: Path, run_id: str, wait_seconds: float = 0) -> AbstractContextManager[None]:
    """Hold `<db>.lock` while writing; a second writer is refused (exit 75) with the holder's
    name, after waiting up to wait_seconds for it to finish. Readers take no lock."""
    paths = HistoryPaths.of(db_path)
    return locks.exclusive(paths.lock, run_id, f"history {db_path}", wait_seconds)


# --- opening for writing: migrate, heal, stage -------------------------------------------


@contextlib.contextmanager
def maintenance(db_path: str | os.PathLike[str], settings: Settings | None = None,
                wait_seconds: float = 0, task: str = "maintenance"
                ) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    """Hold the history's writer lock outside a run (migrate, prune), with it prepared:
    yields an in-memory session and the history path."""
    path = Path(db_path)
    with locks.exclusive(HistoryPaths.of(path).lock, f"history {task}", f"history {path}",
                         wait_seconds), contextlib.closing(duckdb.connect()) as con:
        con.execute("SET enable_progress_bar = false")
        prepare(con, path, settings or Settings())
        yield con, path


def prepare(con: duckdb.DuckDBPyConnection, db_path: Path, settings: Settings) -> None:
    """Make the history ready to record into; call while holding `locked`.

    Migrates a single-file history once, removes what a killed writer left (its staging
    files, a findings file whose runs file never arrived), and (re)builds the catalog when
    it is missing or older than this version.
    """
    paths = HistoryPaths.of(db_path)
    if paths.catalog.exists() and not paths.catalog.is_file():
        raise ConfigError(f"{db_path} is a folder, not a history catalog file",
                          parameter="history_db")
    if _is_legacy(paths):
        _migrate_legacy(con, paths, settings)
    _heal(paths)
    if not _catalog_is_current(paths):
        build_catalog(con, paths)


def _heal(paths: HistoryPaths) -> None:
    shutil.rmtree(paths.staging, ignore_errors=True)
    recorded = set(_run_files(paths))
    for night, run_id, path in _files(paths, "findings"):
        if (night, run_id) not in recorded:
            path.unlink()


def _files(paths: HistoryPaths, table: str) -> Iterator[tuple[str, str, Path]]:
    """(night, run_id, path) of every run file of `table` (not the schema file)."""
    for partition in sorted(paths.folder(table).glob(f"{PARTITION}=*")):
        night = partition.name.split("=", 1)[1]
        for path in sorted(partition.glob("*.parquet")):
            if not path.name.startswith(("_", ".")):
                yield night, path.stem, path


def _run_files(paths: HistoryPaths) -> dict[tuple[str, str], Path]:
    return {(night, run_id): path for night, run_id, path in _files(paths, "runs")}


# --- the catalog ---------------------------------------------------------------------------


def _catalog_is_current(paths: HistoryPaths) -> bool:
    """The catalog exists, reads, names this data folder and has this schema version.
    Opened read-only: many readers may hold it, and none is disturbed."""
    if not paths.catalog.is_file():
        return False
    try:
        with contextlib.closing(duckdb.connect(str(paths.catalog), read_only=True)) as con:
            layout = first_record(con.execute(
                "SELECT data_folder, schema_version, catalog_digest FROM history_layout"))
    except duckdb.Error:  # no catalog_digest: a catalog built before flags had their table
        return False
    return (layout is not None and layout["data_folder"] == str(paths.data)
            and layout["schema_version"] == schema_version()
            and layout["catalog_digest"] == catalog_digest())


def build_catalog(con: duckdb.DuckDBPyConnection, paths: HistoryPaths) -> None:
    """Write a fresh catalog aside and rename it over the old one (a reader holding the old
    file keeps reading it until it reconnects)."""
    _create_staging_tables(con)
    paths.staging.mkdir(parents=True, exist_ok=True)
    for table in RECORDED_TABLES:
        aside = paths.staging / f"{table}{SCHEMA_FILE}"
        _write_parquet(con, f"SELECT * FROM {STAGING_SCHEMA}.{table} LIMIT 0", aside)
        schema_file = paths.folder(table) / SCHEMA_PARTITION / SCHEMA_FILE
        schema_file.parent.mkdir(parents=True, exist_ok=True)
        atomic.publish(aside, schema_file)  # a reader never sees half a file
    fresh = paths.staging / f"catalog-{secrets.token_hex(4)}.duckdb"
    with contextlib.closing(duckdb.connect(str(fresh))) as catalog:
        catalog.execute("SET enable_progress_bar = false")
        catalog.execute(catalog_sql(paths))
        catalog.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                        "name VARCHAR NOT NULL)")
        catalog.executemany("INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                            [[m.version, m.name] for m in migrations()])
        catalog.execute("CREATE TABLE history_layout AS SELECT CAST(? AS VARCHAR) AS "
                        "data_folder, CAST(? AS INTEGER) AS schema_version, "
                        "CAST(? AS VARCHAR) AS catalog_digest, now() AS built_at",
                        [str(paths.data), schema_version(), catalog_digest()])
        views.create_views(catalog)
        catalog.execute("CHECKPOINT")
    atomic.publish(fresh, paths.catalog, durable=True)


def catalog_digest() -> str:
    """What a catalog is built from besides its migrations and its data folder: catalog.sql,
    the flags it reads old reasons by, the views and flag_definitions. A catalog built from
    others (a flag added, a view or catalog.sql changed) is built again."""
    text = read_history_sql("catalog.sql") + "|".join(FLAGS) + views.views_digest()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def catalog_sql(paths: HistoryPaths) -> str:
    """sql/history/catalog.sql with its placeholders filled in for this history."""
    return (read_history_sql("catalog.sql")
            .replace("{findings_files}", quote_literal(paths.pattern("findings")))
            .replace("{runs_files}", quote_literal(paths.pattern("runs")))
            .replace("{flag_names}", "|".join(FLAGS)))


def read_history_sql(name: str) -> str:
    return sql_root().joinpath("history", name).read_text(encoding="utf-8")


def _create_staging_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Empty `runs` and `findings` in an in-memory schema, made by every migration in order:
    the one definition of the history's columns."""
    con.execute(f"DROP SCHEMA IF EXISTS memory.{STAGING_SCHEMA} CASCADE")
    con.execute(f"CREATE SCHEMA memory.{STAGING_SCHEMA}")
    con.execute(f"USE memory.{STAGING_SCHEMA}")
    try:
        for migration in migrations():
            con.execute(migration.sql)
    finally:
        con.execute("USE memory.main")


def _write_parquet(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    """COPY a query to a Parquet file, JSON columns as text so every engine reads them."""
    listed = ", ".join(
        f"CAST({quote_identifier(name)} AS VARCHAR) AS {quote_identifier(name)}"
        if kind == "JSON" else quote_identifier(name)
        for name, kind in _column_types(con, query).items())
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY (SELECT {listed} FROM ({query})) TO {quote_literal(str(path))} "
                "(FORMAT parquet, COMPRESSION zstd)")


# --- reading the recorded runs -------------------------------------------------------------


def _runs_relation(paths: HistoryPaths) -> str:
    return (f"read_parquet({quote_literal(paths.pattern('runs'))}, union_by_name = true, "
            "hive_partitioning = false)")


def previous_night(con: duckdb.DuckDBPyConnection, db_path: Path,
                   as_of: str) -> PreviousNight | None:
    """The run recorded with the latest as-of before `as_of` (INCOMPLETE_FEED compares
    tonight's tables with its), or None for a new history."""
    paths = HistoryPaths.of(db_path)
    if not paths.folder("runs").is_dir():
        return None
    run = first_record(con.execute(
        f"SELECT run_id, CAST(as_of AS VARCHAR) AS as_of, CAST(inputs AS VARCHAR) AS inputs "
        f"FROM {_runs_relation(paths)} WHERE as_of < CAST(? AS TIMESTAMPTZ) "
        "ORDER BY as_of DESC, finished_at DESC LIMIT 1", [as_of]))
    if run is None:
        return None
    inputs = json.loads(run["inputs"])
    return PreviousNight(str(run["run_id"]), iso_text(str(run["as_of"])),
                         {name: int(table["rows"]) for name, table in inputs.items()})


def recorded_run(con: duckdb.DuckDBPyConnection, db_path: Path,
                 run_fingerprint: str) -> str | None:
    """The run already recorded with this fingerprint, if any."""
    paths = HistoryPaths.of(db_path)
    if not paths.folder("runs").is_dir():
        return None
    run = first_record(con.execute(
        f"SELECT run_id FROM {_runs_relation(paths)} WHERE fingerprint = ? "
        "ORDER BY finished_at LIMIT 1", [run_fingerprint]))
    return None if run is None else str(run["run_id"])


# --- recording a run -----------------------------------------------------------------------


def record(con: duckdb.DuckDBPyConnection, db_path: Path, result: RunResult,
           run_fingerprint: str, finished_at: str) -> None:
    """Write the run and its findings as two Parquet files, published findings first."""
    paths = HistoryPaths.of(db_path)
    settings = result.settings
    key = pseudonym_key(paths, settings)
    _create_staging_tables(con)
    _create_personal_macro(con, settings.history_personal_data, key)
    counts = result.verdict_counts
    con.execute(
        f"INSERT INTO {STAGING_SCHEMA}.runs BY NAME SELECT "
        "? AS run_id, ? AS fingerprint, 'completed' AS status, "
        "CAST(? AS TIMESTAMPTZ) AS as_of, CAST(? AS TIMESTAMPTZ) AS started_at, "
        "CAST(? AS TIMESTAMPTZ) AS finished_at, ? AS duration_seconds, ? AS data_dir, "
        "? AS out_dir, ? AS reconcile_version, ? AS inputs, ? AS settings, ? AS messages, "
        "? AS sent, ? AS held, ? AS blocked, ? AS rejected, ? AS verdicts, ? AS flags, "
        "? AS warnings, ? AS personal_data, ? AS pseudonym_key_id, "
        "CAST(? AS TIMESTAMPTZ) AS snapshot_at, ? AS snapshot",
        [result.run_id, run_fingerprint, result.as_of, result.started_at, finished_at,
         result.duration_seconds, result.data_dir, result.out_dir, result.version,
         _json({n: f.to_dict() for n, f in result.inputs.items()}),
         _json(settings.to_dict()), result.messages, counts["send"], counts["hold"],
         counts["block"], counts["rejected"], _json(counts), _json(result.flag_counts),
         list(result.warnings), settings.history_personal_data,
         key_id(key) if settings.history_personal_data == PSEUDONYMISED else None,
         result.snapshot["taken_at"] if result.snapshot else None,
         _json(result.snapshot) if result.snapshot else None],
    )
    con.execute("SET VARIABLE history_run_id = ?", [result.run_id])
    _publish_staged(con, paths, result.run_id, read_history_sql("record_findings.sql"))


def _column_types(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    """{column name: type} of a table or query, in its column order."""
    return {row["column_name"]: row["column_type"]
            for row in records(con.execute(f"DESCRIBE {relation}"))}


def _conformed(con: duckdb.DuckDBPyConnection, table: str, source: str) -> str:
    """The rows of `source` in the columns and types of the staging `table`, matched by
    name (a column the source lacks is NULL, one the table lacks is left out; the order of
    either's columns does not matter): a write straight from the run's tables, with no copy
    in between, that still has exactly the history's schema. This is how a run's findings
    (sql/history/record_findings.sql) and a legacy history's rows are written: by name,
    as an INSERT ... BY NAME would, without the INSERT's copy."""
    given = _column_types(con, source)
    listed = ", ".join(
        f"CAST({quote_identifier(name) if name in given else 'NULL'} AS {kind}) "
        f"AS {quote_identifier(name)}"
        for name, kind in _column_types(con, f"{STAGING_SCHEMA}.{table}").items())
    return f"SELECT {listed} FROM ({source})"


def _publish_staged(con: duckdb.DuckDBPyConnection, paths: HistoryPaths, run_id: str,
                    findings: str) -> None:
    """The staged runs row and the `findings` query's rows as the run's two files: both
    written aside, then each flushed and renamed into its night (findings first)."""
    (night,) = con.execute(
        "SELECT CAST(timezone(coalesce(CAST(settings ->> 'timezone' AS VARCHAR), ?), as_of) "
        f"AS DATE) FROM {STAGING_SCHEMA}.runs", [DEFAULT_TIMEZONE]).fetchone() or (None,)
    aside = paths.staging / run_id
    written = {}
    sources = {"findings": _conformed(con, "findings", findings),
               "runs": f"SELECT * FROM {STAGING_SCHEMA}.runs"}
    for table in RECORDED_TABLES:
        written[table] = aside / f"{table}.parquet"
        _write_parquet(con, sources[table], written[table])
    for table in RECORDED_TABLES:
        target = paths.file(table, str(night), run_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic.publish(written[table], target, durable=True)
    shutil.rmtree(aside, ignore_errors=True)
    con.execute(f"DROP SCHEMA memory.{STAGING_SCHEMA} CASCADE")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# --- personal data -------------------------------------------------------------------------


def pseudonym_key(paths: HistoryPaths, settings: Settings, create: bool = True) -> bytes:
    """The key of the keyed hash: $RECONCILE_HISTORY_KEY, else the `history_key_file`
    setting's file, else HISTORY.key (made on first use unless `create` is false, readable
    by its owner only)."""
    from_environment = os.environ.get(KEY_ENVIRONMENT, "")
    if from_environment.strip():
        return from_environment.strip().encode()
    if settings.history_key_file:
        path = Path(settings.history_key_file)
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ConfigError(f"history_key_file {path}: cannot be read "
                              f"({error.strerror})") from error
        if not text:
            raise ConfigError(f"history_key_file {path}: the file is empty")
        return text.encode()
    if not create and not paths.default_key.is_file():
        raise ConfigError(f"no pseudonym key: {paths.default_key} does not exist, "
                          f"${KEY_ENVIRONMENT} is not set and no history_key_file is "
                          "configured")
    return _default_key(paths.default_key)


def _default_key(path: Path) -> bytes:
    """HISTORY.key's key, made first if there is none. It is written whole under another
    name and then linked into place, which fails if the file exists: two first runs at
    once keep the same key, and neither reads a file the other has begun but not written."""
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        written = atomic.temporary_sibling(path)
        descriptor = os.open(written, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_hex(32) + "\n")
            atomic.fsync_path(written)
            with contextlib.suppress(FileExistsError):
                os.link(written, path)
        finally:
            written.unlink()
    key = path.read_text(encoding="utf-8").strip()
    if not key:
        raise ConfigError(f"{path}: the pseudonym key file is empty")
    return key.encode()


def pseudonym(key: bytes, value: str) -> str:
    """HMAC-SHA256 of the value's UTF-8 bytes, as hex: what the history stores for it."""
    import hmac

    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    """A short name for a key, recorded with each run: two runs with the same key id share
    pseudonyms; a changed key shows as a changed id."""
    return pseudonym(key, "reconcile history key id")[:16]


def _create_personal_macro(con: duckdb.DuckDBPyConnection, mode: str, key: bytes) -> None:
    """history_personal(v): the value as the history keeps it. HMAC-SHA256 written with
    DuckDB's sha256, so a million phones take about a second and never leave the engine."""
    if mode == "clear":
        con.execute("CREATE OR REPLACE MACRO history_personal(v) AS v")
        return
    block = key if len(key) <= 64 else hashlib.sha256(key).digest()
    block = block.ljust(64, b"\0")
    inner = bytes(b ^ 0x36 for b in block).hex()
    outer = bytes(b ^ 0x5C for b in block).hex()
    con.execute(
        "CREATE OR REPLACE MACRO history_personal(v) AS "
        f"sha256(unhex('{outer}') || unhex(sha256(unhex('{inner}') || encode(v))))")


# --- the single-file layout of earlier versions --------------------------------------------


def _is_legacy(paths: HistoryPaths) -> bool:
    """A history file of the earlier layout: a DuckDB file with a `runs` table (not view)."""
    if not paths.catalog.is_file() or paths.catalog.stat().st_size == 0:
        return False
    try:
        with contextlib.closing(duckdb.connect(str(paths.catalog), read_only=True)) as con:
            return holds_legacy_tables(con)
    except duckdb.Error as error:
        if paths.data.is_dir():
            # A catalog of this layout that a writable session holds: it is rebuilt aside.
            return False
        raise ReconcileError(f"history {paths.catalog}: cannot be opened "
                             f"({one_line(error)})") from error


def holds_legacy_tables(con: duckdb.DuckDBPyConnection) -> bool:
    """The open database is a history of the single-file layout: `runs` is a table, not
    this layout's view."""
    (kind,) = con.execute("SELECT max(table_type) FROM information_schema.tables "
                          "WHERE table_name = 'runs'").fetchone() or (None,)
    return bool(kind == "BASE TABLE")


def _migrate_legacy(con: duckdb.DuckDBPyConnection, paths: HistoryPaths,
                    settings: Settings) -> None:
    """Copy every run of a single-file history into the Parquet layout, then keep the old
    file as HISTORY.layout1 and put the new catalog in its place. Idempotent: a migration
    killed half way is simply done again (each run's files are rewritten whole)."""
    if paths.catalog.with_name(paths.catalog.name + ".wal").exists():
        raise ReconcileError(
            f"history {paths.catalog}: has an unfinished write-ahead log; open it once with "
            "`duckdb` (not read-only) to finish it, then run again")
    legacy = "legacy_history"
    con.execute(f"ATTACH {quote_literal(str(paths.catalog))} AS {legacy} (READ_ONLY)")
    try:
        run_ids = [r for (r,) in con.execute(
            f"SELECT run_id FROM {legacy}.runs ORDER BY as_of, finished_at").fetchall()]
        key = pseudonym_key(paths, settings)
        mode = settings.history_personal_data
        for run_id in run_ids:
            _create_staging_tables(con)
            _create_personal_macro(con, mode, key)
            con.execute(f"INSERT INTO {STAGING_SCHEMA}.runs BY NAME SELECT * "
                        f"FROM {legacy}.runs WHERE run_id = ?", [run_id])
            con.execute(f"UPDATE {STAGING_SCHEMA}.runs SET personal_data = ?, "
                        "pseudonym_key_id = ?",
                        [mode, key_id(key) if mode == PSEUDONYMISED else None])
            personal = ", ".join(f"history_personal({c}) AS {c}" for c in PERSONAL_COLUMNS)
            _publish_staged(con, paths, run_id,
                            f"SELECT * REPLACE ({personal}) FROM {legacy}.findings "
                            f"WHERE run_id = {quote_literal(run_id)}")
    finally:
        con.execute(f"DETACH {legacy}")
    recorded = {run_id for _, run_id in _run_files(paths)}
    missing = sorted(set(run_ids) - recorded)
    if missing:  # never replace the old file unless every run is in the new layout
        raise ReconcileError(f"history {paths.catalog}: migration lost runs {missing[:3]}")
    if not paths.legacy_backup.exists():
        os.link(paths.catalog, paths.legacy_backup)
    build_catalog(con, paths)


# --- retention -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pruned:
    """What `prune` removed: runs (and their findings) of nights before `before`."""

    before: str
    runs: list[str]
    nights: list[str]
    bytes_freed: int


def migrate_history(db_path: str | os.PathLike[str], settings: Settings | None = None,
                    wait_seconds: float = 0) -> None:
    """Take the writer lock and bring the history to this version's layout now
    (`reconcile history migrate`); a current history is left as it is."""
    with maintenance(db_path, settings, wait_seconds, "migrate"):
        pass


def prune_history(db_path: str | os.PathLike[str], keep_days: int, *, today: dt.date,
                  settings: Settings | None = None, wait_seconds: float = 0) -> Pruned:
    """Take the writer lock and remove the runs of nights more than keep_days before today
    (`reconcile history prune`)."""
    if keep_days < 1:
        raise ConfigError("no number of days to keep: give one, or set history_keep_days "
                          f"(0 keeps every run), got {keep_days}", parameter="keep_days")
    with maintenance(db_path, settings, wait_seconds, "prune") as (_, path):
        return prune(path, str(today - dt.timedelta(days=keep_days)))


def prune(db_path: Path, before_night: str) -> Pruned:
    """Remove every recorded run of a night before `before_night` (YYYY-MM-DD); call while
    holding `locked`. The runs file goes first (the run is no longer recorded), then its
    findings; an emptied night folder is removed."""
    paths = HistoryPaths.of(db_path)
    removed: list[str] = []
    nights: set[str] = set()
    freed = 0
    for (night, run_id), runs_file in _run_files(paths).items():
        if night >= before_night:
            continue
        for path in (runs_file, paths.file("findings", night, run_id)):
            if path.exists():
                freed += path.stat().st_size
                path.unlink()
        removed.append(run_id)
        nights.add(night)
    for table in RECORDED_TABLES:
        for partition in paths.folder(table).glob(f"{PARTITION}=*"):
            if partition.name != SCHEMA_PARTITION and not any(partition.iterdir()):
                partition.rmdir()
    return Pruned(before_night, removed, sorted(nights), freed)
