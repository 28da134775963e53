"""Benchmark reading a night's tables from PostgreSQL against reading them from Parquet.

    .venv/bin/python benchmarks/database_bench.py                        # 1M messages
    .venv/bin/python benchmarks/database_bench.py --messages 100000 --repeat 1
    .venv/bin/python benchmarks/database_bench.py --drop /tmp/benchwd/drop-1000000-parquet

It generates a Parquet drop of --messages messages (run_bench.generate; or takes --drop),
starts a throwaway PostgreSQL 15 on a Unix socket (tests/servers.py), loads the drop into
it with typed columns (NUMERIC, TIMESTAMPTZ, DATE, BIGINT, TEXT) and runs VACUUM ANALYZE;
the load is timed and shown apart, it is not the benchmark. Then, --repeat times (3),
interleaved, each mode runs in a fresh process, so its peak RSS (getrusage
RUSAGE_CHILDREN in a probe) is its own:

- parquet: DuckDB makes raw_<table> from every Parquet file (CREATE TABLE AS read_parquet);
- adbc-reconcile: reconcile's own path, databases.read_tables() for every table (one
  REPEATABLE READ READ ONLY transaction, ADBC COPY to Arrow, rows sorted, digested);
- adbc: the bare client, the same transaction and COPY, each table straight into
  raw_<table>: the like of connectorx below;
- connectorx: connectorx.read_sql(..., return_type="arrow") per table into raw_<table>;
- connectorx-p2: the same, installments read in 2 partitions (partition_on installment_no);
- run-parquet / run-pg: the whole `reconcile run` (--as-of fixed) on the Parquet folder /
  with --source and no DATA_DIR; both runs' findings are then compared per message_id.

Every DuckDB session is set up as a run's (time zone, macros, memory_limit 3GB, a spill
folder). The table shows the median seconds (reading modes: the read alone, timed in the
worker; runs: the process's wall time), the process's median wall time, the largest peak
RSS, and the rows read. It also prints what connectorx does with Unix sockets and
snapshots (checked on the server, not assumed). The server's own memory (its backends and
shared buffers) is not in any RSS shown. Nothing is written into the repository; the
server and the temp folder are removed at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from run_bench import AS_OF, generate  # noqa: E402
from servers import Server, drop_files, running  # noqa: E402

READ_MODES = ("parquet", "adbc-reconcile", "adbc", "connectorx", "connectorx-p2")
RUN_MODES = ("run-parquet", "run-pg")
MODES = READ_MODES + RUN_MODES
# The one table connectorx-p2 reads in partitions, on which column, in how many.
PARTITIONED = ("installments", "installment_no", 2)
# The probe: runs a command, then prints its wall time and peak RSS (MiB) on the last line.
PROBE = (
    "import resource, subprocess, sys, time;"
    "t = time.perf_counter(); code = subprocess.call(sys.argv[1:]);"
    "wall = time.perf_counter() - t;"
    "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024;"
    "print(f'BENCH {code} {wall} {rss}')"
)


# -- the worker: one mode's read, in its own process ---------------------------------------


def duckdb_session(spill: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB set up as `reconcile run` sets up its own (engine._connect)."""
    from reconcile.config import Settings
    from reconcile.nightly.decide import prepare_session

    settings = Settings()
    con = duckdb.connect()
    prepare_session(con, settings.timezone)
    con.execute(f"SET memory_limit = '{settings.memory_limit}'")
    con.execute(f"SET temp_directory = '{spill}'")
    return con


def read_parquet(con: duckdb.DuckDBPyConnection, drop: Path, tables: list[str]) -> None:
    for table in tables:
        con.execute(f"CREATE TABLE raw_{table} AS "
                    f"SELECT * FROM read_parquet('{drop / table}.parquet')")


def read_adbc_reconcile(con: duckdb.DuckDBPyConnection, url: str) -> None:
    """reconcile's read path: every table of the schema, absent optional ones skipped."""
    from reconcile.config import Settings
    from reconcile.nightly.databases import check_source, read_tables
    from reconcile.schema import TABLES_BY_NAME

    read_tables(con, check_source(url, {}), tuple(TABLES_BY_NAME), timezone=Settings().timezone)


