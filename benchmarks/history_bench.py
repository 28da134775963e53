"""Benchmark recording nights into the run history (`reconcile run --db`).

    python benchmarks/history_bench.py                         # 1M messages, 3 nights
    python benchmarks/history_bench.py --messages 100000 --nights 5
    python benchmarks/history_bench.py --source /path/to/other/checkout   # an A/B "before"

Generates one drop (benchmarks/run_bench.py's SQL generator), then reconciles it as of
`--nights` consecutive nights into one history, each a fresh `reconcile` process. Each night
is run twice, interleaved: once without a history and once with `--db`; the difference of
their wall times is what recording the night costs (opening the history, looking up the
fingerprint and the previous night, writing the run and its findings). Printed per night
with the history's size on disk; later nights show whether recording grows with the
history. `--source` runs another checkout's package (put first on PYTHONPATH) against the
same drop, so two versions are compared on identical input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_bench import generate  # a sibling script, not a package

FIRST_NIGHT = dt.datetime(2026, 11, 23, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def timed_run(data_dir: Path, out_dir: Path, as_of: dt.datetime, source: Path | None,
              history: Path | None) -> float:
    """Wall seconds of one `reconcile run` in a fresh process, recorded into history if given."""
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source)
    command = [sys.executable, "-m", "reconcile", "run", str(data_dir), "--out", str(out_dir),
               "--as-of", as_of.isoformat(), "--quiet"]
    if history is not None:
        command += ["--db", str(history)]
    started = time.perf_counter()
    # Not from this checkout's folder: `python -m` would put it first on sys.path.
    subprocess.run(command, check=True, env=env, cwd=out_dir.parent)
    return time.perf_counter() - started


def disk_bytes(history: Path) -> int:
    """The history's bytes: the file (or catalog) and any data folder beside it."""
    total = 0
    for path in history.parent.iterdir():
        if not path.name.startswith(history.name):
            continue
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        total += sum(f.stat().st_size for f in files)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--nights", type=int, default=3)
    parser.add_argument("--source", type=Path, default=None,
                        help="a checkout whose reconcile package to run (default: installed)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where to keep the drop (default: a temp folder)")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="reconcile-history-bench-"))
    data_dir = workdir / f"drop-{args.messages}-parquet"
    if not (data_dir / "send_batch.parquet").exists():
        generate(data_dir, args.messages, "parquet")
    runs = Path(tempfile.mkdtemp(prefix="runs-", dir=workdir))
    history = runs / "history.duckdb"
    print(f"{args.messages:,} messages, source {args.source or 'installed package'}")
    print(f"{'night':>5} {'run s':>8} {'with --db s':>12} {'recording s':>12} "
          f"{'history MiB':>12}")
    try:
        for night in range(args.nights):
            as_of = FIRST_NIGHT + dt.timedelta(days=night)
            plain = timed_run(data_dir, runs / f"plain-{night}", as_of, args.source, None)
            recorded = timed_run(data_dir, runs / f"out-{night}", as_of, args.source, history)
            print(f"{night + 1:>5} {plain:>8.1f} {recorded:>12.1f} {recorded - plain:>12.1f} "
                  f"{disk_bytes(history) / 2**20:>12.1f}", flush=True)
    finally:
        shutil.rmtree(runs, ignore_errors=True)
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
