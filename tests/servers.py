"""Throwaway PostgreSQL 15 and MariaDB servers for tests: each in its own temp folder, on a
Unix socket only, with helpers to load Arrow tables and nightly drop folders into them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import pyarrow as pa

from reconcile.sqlfiles import quote_literal

Kind = Literal["postgresql", "mysql"]

PG_BIN = Path("/usr/lib/postgresql/15/bin")
MARIADBD = Path("/usr/sbin/mariadbd")
MARIADB_INSTALL_DB = Path("/usr/bin/mariadb-install-db")
DATABASE = "reconcile"
# Rows per MariaDB INSERT batch: big enough to be quick, small enough for max_allowed_packet.
MYSQL_BATCH_ROWS = 5_000
START_TIMEOUT_S = 60.0
# A Unix socket path must fit in sun_path (108 bytes on Linux, counting the NUL).
MAX_SOCKET_PATH = 100
DROP_SUFFIXES = (".csv.gz", ".csv", ".parquet")

_fresh_names = itertools.count(1)


def missing_binaries(kind: Kind) -> list[str]:
    """The programs this kind of server needs that are not installed here."""
    if kind == "postgresql":
        needed = [PG_BIN / "initdb", PG_BIN / "pg_ctl", PG_BIN / "postgres"]
    else:
        needed = [MARIADBD, MARIADB_INSTALL_DB]
    return [str(path) for path in needed if not os.access(path, os.X_OK)]


@dataclasses.dataclass
class Server:
    """One running throwaway server, or a view of one database on it (see fresh_database)."""

    kind: Kind
    root: Path  # the temp folder: data, socket and logs; removed by stop()
    database: str = DATABASE
    process: subprocess.Popen[bytes] | None = None  # mariadbd; PostgreSQL runs under pg_ctl
    owns_server: bool = True  # False for a fresh_database() view: its stop() drops the database
    # MariaDB databases that load_table made for `schema.table` names; a view drops them too.
    made_schemas: list[str] = dataclasses.field(default_factory=list)
    _connection: Any = dataclasses.field(default=None, repr=False)

    @property
    def socket_dir(self) -> Path:
        return self.root

    @property
    def mysql_socket(self) -> Path:
        return self.root / "mysqld.sock"

    @property
    def url(self) -> str:
        """The URL a libpq client or the product would use; no password, socket only."""
        if self.kind == "postgresql":
            return f"postgresql://postgres@/{self.database}?host={quote(str(self.socket_dir))}"
        socket = quote(str(self.mysql_socket))
        return f"mysql://root@localhost/{self.database}?unix_socket={socket}"

    def connect(self) -> Any:
        """A new autocommit DB-API connection to this server's database."""
        if self.kind == "postgresql":
            import adbc_driver_postgresql.dbapi

            return adbc_driver_postgresql.dbapi.connect(self.url, autocommit=True)
        import pymysql

        # UTC for the session, so TIMESTAMP values go in and come out as UTC.
        return pymysql.connect(
            unix_socket=str(self.mysql_socket), user="root", database=self.database,
            autocommit=True, charset="utf8mb4", init_command="SET time_zone = '+00:00'",
        )

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement (placeholders: `$1` on PostgreSQL, `%s` on MariaDB); its rows."""
        with contextlib.closing(self._conn().cursor()) as cursor:
            if params is None:
                cursor.execute(sql)
            else:
                cursor.execute(sql, params)
            if cursor.description is None:
                return []
            return [tuple(row) for row in cursor.fetchall()]

    def fresh_database(self) -> Server:
        """A new empty database on this server, as a view whose url and connect() use it."""
        name = f"{DATABASE}_{os.getpid()}_{next(_fresh_names)}"
        if self.kind == "postgresql":
            self.execute(f"CREATE DATABASE {name}")
        else:
            self.execute(f"CREATE DATABASE {name} {MYSQL_CHARSET}")
        return Server(self.kind, self.root, name, self.process, owns_server=False)

    def stop(self) -> None:
        """Stop the server and remove its folder; for a fresh_database() view, drop it."""
        self._close()
        if not self.owns_server:
            self._drop_view_database()
            return
        try:
            if self.kind == "postgresql":
                _pg_ctl(self.root, "stop", "-m", "immediate")
            elif self.process is not None:
                _stop_process(self.process)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def load_table(self, name: str, table: pa.Table, *, as_text: bool = False) -> None:
        """(Re)create table `name` (maybe `schema.table`) with types from Arrow; insert rows.

        as_text makes every column TEXT, so a CSV drop's bad values arrive as they are.
        """
        schema, table_name = _split_name(name)
        table = _all_text(table) if as_text else _canonical(table)
        quoted = self._quote_name(schema, table_name)
        self._ensure_schema(schema)
        self.execute(f"DROP TABLE IF EXISTS {quoted}")
        columns = ", ".join(
            f"{self._quote(field.name)} {column_type(self.kind, field.type)}"
            for field in table.schema
        )
        self.execute(f"CREATE TABLE {quoted} ({columns})")
        if table.num_rows == 0:
            return
        if self.kind == "postgresql":
            self._ingest_postgresql(schema, table_name, table)
        else:
            self._insert_mysql(quoted, table)

    def load_drop(self, drop_dir: Path, *, schema: str | None = None,
                  as_text: bool | None = None) -> list[str]:
        """Load each `<table>.csv[.gz]` / `<table>.parquet` of a drop folder; the tables made.

        CSV is read as all text; Parquet keeps its types. as_text overrides both.
        """
        loaded = []
        for path, table_name in drop_files(drop_dir):
            is_csv = not path.name.endswith(".parquet")
            name = table_name if schema is None else f"{schema}.{table_name}"
            text = is_csv if as_text is None else as_text
            self.load_table(name, read_drop_file(path), as_text=text)
            loaded.append(name)
        return loaded

    # -- helpers ---------------------------------------------------------------------------

    def _conn(self) -> Any:
        # One connection per Server keeps execute() cheap; tests that want their own call
        # connect().
        if self._connection is None:
            self._connection = self.connect()
        return self._connection

    def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None

    def _drop_view_database(self) -> None:
        admin = Server(self.kind, self.root, DATABASE, owns_server=False)
        try:
            if self.kind == "postgresql":
                # FORCE: a test may leave its own connections open.
                admin.execute(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
                return
            for name in [self.database, *self.made_schemas]:
                admin.execute(f"DROP DATABASE IF EXISTS {self._quote(name)}")
        finally:
            admin._close()

    def _quote(self, identifier: str) -> str:
        if self.kind == "postgresql":
            return '"' + identifier.replace('"', '""') + '"'
        return "`" + identifier.replace("`", "``") + "`"

    def _quote_name(self, schema: str | None, table_name: str) -> str:
        if schema is None:
            return self._quote(table_name)
        return f"{self._quote(schema)}.{self._quote(table_name)}"

    def _ensure_schema(self, schema: str | None) -> None:
        if schema is None:
            return
        if self.kind == "postgresql":
            self.execute(f"CREATE SCHEMA IF NOT EXISTS {self._quote(schema)}")
            return
        # On MariaDB a schema is a database beside this one, shared by every view of the
        # server: a view notes the ones it made, so its stop() leaves none behind.
        exists = self.execute(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [schema])
        if not exists:
            self.execute(f"CREATE DATABASE {self._quote(schema)} {MYSQL_CHARSET}")
            self.made_schemas.append(schema)

    def _ingest_postgresql(self, schema: str | None, table_name: str, table: pa.Table) -> None:
        # adbc_ingest streams COPY BINARY; "append" keeps the column types created above.
        with contextlib.closing(self._conn().cursor()) as cursor:
            cursor.adbc_ingest(table_name, table, mode="append", db_schema_name=schema)

    def _insert_mysql(self, quoted: str, table: pa.Table) -> None:
        names = ", ".join(self._quote(name) for name in table.column_names)
        marks = ", ".join(["%s"] * table.num_columns)
        sql = f"INSERT INTO {quoted} ({names}) VALUES ({marks})"
        table = _utc_naive_timestamps(table)
        with contextlib.closing(self._conn().cursor()) as cursor:
            for batch in table.to_batches(max_chunksize=MYSQL_BATCH_ROWS):
                columns = [column.to_pylist() for column in batch.columns]
                cursor.executemany(sql, list(zip(*columns, strict=True)))


# The database's own default, so every table (and a product's CREATE TABLE) stores full
# Unicode and compares ids case-sensitively, as PostgreSQL does.
MYSQL_CHARSET = "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"


def column_type(kind: Kind, arrow_type: pa.DataType) -> str:
    """The SQL column type that holds this Arrow type on this kind of server."""
    postgresql = kind == "postgresql"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) \
            or pa.types.is_string_view(arrow_type) or pa.types.is_null(arrow_type):
        return "TEXT"
    if pa.types.is_decimal(arrow_type):
        name = "NUMERIC" if postgresql else "DECIMAL"
        return f"{name}({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_integer(arrow_type):
        return "BIGINT"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE PRECISION" if postgresql else "DOUBLE"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_date(arrow_type):
        return "DATE"
    if pa.types.is_timestamp(arrow_type):
        if arrow_type.tz is not None:
            # MariaDB's TIMESTAMP is an instant (stored as UTC); NULL so it gets no default.
            return "TIMESTAMPTZ" if postgresql else "TIMESTAMP(6) NULL"
        return "TIMESTAMP" if postgresql else "DATETIME(6)"
    raise TypeError(f"no {kind} column type for Arrow type {arrow_type}")


def drop_files(drop_dir: Path) -> list[tuple[Path, str]]:
    """The input files of a drop folder with the table each one fills, by table name."""
    found = []
    for path in sorted(drop_dir.iterdir()):
        for suffix in DROP_SUFFIXES:
            if path.is_file() and path.name.endswith(suffix):
                found.append((path, path.name[: -len(suffix)]))
                break
    return found


def read_drop_file(path: Path) -> pa.Table:
    """A drop file as Arrow: CSV with every column as text, Parquet with its own types."""
    import duckdb

    literal = quote_literal(str(path))
    if path.name.endswith(".parquet"):
        query = f"SELECT * FROM read_parquet({literal})"
    else:
        query = f"SELECT * FROM read_csv({literal}, header = true, all_varchar = true)"
    with duckdb.connect() as con:
        return con.sql(query).to_arrow_table()


def _split_name(name: str) -> tuple[str | None, str]:
    schema, dot, table_name = name.rpartition(".")
    return (schema if dot else None), table_name


def _all_text(table: pa.Table) -> pa.Table:
    return table.cast(pa.schema([pa.field(f.name, pa.string()) for f in table.schema]))


def _canonical(table: pa.Table) -> pa.Table:
    """table with each column in the one Arrow type that matches its column_type().

    PostgreSQL's binary COPY sends each value in its Arrow width, so an int32 column would
    reach a BIGINT column as 4 bytes and be refused.
    """
    return table.cast(pa.schema([pa.field(f.name, _canonical_type(f.type))
                                 for f in table.schema]))


def _canonical_type(arrow_type: pa.DataType) -> pa.DataType:
    if pa.types.is_integer(arrow_type):
        return pa.int64()
    if pa.types.is_floating(arrow_type):
        return pa.float64()
    if pa.types.is_date(arrow_type):
        return pa.date32()
    if pa.types.is_timestamp(arrow_type):
        # Both servers keep microseconds.
        return pa.timestamp("us", arrow_type.tz)
    if pa.types.is_large_string(arrow_type) or pa.types.is_string_view(arrow_type) \
            or pa.types.is_null(arrow_type):
        return pa.string()
    return arrow_type


def _utc_naive_timestamps(table: pa.Table) -> pa.Table:
    # pymysql writes a datetime's wall clock and drops its tzinfo; Arrow keeps instants as
    # UTC, so casting off the zone gives UTC wall clocks, right for time_zone '+00:00'.
    # Microseconds, because to_pylist() of nanoseconds needs pandas.
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            column = table.column(index).cast(pa.timestamp("us"))
            table = table.set_column(index, field.name, column)
    return table


# -- starting and stopping ----------------------------------------------------------------


def _run_as(user: str) -> list[str]:
    """Prefix that runs a command as user when we are root (both servers refuse root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", user, "--"]
    return []


def _make_root(prefix: str, user: str) -> Path:
    """A fresh temp folder owned by the server's user and readable by everyone."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    # A long TMPDIR would leave no room for the socket name within sun_path.
    if len(str(root)) + len("/.s.PGSQL.5432") > MAX_SOCKET_PATH and Path("/tmp").is_dir():
        root.rmdir()
        root = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(root, user, user)
    root.chmod(0o755)
    return root


def _run(command: list[str], cwd: Path) -> None:
    # cwd: the server's user may not be able to enter ours (as root, /root is 0700).
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )


def _pg_ctl(root: Path, *args: str) -> None:
    _run([*_run_as("postgres"), str(PG_BIN / "pg_ctl"), "-D", str(root / "data"), "-w",
          "-t", str(int(START_TIMEOUT_S)), *args], cwd=root)


def start_postgresql() -> Server:
    """initdb into a fresh temp folder and start PostgreSQL 15 on a Unix socket there."""
    root = _make_root("reconcile-pg-", "postgres")
    try:
        # --no-sync: the cluster is thrown away, so a crash-safe initdb only costs time.
        _run([*_run_as("postgres"), str(PG_BIN / "initdb"), "-D", str(root / "data"),
              "--auth=trust", "-U", "postgres", "--encoding=UTF8", "--locale=C", "--no-sync"],
             cwd=root)
        # Settings go in the file rather than `pg_ctl -o`, which a shell would re-split.
        settings = {
            "listen_addresses": "",
            "unix_socket_directories": str(root),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            # The same clock for every test, whatever the machine's zone.
            "timezone": "UTC",
        }
        with (root / "data" / "postgresql.conf").open("a", encoding="utf-8") as conf:
            for key, value in settings.items():
                conf.write(f"{key} = '{value}'\n")
        _pg_ctl(root, "start", "-l", str(root / "postgresql.log"))
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return _with_test_database(Server("postgresql", root, database="postgres"),
                               f"CREATE DATABASE {DATABASE}")


def start_postgresql_replica(primary: Server) -> Server:
    """A hot standby of a start_postgresql() server, streaming from it over its socket:
    pg_basebackup -R into a fresh temp folder, started on a socket of its own."""
    root = _make_root("reconcile-pg-replica-", "postgres")
    try:
        _run([*_run_as("postgres"), str(PG_BIN / "pg_basebackup"), "-D", str(root / "data"),
              "-R", "-X", "stream", "--no-sync", "--checkpoint=fast",
              "-h", str(primary.socket_dir),
              "-U", "postgres"], cwd=root)
        # The primary's settings came along; the later line wins: a socket of its own.
        with (root / "data" / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(f"unix_socket_directories = '{root}'\n")
        _pg_ctl(root, "start", "-l", str(root / "postgresql.log"))
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return Server("postgresql", root, database=primary.database)


def start_mariadb() -> Server:
    """mariadb-install-db into a fresh temp folder and start mariadbd on a Unix socket."""
    root = _make_root("reconcile-mariadb-", "mysql")
    data = root / "data"
    as_root = os.geteuid() == 0
    user = ["--user=mysql"] if as_root else []
    try:
        # --no-defaults first: /etc/mysql's configs must not choose paths or ports for us.
        _run([str(MARIADB_INSTALL_DB), "--no-defaults", *user, f"--datadir={data}",
              "--auth-root-authentication-method=normal", "--skip-test-db"], cwd=root)
        process = subprocess.Popen(
            [str(MARIADBD), "--no-defaults", f"--datadir={data}",
             f"--socket={root / 'mysqld.sock'}", f"--pid-file={root / 'mysqld.pid'}",
             "--skip-networking", *user, "--innodb-flush-log-at-trx-commit=0",
             "--default-time-zone=+00:00", f"--log-error={root / 'mariadb.log'}"],
            cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    server = Server("mysql", root, database="mysql", process=process)
    try:
        _wait_for_mariadb(server)
    except BaseException:
        server.stop()
        raise
    return _with_test_database(server, f"CREATE DATABASE {DATABASE} {MYSQL_CHARSET}")


def _with_test_database(server: Server, create: str) -> Server:
    """The just-started server, connected through its system database, now with the tests'
    database made (`create`) and in use; stopped if that fails."""
    try:
        server.execute(create)
    except BaseException:
        server.stop()
        raise
    server._close()
    server.database = DATABASE
    return server


def _wait_for_mariadb(server: Server) -> None:
    import pymysql

    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        assert server.process is not None
        if server.process.poll() is not None:
            raise RuntimeError(f"mariadbd exited ({server.process.returncode}):\n"
                               + _log_tail(server.root / "mariadb.log"))
        if server.mysql_socket.exists():
            try:
                server.execute("SELECT 1")
                return
            except pymysql.err.OperationalError:
                server._close()
        if time.monotonic() > deadline:
            raise RuntimeError("mariadbd did not answer in time:\n"
                               + _log_tail(server.root / "mariadb.log"))
        time.sleep(0.05)


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    # SIGTERM is mariadbd's clean shutdown; kill only if it hangs.
    process.terminate()
    try:
        process.wait(timeout=START_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


@contextlib.contextmanager
def running(kind: Kind) -> Iterator[Server]:
    """A started server of this kind, stopped and removed when the block ends."""
    server = start_postgresql() if kind == "postgresql" else start_mariadb()
    try:
        yield server
    finally:
        server.stop()
