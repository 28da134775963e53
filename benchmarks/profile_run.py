"""Where a `reconcile run` spends its time: DuckDB's own profile of every statement it runs.

    python benchmarks/profile_run.py DATA_DIR [--as-of TS] [--top 12] [--operators 3]

Runs the engine in this process on DATA_DIR (output to a temporary folder) with DuckDB's
JSON profiling on, then prints the costliest statements by wall time, each with what it
creates or writes and its costliest operators (CPU seconds summed over threads, rows out).
The engine is handed (`reconcile.run(connection=...)`) a DuckDB connection that profiles
each statement. A development tool, for docs/performance.md ("where the time goes"); not for
the nightly job.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from reconcile.nightly import engine

_TARGET = re.compile(
    r"(CREATE (?:OR REPLACE )?(?:TABLE|VIEW) \w+|COPY .*? TO '([^']+)')", re.DOTALL)


@dataclass
class Statement:
    label: str
    seconds: float
    operators: list[tuple[float, str, int]] = field(default_factory=list)
    # DuckDB's `system` metrics: the most buffer memory held, the largest spill folder,
    # and the bytes written to it while the statement ran.
    peak_memory: int = 0
    peak_spill: int = 0
    spilled: int = 0


class ProfiledConnection:
    """Forwards everything to a DuckDB connection, profiling each execute() on the way."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, folder: Path) -> None:
        self._connection = connection
        self._profile = folder / "profile.json"
        self.statements: list[Statement] = []
        connection.execute("PRAGMA enable_profiling = 'json'")
        connection.execute(f"SET profiling_output = '{self._profile}'")

    def execute(self, query: str, parameters: Any = None) -> duckdb.DuckDBPyConnection:
        self._profile.unlink(missing_ok=True)
        started = time.perf_counter()
        result = self._connection.execute(query, parameters)
        seconds = time.perf_counter() - started
        profile = json.loads(self._profile.read_text()) if self._profile.exists() else {}
        system = profile.get("system", {})
        self.statements.append(Statement(
            _label(query), seconds, _operators(profile),
            system.get("peak_buffer_memory", 0), system.get("peak_temp_dir_size", 0),
            system.get("total_bytes_spilled", 0)))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def _operators(profile: dict[str, Any]) -> list[tuple[float, str, int]]:
    """(CPU seconds, operator, rows out) of every operator of a statement, costliest first."""
    found: list[tuple[float, str, int]] = []
    stack = list(profile.get("operator", []))
    while stack:
        node = stack.pop()
        found.append((node.get("timing", 0.0), node.get("type", "?"),
                      node.get("intermediate_rows", 0)))
        stack.extend(node.get("children", []))
    return sorted(found, reverse=True)


def _label(query: str) -> str:
    target = _TARGET.search(query)
    if target:
        return f"COPY -> {Path(target.group(2)).name}" if target.group(2) else target.group(1)
    return " ".join(query.split())[:70]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--as-of", default="2026-11-23T01:30:00+08:00")
    parser.add_argument("--top", type=int, default=12, help="statements to show")
    parser.add_argument("--operators", type=int, default=3, help="operators per statement")
    parser.add_argument("--in-order", action="store_true",
                        help="list the statements in the order they ran, not by cost")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reconcile-profile-") as folder:
        scratch = Path(folder)
        # The engine runs in the connection it is handed: this one profiles each statement.
        connection = ProfiledConnection(duckdb.connect(), scratch)
        try:
            started = time.perf_counter()
            result = engine.run(args.data_dir, scratch / "out", as_of=args.as_of,
                                connection=connection)  # type: ignore[arg-type]
            wall = time.perf_counter() - started
        finally:
            connection.close()
    statements = connection.statements
    print(f"{result.messages:,} messages in {wall:.1f} s; stages "
          + ", ".join(f"{k} {v:.1f} s" for k, v in result.stage_seconds.items())
          + f"; {len(statements)} statements")
    chosen = sorted(statements, key=lambda s: -s.seconds)[: args.top]
    if args.in_order:
        chosen = [s for s in statements if s in chosen]
    for statement in chosen:
        spill = (f"  (spilled {statement.spilled / 2**30:.1f} GiB, spill folder at most "
                 f"{statement.peak_spill / 2**30:.1f} GiB)" if statement.spilled else "")
        print(f"{statement.seconds:7.3f} s  {statement.label}  "
              f"[buffers {statement.peak_memory / 2**30:.2f} GiB]{spill}")
        for seconds, operator, rows in statement.operators[: args.operators]:
            print(f"{'':11}{seconds:7.3f}  {operator:<22} rows={rows:,}")


if __name__ == "__main__":
    main()
