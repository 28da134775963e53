"""Benchmark the Spark engine against the DuckDB engine on one machine (issue #13).

    python benchmarks/spark_bench.py                       # 1M messages, Parquet
    python benchmarks/spark_bench.py --messages 100000 --shards 1,4

On `run_bench.py`'s generated drop it times, each in a fresh `reconcile run` process:
the DuckDB engine; then `--engine spark --spark-master local[N]` with Spark's default number
of shards and with each of `--shards`. Every Spark run's outputs are checked to be the
DuckDB run's, byte for byte. Besides wall time it prints the peak memory (RSS, sampled
every 0.2 s from /proc) of the driver (the reconcile process: the Python side), of the
JVM (in local mode the driver's JVM and the executor are one process), and of the largest
single Python worker, where one DuckDB task stages a slice or decides one shard: the
memory one executor core needs on a cluster.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_bench import AS_OF, generate

# The outputs both engines must write the same.
OUTPUTS = ("findings.csv", "send.csv", "hold.csv", "block.csv", "rejected.csv",
           "input_issues.csv")


@dataclass
class Peaks:
    """Largest RSS (MiB) seen per kind of process of one run."""

    driver: float = 0.0
    jvm: float = 0.0
    worker: float = 0.0


def _rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                found += [int(child) for child in handle.read().split()]
    except OSError:
        pass
    return found


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _sample(root: int, peaks: Peaks, done: threading.Event) -> None:
    while not done.is_set():
        peaks.driver = max(peaks.driver, _rss_mib(root))
        todo = _children(root)
        while todo:
            pid = todo.pop()
            todo += _children(pid)
            command = _command(pid)  # read each time: a launcher script execs the JVM
            if "java" in command.split(" ")[0]:
                peaks.jvm = max(peaks.jvm, _rss_mib(pid))
            elif "python" in command:
                peaks.worker = max(peaks.worker, _rss_mib(pid))
        done.wait(0.2)


def run_once(data_dir: Path, out_dir: Path, *extra: str) -> tuple[float, Peaks]:
    """(wall seconds, peak RSS) of one `reconcile run` in a fresh process."""
    command = [sys.executable, "-m", "reconcile", "run", str(data_dir), "--out", str(out_dir),
               "--as-of", AS_OF, "--quiet", *extra]
    environment = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    started = time.perf_counter()
    process = subprocess.Popen(command, env=environment, stderr=subprocess.PIPE, text=True)
    peaks, done = Peaks(), threading.Event()
    sampler = threading.Thread(target=_sample, args=(process.pid, peaks, done), daemon=True)
    sampler.start()
    _, errors = process.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"reconcile exited {process.returncode}: {errors[-2000:]}")
    return wall, peaks


def same_outputs(expected: Path, found: Path) -> bool:
    return all((expected / name).read_bytes() == (found / name).read_bytes()
               for name in OUTPUTS)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--shards", default="1,2,4,8",
                        help="comma-separated shard counts to time (default 1,2,4,8)")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where to write the drop and outputs (default: a temp folder)")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="reconcile-spark-bench-"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}, {args.messages:,} messages (Parquet), "
          f"Spark {args.master}")
    print(f"{'engine':<26} {'wall s':>8} {'x duckdb':>9} {'driver MiB':>11} "
          f"{'JVM MiB':>9} {'worker MiB':>11} {'same':>5}")
    try:
        data_dir = workdir / f"drop-{args.messages}"
        if not (data_dir / "send_batch.parquet").exists():
            generate(data_dir, args.messages, "parquet")
        reference = workdir / "out-duckdb"
        base, peaks = run_once(data_dir, reference)
        print(f"{'duckdb':<26} {base:>8.1f} {1:>8.1f}x {peaks.driver:>11,.0f} "
              f"{'-':>9} {'-':>11} {'-':>5}", flush=True)
        configurations = [("default", ())] + [
            (f"{n} shards", ("--shards", str(n))) for n in args.shards.split(",")]
        for label, shards in configurations:
            out_dir = workdir / f"out-spark-{label.replace(' ', '-')}"
            wall, peaks = run_once(data_dir, out_dir, "--engine", "spark",
                                   "--spark-master", args.master, *shards)
            same = "yes" if same_outputs(reference, out_dir) else "NO"
            print(f"{'spark ' + label:<26} {wall:>8.1f} {wall / base:>8.1f}x "
                  f"{peaks.driver:>11,.0f} {peaks.jvm:>9,.0f} {peaks.worker:>11,.0f} "
                  f"{same:>5}", flush=True)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