def read_adbc(con: duckdb.DuckDBPyConnection, url: str, tables: list[str]) -> None:
    """The ADBC client alone: one snapshot transaction, each table's COPY into DuckDB."""
    import adbc_driver_postgresql.dbapi as adbc_postgresql

    with adbc_postgresql.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")
            materialise(con, table, cursor.fetch_record_batch())
        connection.rollback()


def read_connectorx(con: duckdb.DuckDBPyConnection, url: str, tables: list[str],
                    partitioned: bool) -> None:
    """connectorx per table (each call its own connection and snapshot, see below)."""
    import connectorx

    for table in tables:
        options: dict[str, Any] = {}
        if partitioned and table == PARTITIONED[0]:
            options = {"partition_on": PARTITIONED[1], "partition_num": PARTITIONED[2]}
        arrow = connectorx.read_sql(url, f"SELECT * FROM {table}", return_type="arrow",
                                    **options)
        materialise(con, table, arrow)
        del arrow


def materialise(con: duckdb.DuckDBPyConnection, table: str, arrow: Any) -> None:
    """raw_<table> from an Arrow table or record batch reader."""
    con.register("incoming", arrow)
    try:
        con.execute(f"CREATE TABLE raw_{table} AS SELECT * FROM incoming")
    finally:
        con.unregister("incoming")


def raw_rows(con: duckdb.DuckDBPyConnection) -> int:
    names = [row[0] for row in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'raw_%'").fetchall()]
    return sum(con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]  # type: ignore[index]
               for name in names)


def worker(mode: str, drop: Path, url: str, cx_url: str, tables: list[str],
           spill: Path) -> None:
    """Read as `mode` says, then print the seconds the read took and the rows read."""
    reads: dict[str, Callable[[duckdb.DuckDBPyConnection], None]] = {
        "parquet": lambda con: read_parquet(con, drop, tables),
        "adbc-reconcile": lambda con: read_adbc_reconcile(con, url),
        "adbc": lambda con: read_adbc(con, url, tables),
        "connectorx": lambda con: read_connectorx(con, cx_url, tables, partitioned=False),
        "connectorx-p2": lambda con: read_connectorx(con, cx_url, tables, partitioned=True),
    }
    con = duckdb_session(spill)
    started = time.perf_counter()
    reads[mode](con)
    seconds = time.perf_counter() - started
    print("RESULT " + json.dumps({"seconds": seconds, "rows": raw_rows(con)}), flush=True)
    con.close()


