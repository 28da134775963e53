"""Read the night's tables from a PostgreSQL or MySQL/MariaDB database, every one inside one
read-only snapshot, into DuckDB as `raw_<table>`: what `inputs.load` gives for a file.

All tables are read on one connection in one transaction (PostgreSQL: REPEATABLE READ READ
ONLY; MySQL: WITH CONSISTENT SNAPSHOT), so they describe one instant of the ledger; that
instant, by the server's clock, and a replica's lag behind its primary are the Snapshot.
PostgreSQL is read through ADBC (libpq's COPY, straight into Arrow); MySQL through PyMySQL,
whose rows are turned into Arrow a batch at a time (docs/databases.md says why).
Credentials never come from the URL: libpq's environment, password and service files for
PostgreSQL; MYSQL_PWD or an option file for MySQL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import warnings
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import duckdb

from reconcile.config import Settings
from reconcile.errors import ConfigError, InputError, ReconcileError, one_line
from reconcile.nightly.inputs import DATABASE_FORMATS, InputFile, check_columns, load
from reconcile.schema import TABLES_BY_NAME, Table
from reconcile.sqlfiles import quote_identifier, read_sql
from reconcile.timestamps import local_isoformat

# URL scheme → the kind of database it names.
POSTGRESQL, MYSQL = DATABASE_FORMATS
SCHEMES = {"postgresql": POSTGRESQL, "postgres": POSTGRESQL, "mysql": MYSQL, "mariadb": MYSQL}
# A table or view named in [sources]: schema-qualified identifiers, as the database reads
# them unquoted. Anything else that is not a SELECT is refused, never spliced into SQL.
_RELATION = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}")
_QUERY = re.compile(r"\s*\(*\s*(SELECT|WITH|VALUES|TABLE)\b", re.IGNORECASE)
# Rows per Arrow batch when a client gives rows (MySQL).
_BATCH_ROWS = 65_536


@dataclass(frozen=True)
class DatabaseSource:
    """Where the database tables of a night come from: a URL with no password, and for
    each table read from it, the table, view or SELECT that gives it."""

    url: str
    relations: dict[str, str]

    @property
    def kind(self) -> str:
        return SCHEMES[urlsplit(self.url).scheme.lower()]

    def relation(self, table: str) -> str:
        """What table is read as: its mapping, else a relation of its own name."""
        return self.relations.get(table, table)

    def label_of_night(self) -> str:
        """What a night read wholly from this database names as its data (summary.json's
        data_dir): the URL, which holds no password."""
        return redact(self.url)

    def label(self, table: str) -> str:
        """How reasons name the table: its relation, or "<table> query" for a SELECT."""
        relation = self.relation(table)
        return f"{table} query" if is_query(relation) else relation


def is_query(relation: str) -> bool:
    return _QUERY.match(relation) is not None


def check_source(url: str, relations: dict[str, str]) -> DatabaseSource:
    """The source, or exit 2 for a URL reconcile cannot read or a mapping it would not run."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES:
        raise ConfigError(f"{redact(url)} is not a database URL (one of "
                          f"{', '.join(s + '://…' for s in SCHEMES)})", parameter="source")
    if parts.password is not None or "password" in parse_qs(parts.query):
        raise ConfigError(
            f"{redact(url)} holds a password, which any user can read in the process list "
            "and logs: give it in the environment (PGPASSWORD, MYSQL_PWD), a password file "
            "(~/.pgpass) or a service file (?service=NAME) instead", parameter="source")
    for table, relation in relations.items():
        if table not in TABLES_BY_NAME:
            raise ConfigError(f"[sources] {table}: not a table of the drop (one of "
                              f"{', '.join(TABLES_BY_NAME)})", parameter="sources")
        if not (is_query(relation) or _RELATION.fullmatch(relation.strip())):
            raise ConfigError(f"[sources] {table}: {relation!r} is neither a table or view "
                              "name (schema.table) nor a SELECT", parameter="sources")
    return DatabaseSource(url, {t: r.strip() for t, r in relations.items()})


