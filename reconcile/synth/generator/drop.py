"""`generate()`: a drop written chunk by chunk into a staging folder beside out_dir, then
put in its place whole, in one step (reconcile.atomic.replace_folder); `GenerateResult`,
which is also drop.json.

Rows are generated and written chunk by chunk (`chunk_loans` loans at a time), so memory
is bounded by the chunk, whatever the number of messages. Every id is unique across the
drop, and rows whose duplicates matter (a repeated message_id, payment_id or loans row) are
repeated inside one case, so each chunk can be labelled on its own and the output does not
depend on the chunk size.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from reconcile.atomic import replace_folder
from reconcile.errors import ConfigError
from reconcile.schema import TABLES
from reconcile.synth.generator.labels import LABELLED_FLAGS, Labeller, labels_config
from reconcile.synth.generator.layout import (
    CASE_TABLES,
    CONFIG_FILE,
    DROP_FILE,
    LABELS_FILE,
    TABLE_NAMES,
    TIMEZONE,
    Tables,
)
from reconcile.synth.generator.lender import fixed_tables
from reconcile.synth.generator.rates import Rates, check_rates
from reconcile.synth.generator.scenarios import CaseStream
from reconcile.synth.generator.tables import CsvTables, ParquetTables, parquet_types
from reconcile.synth.options import (
    DEFAULT_AS_OF,
    DEFAULT_CHUNK_LOANS,
    FILE_FORMATS,
    TIMESTAMP_STYLES,
)
from reconcile.version import __version__

# --as-of: ISO 8601 to the minute or finer, with an offset or Z, or naive (local time in
# TIMEZONE); surrounding white space (docs/inputs.md's) is ignored.
AS_OF_SHAPE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?"
    r"(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
AS_OF_WHITESPACE = " \t\n\v\f\r\u00a0\u3000\ufeff"


@dataclass(frozen=True)
class GenerateResult:
    """What generate() wrote: the options that reproduce it, row counts, label counts."""

    out_dir: str
    seed: int
    messages: int
    file_format: str
    timestamp_style: str
    as_of: str
    rates: Rates
    rows: dict[str, int]
    labels: bool
    verdicts: dict[str, int]
    flags: dict[str, int]
    seconds: float = 0.0

    @property
    def messages_per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def run_command(self, out: str | None = None) -> str:
        """The `reconcile run` that the labels are for."""
        target = out or f"{self.out_dir.rstrip('/')}-out"
        config = f"{self.out_dir.rstrip('/')}/{CONFIG_FILE}"
        return (f"reconcile run {self.out_dir} --out {target} --as-of {self.as_of} "
                f"--config {config}")

    def drop_description(self) -> dict[str, Any]:
        """drop.json: what reproduces the drop and how to run it (no path, no timing, so the
        file is as reproducible as the rest)."""
        return {
            "generator": f"reconcile {__version__} generate",
            "seed": self.seed,
            "messages": self.messages,
            "format": self.file_format,
            "timestamp_style": self.timestamp_style,
            "timezone": TIMEZONE,
            "as_of": self.as_of,
            "rates": self.rates.to_dict(),
            "rows": self.rows,
            "labels": {
                "file": LABELS_FILE,
                "settings": "contract defaults, profile cn",
                "verdicts": self.verdicts,
                "flags": self.flags,
            } if self.labels else None,
            "run": f"reconcile run DROP_DIR --out OUT_DIR --as-of {self.as_of} "
                   f"--config DROP_DIR/{CONFIG_FILE}",
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": self.out_dir,
            **self.drop_description(),
            "seconds": round(self.seconds, 3),
            "messages_per_second": round(self.messages_per_second),
        }


def generate(
    out_dir: str | Path,
    messages: int,
    seed: int,
    file_format: str = "csv",
    rates: Rates | None = None,
    timestamp_style: str = "offset",
    as_of: str | None = None,
    chunk_loans: int = DEFAULT_CHUNK_LOANS,
    labels: bool = True,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> GenerateResult:
    """Write a drop of `messages` messages into out_dir (replaced whole; it must be absent,
    empty or an earlier generated drop), with labels.csv and drop.json.

    progress is told the number of messages finished after each chunk. workers: processes
    that label chunks while the next one is generated (None: one per spare core, up to 4,
    when there is more than one chunk; 0: label inline). The output never depends on it.
    """
    started = time.perf_counter()
    rates = check_rates(rates or Rates())
    if messages < 1:
        raise ConfigError("must be at least 1 (a send_batch needs a row)",
                          parameter="messages")
    if chunk_loans < 1:
        raise ConfigError("must be at least 1", parameter="chunk_loans")
    if file_format not in FILE_FORMATS:
        raise ConfigError(f"{file_format!r} is not one of {', '.join(FILE_FORMATS)}",
                          parameter="file_format")
    if timestamp_style not in TIMESTAMP_STYLES:
        raise ConfigError(f"{timestamp_style!r} is not one of "
                          + ", ".join(TIMESTAMP_STYLES), parameter="timestamp_style")
    as_of_text = as_of or DEFAULT_AS_OF
    instant = parse_as_of(as_of_text)
    if instant is None:
        raise ConfigError(f"{as_of_text!r} is not a timestamp "
                          "(ISO 8601, e.g. 2026-11-23T01:30:00+08:00)", parameter="as_of")
    out_dir = Path(out_dir)
    check_out_dir(out_dir)

    staging = out_dir.resolve().parent / f".{out_dir.name}.generate-{os.getpid()}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        cases = CaseStream(seed, instant, timestamp_style, rates)
        writer = (ParquetTables(staging, labels, parquet_types(timestamp_style, rates))
                  if file_format == "parquet" else
                  CsvTables(staging, [*TABLE_NAMES, "labels"] if labels else TABLE_NAMES))
        if workers is None:  # worth a process only when there is a next chunk to overlap
            workers = min(max(1, (os.cpu_count() or 1) - 1), 4) if messages > chunk_loans else 0
        labeller = Labeller(instant, workers) if labels else None
        try:
            outcome = write_chunks(cases, writer, messages, chunk_loans, labeller, progress)
            writer.close()
            writer.finish()
            leave_out_empty_optional_tables(staging, writer.rows)
        finally:
            writer.close()
            writer.release()
            if labeller is not None:
                labeller.close()
        result = GenerateResult(
            out_dir=str(out_dir),
            seed=seed,
            messages=messages,
            file_format=file_format,
            timestamp_style=timestamp_style,
            as_of=instant.astimezone(ZoneInfo(TIMEZONE)).isoformat(),
            rates=rates,
            rows={name: writer.rows[name] for name in TABLE_NAMES},
            labels=labels,
            verdicts=outcome[0],
            flags=outcome[1],
        )
        (staging / DROP_FILE).write_text(
            json.dumps(result.drop_description(), ensure_ascii=False, indent=2) + "\n",
            encoding="utf-8")
        (staging / CONFIG_FILE).write_text(labels_config(), encoding="utf-8")
        replace_folder(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return replace(result, seconds=time.perf_counter() - started)


def leave_out_empty_optional_tables(folder: Path, rows: Counter[str]) -> None:
    """An optional table the drop has no row for is not written at all: a lender with no
    pauses tonight sends no collection_pauses file, while an empty file is an export that
    failed (INCOMPLETE_FEED holds the night)."""
    for table in TABLES:
        if not table.required and rows[table.name] == 0:
            for suffix in (".csv", ".parquet"):
                (folder / f"{table.name}{suffix}").unlink(missing_ok=True)


def parse_as_of(text: str) -> datetime | None:
    """The instant --as-of names; None when it is no timestamp, or a naive wall time that a
    clock change in TIMEZONE skipped or repeated."""
    match = AS_OF_SHAPE.fullmatch(text.strip(AS_OF_WHITESPACE))
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        naive = datetime(int(year), int(month), int(day), int(hour), int(minute),
                         int(second or 0), int((fraction or "").ljust(6, "0")))
    except ValueError:  # not a real calendar instant
        return None
    if offset is None:
        zone = ZoneInfo(TIMEZONE)
        earlier, later = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
        return earlier if earlier.utcoffset() == later.utcoffset() else None
    if offset == "Z":
        return naive.replace(tzinfo=UTC)
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        return None
    sign = -1 if offset[0] == "-" else 1
    return naive.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))


def check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / DROP_FILE).is_file():
        raise ConfigError(f"{out_dir}: folder is not empty and holds no generated drop")


def write_chunks(cases: CaseStream, writer: CsvTables, messages: int, chunk_loans: int,
                 labeller: Labeller | None, progress: Callable[[int], None] | None
                 ) -> tuple[dict[str, int], dict[str, int]]:
    """Writes the fixed tables, then `messages` messages' cases chunk by chunk, and their
    labels if there is a labeller; returns the label counts (verdicts, flags)."""
    fixed = fixed_tables()
    for name, rows in fixed.items():
        writer.write(name, rows)
    verdicts = Counter[str]()
    flags = Counter[str]()
    source_row = 0

    def write_labels(wait_all: bool = False) -> None:
        nonlocal source_row
        if labeller is None:
            return
        for rows, count in labeller.done(wait_all):
            numbered = []
            for message_id, verdict, flag_text, amount, days in rows:
                source_row += 1
                verdicts[verdict] += 1
                flags.update(flag_text.split(";") if flag_text else ())
                numbered.append((message_id, source_row, verdict, flag_text, amount, days))
            writer.write_rows("labels", numbered)
            if progress:
                progress(count)

    remaining = messages
    while remaining:
        chunk: Tables = {name: [] for name in CASE_TABLES}
        loans = 0
        while remaining and loans < chunk_loans:
            case = cases.next_case(remaining)
            for name, rows in case.tables.items():
                chunk[name] += rows
            remaining -= case.messages
            loans += case.loans
        for name, rows in chunk.items():
            writer.write(name, rows)
        writer.end_chunk()
        if labeller is None:
            if progress:
                progress(len(chunk["send_batch"]))
            continue
        labeller.submit({**chunk, **fixed}, len(chunk["send_batch"]))
        write_labels()
    if labeller is None:
        return {}, {}
    write_labels(wait_all=True)
    return ({v: verdicts[v] for v in ("send", "hold", "block", "rejected")},
            {flag: flags[flag] for flag in LABELLED_FLAGS})