# -- measuring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """One mode's one repeat: seconds (read, or run wall), the process's wall seconds, peak
    RSS (GiB), rows read, and for a run its inputs stage (summary.json) in seconds."""

    seconds: float
    wall: float
    rss_gib: float
    rows: int
    inputs_seconds: float | None = None


def probed(command: list[str], cwd: Path) -> tuple[float, float, list[str]]:
    """Run command in a fresh process under the probe: (wall s, peak RSS GiB, its lines)."""
    done = subprocess.run([sys.executable, "-c", PROBE, *command], cwd=cwd,
                          stdout=subprocess.PIPE, text=True, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not lines[-1].startswith("BENCH "):
        raise SystemExit(f"the probe failed ({done.returncode}): {done.stdout!r}")
    _, code, wall, rss_mib = lines[-1].split()
    if int(code) != 0:
        raise SystemExit(f"{' '.join(command[:4])}… exited {code}: {lines[:-1]!r}")
    return float(wall), float(rss_mib) / 1024, lines[:-1]


def measure_read(mode: str, drop: Path, server: Server, tables: list[str],
                 workdir: Path) -> Measure:
    spill = workdir / f"spill-{mode}"
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", mode,
               "--drop", str(drop), "--url", server.url, "--cx-url", connectorx_url(server),
               "--tables", ",".join(tables), "--spill", str(spill)]
    try:
        wall, rss, lines = probed(command, workdir)
    finally:
        shutil.rmtree(spill, ignore_errors=True)
    [result] = [json.loads(line[7:]) for line in lines if line.startswith("RESULT ")]
    return Measure(result["seconds"], wall, rss, result["rows"])


def measure_run(mode: str, drop: Path, server: Server, out_dir: Path,
                workdir: Path) -> Measure:
    """One `reconcile run` (the CLI) on the Parquet folder or on the database."""
    source = [str(drop)] if mode == "run-parquet" else ["--source", server.url]
    reconcile = Path(sys.executable).with_name("reconcile")
    command = [str(reconcile), "run", *source, "--out", str(out_dir), "--as-of", AS_OF,
               "--quiet"]
    wall, rss, _ = probed(command, workdir)
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    rows = sum(int(table["rows"]) for table in summary["inputs"].values())
    return Measure(wall, wall, rss, rows, float(summary["stage_seconds"]["inputs"]))


def compare_findings(left: Path, right: Path) -> tuple[dict[str, int], list[str]]:
    """Messages, those in one output only, those whose verdict or flags differ; and the
    flags that differ most often."""
    con = duckdb.connect()
    row = con.execute(f"""
        SELECT count(*),
               count(*) FILTER (WHERE a.message_id IS NULL OR b.message_id IS NULL),
               count(*) FILTER (WHERE a.verdict IS DISTINCT FROM b.verdict),
               count(*) FILTER (WHERE list_sort(a.flags) IS DISTINCT FROM list_sort(b.flags)),
               count(*) FILTER (WHERE a.overdue_amount IS DISTINCT FROM b.overdue_amount
                                   OR a.days_past_due IS DISTINCT FROM b.days_past_due)
        FROM read_parquet('{left}/findings.parquet') AS a
        FULL JOIN read_parquet('{right}/findings.parquet') AS b USING (message_id)
    """).fetchone()
    assert row is not None
    keys = ("messages", "unmatched", "verdict_differs", "flags_differ", "amount_or_dpd_differs")
    counts = dict(zip(keys, (int(value) for value in row), strict=True))
    # Which flags make the difference: each flag one side has and the other has not.
    differences = con.execute(f"""
        SELECT side, flag, count(*) AS messages FROM (
            SELECT 'only in {left.name}' AS side, unnest(list_filter(a.flags,
                   lambda f: NOT list_contains(b.flags, f))) AS flag
            FROM read_parquet('{left}/findings.parquet') AS a
            JOIN read_parquet('{right}/findings.parquet') AS b USING (message_id)
            UNION ALL
            SELECT 'only in {right.name}', unnest(list_filter(b.flags,
                   lambda f: NOT list_contains(a.flags, f)))
            FROM read_parquet('{left}/findings.parquet') AS a
            JOIN read_parquet('{right}/findings.parquet') AS b USING (message_id))
        GROUP BY ALL ORDER BY messages DESC LIMIT 10
    """).fetchall()
    con.close()
    return counts, [f"{side}: {flag} on {n:,} messages" for side, flag, n in differences]


# -- the server -----------------------------------------------------------------------------


def connectorx_url(server: Server) -> str:
    """The server's socket in a URL connectorx takes: it refuses libpq's empty host
    (`postgresql://user@/db?host=/dir`: "parse error: empty host"); with a placeholder
    host, ?host=/dir picks the socket (the server listens on no TCP port at all)."""
    return f"postgresql://postgres@localhost/{server.database}?host={server.socket_dir}"


def load(server: Server, drop: Path) -> tuple[list[str], float, float, float]:
    """Load the drop (typed columns) and VACUUM ANALYZE it: the tables, the load and vacuum
    seconds, and the tables' size on the server (GiB)."""
    started = time.perf_counter()
    tables = server.load_drop(drop)
    loaded = time.perf_counter()
    server.execute("VACUUM ANALYZE")
    vacuumed = time.perf_counter()
    [(size,)] = server.execute(
        "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class AS c JOIN pg_namespace AS n "
        "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'")
    return tables, loaded - started, vacuumed - loaded, int(size) / 2**30