def database_for_night(settings: Settings, data_dir_given: bool, under_spark: bool
                       ) -> tuple[DatabaseSource | None, tuple[str, ...]]:
    """The database the settings' [sources] name, checked, and the tables read from it:
    those mapped, or every table when there is no DATA_DIR. Exit 2 for a night with no
    tables to read, or a mapping with nowhere to read it from."""
    mapped, url = settings.table_sources, settings.database_url
    if url is None:
        if mapped and not under_spark:  # under Spark, a mapping names a catalog table
            raise ConfigError(f"{', '.join(sorted(mapped))} is mapped (--table or "
                              "[sources]) but no database is named to read it from: give "
                              "--source URL (or database = URL under [sources]), or "
                              "--engine spark for a catalog table", parameter="sources")
        if not data_dir_given:
            raise ConfigError("give DATA_DIR, or a database to read every table from "
                              "(--source URL)", parameter="data_dir")
        return None, ()
    if under_spark:
        raise ConfigError("a database source is read by the duckdb engine only; under "
                          "--engine spark give its tables as catalog tables",
                          parameter="source")
    database = check_source(url, mapped)
    if not data_dir_given:
        return database, tuple(TABLES_BY_NAME)
    if not mapped:
        raise ConfigError(f"{redact(url)}: no table is read from it: DATA_DIR gives every "
                          "table unless --table or [sources] maps some to the database "
                          "(or leave DATA_DIR out to read every table from it)",
                          parameter="source")
    return database, tuple(t for t in TABLES_BY_NAME if t in mapped)