def connectorx_findings(server: Server) -> list[str]:
    """What connectorx does with connections and snapshots, checked on this server: whether
    libpq's URL works, whether two calls and two partitions share a backend, and whether a
    row committed after a snapshot was exported is seen plainly and with that snapshot
    pinned by pre_execution_query (BEGIN REPEATABLE READ + SET TRANSACTION SNAPSHOT)."""
    import adbc_driver_postgresql.dbapi as adbc_postgresql
    import connectorx

    url = connectorx_url(server)
    findings = []
    try:
        connectorx.read_sql(server.url, "SELECT 1 AS one", return_type="arrow")
        findings.append(f"libpq's URL {server.url} works")
    except Exception as error:
        findings.append(f"libpq's URL (postgresql://postgres@/db?host=/dir) is refused: "
                        f"{error}; {url} reads over the socket")
    server.execute("CREATE TABLE bench_probe (x BIGINT)")
    server.execute("INSERT INTO bench_probe VALUES (1), (2)")
    try:
        pid_query = "SELECT x, pg_backend_pid() AS pid FROM bench_probe"
        calls = {connectorx.read_sql(url, pid_query, return_type="arrow")["pid"][0].as_py()
                 for _ in range(2)}
        parts = set(connectorx.read_sql(url, pid_query, return_type="arrow", partition_on="x",
                                        partition_num=2)["pid"].to_pylist())
        findings.append(f"2 read_sql calls used {len(calls)} backend(s); one call in 2 "
                        f"partitions used {len(parts)} backend(s) (no BEGIN: autocommit)")
        with adbc_postgresql.connect(server.url) as holder, holder.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()  # type: ignore[misc]
            server.execute("INSERT INTO bench_probe VALUES (3)")
            pinned = ["BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY",
                      f"SET TRANSACTION SNAPSHOT '{snapshot}'"]
            count = "SELECT count(*) AS n FROM bench_probe"
            plain = connectorx.read_sql(url, count, return_type="arrow")["n"][0].as_py()
            seen = connectorx.read_sql(url, count, return_type="arrow",
                                       pre_execution_query=pinned)["n"][0].as_py()
            holder.rollback()
        findings.append(f"a row committed after an exported snapshot (2 rows then, 3 now): "
                        f"plain read_sql sees {plain}; with pre_execution_query pinning the "
                        f"snapshot it sees {seen}")
    finally:
        server.execute("DROP TABLE bench_probe")
    return findings


# -- the report -----------------------------------------------------------------------------


def machine_facts(server: Server) -> str:
    [(postgres,)] = server.execute("SELECT current_setting('server_version')")
    [(shared_buffers,)] = server.execute("SELECT current_setting('shared_buffers')")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in
                         ("duckdb", "adbc-driver-postgresql", "connectorx", "pyarrow"))
    return (f"machine: {platform.machine()}, {platform.system()} {platform.release()}, "
            f"{os.cpu_count()} cores, {memory:.0f} GiB RAM, python "
            f"{platform.python_version()}\nPostgreSQL {postgres} (Unix socket, fsync off, "
            f"shared_buffers {shared_buffers}), {versions}")


def table_lines(measures: dict[str, list[Measure]]) -> list[str]:
    lines = [f"{'mode':<15} {'median s':>9} {'wall s':>7} {'peak RSS GiB':>13} "
             f"{'rows read':>11}  note"]
    for mode, runs in measures.items():
        inputs = [m.inputs_seconds for m in runs if m.inputs_seconds is not None]
        note = f"inputs stage {statistics.median(inputs):.1f} s" if inputs else ""
        lines.append(
            f"{mode:<15} {statistics.median(m.seconds for m in runs):>9.2f} "
            f"{statistics.median(m.wall for m in runs):>7.2f} "
            f"{max(m.rss_gib for m in runs):>13.2f} {runs[-1].rows:>11,}  {note}")
    return lines


def faster_client(measures: dict[str, list[Measure]]) -> str:
    """Which client read faster, the bare ADBC or connectorx (one connection each)."""
    if "adbc" not in measures or "connectorx" not in measures:
        return ""
    adbc = statistics.median(m.seconds for m in measures["adbc"])
    cx = statistics.median(m.seconds for m in measures["connectorx"])
    fast, slow = ("adbc", "connectorx") if adbc <= cx else ("connectorx", "adbc")
    return (f"faster client: {fast}, {max(adbc, cx) / min(adbc, cx):.2f}x "
            f"({min(adbc, cx):.2f} s against {slow}'s {max(adbc, cx):.2f} s)")


# -- main -------------------------------------------------------------------------------------


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A temp folder for the drop, outputs and spill folders, removed at the end."""
    workdir = Path(tempfile.mkdtemp(prefix="reconcile-dbbench-"))
    try:
        yield workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def benchmark(args: argparse.Namespace) -> None:
    modes = [mode for mode in args.modes.split(",") if mode]
    unknown = set(modes) - set(MODES)
    if unknown:
        raise SystemExit(f"unknown modes {sorted(unknown)}; known: {', '.join(MODES)}")
    # A SIGTERM unwinds like Ctrl-C, so the server and the temp folder still go.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with scratch_folder() as workdir:
        drop = args.drop
        if drop is None:
            drop = workdir / f"drop-{args.messages}-parquet"
            started = time.perf_counter()
            generate(drop, args.messages, "parquet")
            print(f"generated {drop} in {time.perf_counter() - started:.1f} s", flush=True)
        with running("postgresql") as server:
            tables, load_s, vacuum_s, size_gib = load(server, drop)
            print(machine_facts(server))
            print(f"drop: {drop} ({_folder_gib(drop):.2f} GiB of Parquet)")
            print(f"load into PostgreSQL (not the benchmark): {load_s:.1f} s, VACUUM ANALYZE "
                  f"{vacuum_s:.1f} s; {size_gib:.2f} GiB on the server")
            if any(mode.startswith("connectorx") for mode in modes):
                for finding in connectorx_findings(server):
                    print(f"connectorx: {finding}")
            measures = measure_all(modes, drop, server, tables, workdir, args.repeat)
            print()
            print("\n".join(table_lines(measures)))
            print(faster_client(measures))
            if set(RUN_MODES) <= set(modes):
                counts, flags = compare_findings(workdir / "out-run-parquet",
                                                 workdir / "out-run-pg")
                print(f"findings of run-pg against run-parquet: {counts}")
                for line in flags:
                    print(f"  {line}")


def measure_all(modes: list[str], drop: Path, server: Server, tables: list[str],
                workdir: Path, repeat: int) -> dict[str, list[Measure]]:
    """Every mode `repeat` times, interleaved, each in a fresh process."""
    measures: dict[str, list[Measure]] = {mode: [] for mode in modes}
    for attempt in range(1, repeat + 1):
        for mode in modes:
            if mode in RUN_MODES:
                measure = measure_run(mode, drop, server, workdir / f"out-{mode}", workdir)
            else:
                measure = measure_read(mode, drop, server, tables, workdir)
            measures[mode].append(measure)
            print(f"  [{attempt}/{repeat}] {mode:<15} {measure.seconds:7.2f} s "
                  f"{measure.rss_gib:5.2f} GiB {measure.rows:>11,} rows", flush=True)
    return measures


def _folder_gib(folder: Path) -> float:
    return sum(path.stat().st_size for path, _ in drop_files(folder)) / 2**30


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000,
                        help="messages in the generated drop (default: 1,000,000)")
    parser.add_argument("--drop", type=Path, default=None,
                        help="a Parquet drop folder to use instead of generating one")
    parser.add_argument("--repeat", type=int, default=3,
                        help="fresh processes per mode, interleaved; medians shown (default 3)")
    parser.add_argument("--modes", default=",".join(MODES),
                        help=f"comma-separated, of {', '.join(MODES)} (default: all)")
    # The worker's own arguments: one mode's read in a fresh process (measure_read).
    parser.add_argument("--worker", choices=READ_MODES, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--cx-url", help=argparse.SUPPRESS)
    parser.add_argument("--tables", help=argparse.SUPPRESS)
    parser.add_argument("--spill", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.drop, args.url, args.cx_url, args.tables.split(","),
               args.spill)
    else:
        benchmark(args)


if __name__ == "__main__":
    main()