def redact(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return re.sub(r"(password=)[^&]*", r"\1***", url)
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


@dataclass(frozen=True)
class Snapshot:
    """The one instant every database table of the night was read at."""

    source: str
    kind: str
    # The server's clock when the snapshot was taken, ISO 8601 with offset.
    taken_at: str
    # Seconds a replica was behind its primary; None on a primary, or when not told.
    replication_lag_seconds: float | None
    replica: bool

    def to_dict(self) -> dict[str, object]:
        return {"source": self.source, "kind": self.kind, "taken_at": self.taken_at,
                "replica": self.replica,
                "replication_lag_seconds": self.replication_lag_seconds}


def set_snapshot_variables(con: duckdb.DuckDBPyConnection, snapshot: Snapshot) -> None:
    """The snapshot as the SQL reads it (run_params: snapshot_at, replication_lag_seconds)."""
    con.execute("SET VARIABLE snapshot_at = ?", [snapshot.taken_at])
    con.execute("SET VARIABLE replication_lag_seconds = CAST(? AS DOUBLE)",
                [snapshot.replication_lag_seconds])


def snapshot_warnings(snapshot: Snapshot | None, as_of: str) -> tuple[str, ...]:
    """What a run must say of its snapshot: T later than it (a payment made in between is
    not in what was read), and a replica that did not tell its lag."""
    if snapshot is None:
        return ()
    warnings = []
    behind = dt.datetime.fromisoformat(as_of) - dt.datetime.fromisoformat(snapshot.taken_at)
    if behind > dt.timedelta(0):
        warnings.append(
            f"as-of {as_of} is {_duration(behind)} after the database snapshot "
            f"{snapshot.taken_at}: a payment recorded in between is not in the ledger read")
    if snapshot.replica and snapshot.replication_lag_seconds is None:
        warnings.append(f"{snapshot.source} is a replica that did not report its "
                        "replication lag: the snapshot may be behind its primary")
    return tuple(warnings)


def _duration(span: dt.timedelta) -> str:
    seconds = int(span.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return (f"{hours} h {minutes} min" if hours else
            f"{minutes} min {seconds} s" if minutes else f"{seconds} s")


class _Reader(Protocol):
    """One client's open snapshot: the tables it can see, and a table's rows as Arrow."""

    def snapshot(self) -> tuple[dt.datetime, bool, float | None]: ...

    def exists(self, relation: str) -> bool: ...

    def arrow(self, query: str) -> Any: ...  # a pyarrow RecordBatchReader


def read_tables(con: duckdb.DuckDBPyConnection, source: DatabaseSource,
                tables: Collection[str], timezone: str
                ) -> tuple[dict[str, InputFile], Snapshot]:
    """Load each of `tables` from the database into raw_<table>, all in one snapshot, whose
    instant is told in `timezone`. A table with no mapping and no relation of its name is
    absent when optional, exit 2 when required."""
    with _open(source) as reader:
        taken_at, replica, lag = reader.snapshot()
        snapshot = Snapshot(redact(source.url), source.kind,
                            local_isoformat(taken_at, timezone, "microseconds"),
                            replication_lag_seconds=lag, replica=replica)
        loaded = {name: _read_table(con, reader, source, TABLES_BY_NAME[name], snapshot)
                  for name in tables}
    return loaded, snapshot


def _read_table(con: duckdb.DuckDBPyConnection, reader: _Reader, source: DatabaseSource,
                table: Table, snapshot: Snapshot) -> InputFile:
    relation = source.relation(table.name)
    label = source.label(table.name)
    if table.name not in source.relations and not reader.exists(relation):
        if table.required:
            raise InputError(f"{snapshot.source}: missing required table {table.name} (no "
                             f"table or view {relation}; map it under [sources])")
        return load(con, table, None)
    query = relation if is_query(relation) else f"SELECT * FROM {relation}"
    try:
        batches = reader.arrow(query)
    except Exception as error:  # each client has its own error classes
        raise InputError(f"{label}: cannot be read from {snapshot.source} "
                         f"({one_line(error)})") from error
    incoming = f"incoming_{table.name}"
    con.complete()  # register() refuses while an earlier fetchone() left a result open
    con.register(incoming, batches)
    try:
        columns = tuple(row[0] for row in con.execute(f"DESCRIBE {incoming}").fetchall())
        check_columns(table, label, columns)
        key = tuple(c for c in table.row_key if c in columns)
        con.execute(f"CREATE OR REPLACE TABLE raw_{table.name} AS SELECT * FROM {incoming} "
                    f"ORDER BY {_row_order(key, columns)}")
    finally:
        con.unregister(incoming)
    rows, digest = _digest(con, f"raw_{table.name}", columns, label)
    return InputFile(table.name, None, source.kind, columns, rows, digest, "rowid + 1",
                     label=label, key_columns=key or columns, snapshot_at=snapshot.taken_at)


def _row_order(key: tuple[str, ...], columns: tuple[str, ...]) -> str:
    """Rows in the order of their key, then of every column: a database gives rows in no
    fixed order, and a row's position (source_row) must not change between two reads."""
    return ", ".join(quote_identifier(c) for c in (*key, *(c for c in columns if c not in key)))


def _digest(con: duckdb.DuckDBPyConnection, raw_table: str, columns: tuple[str, ...],
            label: str) -> tuple[int, str]:
    """(rows, a sha256 of the rows whatever their order): the same rows read again give the
    same digest, so a re-run on an unchanged ledger is the same run (history fingerprint)."""
    values = ", ".join(quote_identifier(c) for c in columns)
    [(rows, total)] = con.execute(
        f"SELECT count(*), coalesce(sum(CAST(hash({values}) AS HUGEINT)), 0) "
        f"FROM {raw_table}").fetchall()
    text = "\n".join([label, ",".join(columns), str(rows), str(total)])
    return int(rows), hashlib.sha256(text.encode()).hexdigest()


@contextlib.contextmanager
def _open(source: DatabaseSource) -> Iterator[_Reader]:
    """A reader inside its snapshot transaction; the transaction ends (rolled back: it only
    read) and the connection closes when the block does, whatever happens in it."""
    opener = _PostgresReader if source.kind == POSTGRESQL else _MysqlReader
    try:
        reader = opener(source.url)
    except ImportError as error:
        raise ConfigError(f"reading {source.kind} needs {error.name}, which is not installed:"
                          " pip install 'reconcile[database]'", parameter="source") from error
    except Exception as error:  # a connection the server refused
        raise ReconcileError(f"cannot connect to {redact(source.url)}: "
                             f"{one_line(error)}") from error
    try:
        yield reader
    finally:
        reader.close()


class _PostgresReader:
    """PostgreSQL through ADBC: one REPEATABLE READ READ ONLY transaction."""

    def __init__(self, url: str) -> None:
        import adbc_driver_postgresql.dbapi as adbc_postgresql

        self._connection = adbc_postgresql.connect(url)
        self._cursor = self._connection.cursor()
        # Autocommit is off: the driver opens a transaction, whose first statement fixes
        # its isolation; the snapshot itself is taken by the first query (snapshot()).
        self._cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def snapshot(self) -> tuple[dt.datetime, bool, float | None]:
        self._cursor.execute(read_sql("nightly/sources/postgresql_snapshot.sql"))
        taken_at, replica, lag = self._cursor.fetchone()
        return taken_at, bool(replica), None if lag is None else float(lag)

    def exists(self, relation: str) -> bool:
        self._cursor.execute("SELECT to_regclass($1) IS NOT NULL", parameters=[relation])
        (found,) = self._cursor.fetchone()
        return bool(found)

    def arrow(self, query: str) -> Any:
        self._cursor.execute(query)
        return self._cursor.fetch_record_batch()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._connection.rollback()
        self._connection.close()


class _MysqlReader:
    """MySQL or MariaDB through PyMySQL: one consistent-snapshot, read-only transaction,
    with the session in UTC so TIMESTAMP columns arrive as UTC instants."""

    def __init__(self, url: str) -> None:
        import pymysql

        self._connection = pymysql.connect(**_mysql_arguments(url), autocommit=True,
                                           charset="utf8mb4")
        self._cursor = self._connection.cursor(pymysql.cursors.SSCursor)
        for statement in ("SET SESSION time_zone = '+00:00'",
                          "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
                          "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"):
            self._cursor.execute(statement)

    def snapshot(self) -> tuple[dt.datetime, bool, float | None]:
        self._cursor.execute(read_sql("nightly/sources/mysql_snapshot.sql"))
        (taken_at,) = self._cursor.fetchall()[0]
        replica, lag = self._replication()
        return taken_at.replace(tzinfo=dt.UTC), replica, lag

    def _replication(self) -> tuple[bool, float | None]:
        """(a replica?, its lag): SHOW REPLICA STATUS is empty on a primary."""
        for statement in ("SHOW REPLICA STATUS", "SHOW SLAVE STATUS"):
            try:
                self._cursor.execute(statement)
            except Exception:  # an older server, or no privilege: no lag known
                continue
            names = [d[0] for d in self._cursor.description or ()]
            rows = self._cursor.fetchall()
            if not rows:
                return False, None
            status = dict(zip(names, rows[0], strict=False))
            lag = status.get("Seconds_Behind_Source", status.get("Seconds_Behind_Master"))
            return True, None if lag is None else float(lag)
        return False, None

    def exists(self, relation: str) -> bool:
        *schema, name = relation.split(".")
        self._cursor.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = %s "
            "AND table_schema = coalesce(%s, DATABASE())", (name, schema[-1] if schema else None))
        return bool(self._cursor.fetchall()[0][0])

    def arrow(self, query: str) -> Any:
        import pyarrow as pa

        self._cursor.execute(query)
        description = self._cursor.description or ()
        schema = pa.schema([(d[0], _mysql_arrow_type(d[1])) for d in description])
        return pa.RecordBatchReader.from_batches(schema, self._batches(schema))

    def _batches(self, schema: Any) -> Iterator[Any]:
        import pyarrow as pa

        while rows := self._cursor.fetchmany(_BATCH_ROWS):
            columns = zip(*rows, strict=True)
            yield pa.record_batch(
                [pa.array([_mysql_value(v, f.type) for v in values], type=f.type)
                 for values, f in zip(columns, schema, strict=True)], schema=schema)

    def close(self) -> None:
        # After an error a table's rows may be left unread: dropped with the connection.
        with warnings.catch_warnings(), contextlib.suppress(Exception):
            warnings.simplefilter("ignore")
            self._connection.rollback()
        self._connection.close()


def _mysql_arguments(url: str) -> dict[str, Any]:
    """PyMySQL's connect() arguments from mysql://user@host:port/db?unix_socket=…; the
    password from MYSQL_PWD or an option file (?option_file=PATH), as MySQL's own tools."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    arguments: dict[str, Any] = {"database": unquote(parts.path.lstrip("/")) or None}
    if parts.username:
        arguments["user"] = unquote(parts.username)
    if "unix_socket" in query:
        arguments["unix_socket"] = query["unix_socket"]
    else:
        arguments["host"] = parts.hostname or "localhost"
        arguments["port"] = parts.port or 3306
    if "option_file" in query:
        arguments["read_default_file"] = query["option_file"]
    if os.environ.get("MYSQL_PWD"):
        arguments["password"] = os.environ["MYSQL_PWD"]
    return arguments


def _mysql_arrow_type(type_code: int) -> Any:
    """The Arrow type a MySQL column arrives as. DECIMAL arrives as its text, as PostgreSQL's
    NUMERIC does, so staging checks its places exactly as for a CSV value."""
    import pyarrow as pa
    from pymysql.constants import FIELD_TYPE

    if type_code in (FIELD_TYPE.TINY, FIELD_TYPE.SHORT, FIELD_TYPE.LONG, FIELD_TYPE.LONGLONG,
                     FIELD_TYPE.INT24, FIELD_TYPE.YEAR):
        return pa.int64()
    if type_code in (FIELD_TYPE.DATE, FIELD_TYPE.NEWDATE):
        return pa.date32()
    if type_code == FIELD_TYPE.DATETIME:
        return pa.timestamp("us")
    if type_code == FIELD_TYPE.TIMESTAMP:  # stored as an instant; the session is in UTC
        return pa.timestamp("us", tz="UTC")
    if type_code in (FIELD_TYPE.FLOAT, FIELD_TYPE.DOUBLE):
        return pa.float64()
    return pa.string()


def _mysql_value(value: Any, arrow_type: Any) -> Any:
    """A value as its column's Arrow type takes it. A value the type cannot hold (MySQL's
    zero date '0000-00-00') is empty, so the row is unusable, never silently a date."""
    import pyarrow as pa

    if value is None:
        return None
    if pa.types.is_string(arrow_type):
        if isinstance(value, bytes | bytearray):
            return bytes(value).decode("utf-8", errors="replace")
        return str(value) if not isinstance(value, Decimal) else format(value, "f")
    if pa.types.is_timestamp(arrow_type):
        return value if isinstance(value, dt.datetime) else None
    if pa.types.is_date32(arrow_type):
        return value if isinstance(value, dt.date) else None
    return value
