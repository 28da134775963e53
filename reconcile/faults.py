"""Whose fault a DuckDB error is: the drop's (exit 2) or the machine's (exit 1).

DuckDB 2.0 raises one exception class per kind of failure. A CSV or Parquet file it
cannot parse gives InvalidInputException (a corrupt Parquet data page sometimes a plain
duckdb.Error such as "Out of buffer", naming no file); memory_limit reached gives
OutOfMemoryException; a spill folder (temp_directory) it cannot create or write, or a
full disk, gives IOException. Only the first is bad input. Parquet inputs are views, read
again by the staging, the checks and the writer, so their errors surface there, not when
they are loaded: `from_duckdb` is called wherever a statement may read an input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import duckdb

from reconcile.errors import InputError, ReconcileError, UnexpectedError, one_line

# The classes that are the machine's fault whatever statement raised them.
MACHINE_FAULTS: tuple[type[duckdb.Error], ...] = (
    duckdb.OutOfMemoryException,
    duckdb.IOException,
    duckdb.PermissionException,
    duckdb.InternalError,
    duckdb.FatalException,
)
# engine.Stopwatch's stages, each with what a run does until it ends.
RUN_STEPS: tuple[tuple[str, str], ...] = (
    ("inputs", "loading the inputs"),
    ("checks", "running the checks"),
    ("outputs", "writing the outputs"),
    ("history", "recording the history"),
)
_KIND_PREFIX = re.compile(r"^[A-Z][A-Za-z ]* Error: ")


def run_step(finished: Iterable[str]) -> str:
    """What a run was doing when it failed, from the stages it had finished."""
    done = set(finished)
    return next((doing for stage, doing in RUN_STEPS if stage not in done), "finishing the run")


def from_duckdb(
    error: duckdb.Error,
    doing: str,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    inputs: Iterable[Path | None] = (),
    bad_input: str | None = None,
) -> ReconcileError:
    """The one-line ReconcileError that `error`, raised while `doing`, stands for.

    A machine fault (MACHINE_FAULTS) is exit 1, saying what failed (con gives the
    memory_limit and temp_directory in force). Any other error is bad input (exit 2):
    `bad_input` when given (the statement read one file, e.g. a CSV load); else the input
    file it names; else, for an error naming none that a file's contents can raise, the
    Parquet input that fails when read again in full. Any other error stays exit 1, as
    unexpected.
    """
    files = [Path(p) for p in inputs if p is not None]
    named = next((p for p in files if str(p) in str(error)), None)
    if isinstance(error, MACHINE_FAULTS):
        if named is not None and isinstance(error, duckdb.IOException):
            return InputError(f"{named.name}: cannot be read ({_detail(error, named)})")
        return ReconcileError(_machine_fault(error, doing, con))
    if bad_input is not None:
        return InputError(bad_input)
    if named is not None:
        return InputError(_unreadable(named, error))
    found = _unreadable_parquet(files) if _may_be_data(error) else None
    if found is not None:
        return InputError(_unreadable(*found))
    return UnexpectedError(
        f"unexpected {type(error).__name__} while {doing}: {one_line(error)}")


def _may_be_data(error: duckdb.Error) -> bool:
    """Whether a file's contents can raise error: not a binder, catalog or parser error
    (a fault of reconcile's SQL), which reading every Parquet input again cannot explain."""
    return type(error) in (duckdb.Error, duckdb.DatabaseError) or isinstance(
        error, duckdb.InvalidInputException | duckdb.DataError)


def _machine_fault(error: duckdb.Error, doing: str,
                   con: duckdb.DuckDBPyConnection | None) -> str:
    detail = one_line(error)
    if isinstance(error, duckdb.OutOfMemoryException):
        limit = _setting(con, "memory_limit")
        shown = f" (memory_limit {limit})" if limit else ""
        return f"out of memory while {doing}{shown}: {detail}"
    if "No space left on device" in str(error):
        return f"disk full while {doing}: {detail}"
    spill = _setting(con, "temp_directory")
    if spill and spill in str(error):
        return f"cannot write the spill folder {spill} (temp_directory) while {doing}: {detail}"
    if isinstance(error, duckdb.PermissionException):
        return f"permission denied while {doing}: {detail}"
    if isinstance(error, duckdb.IOException):
        return f"I/O error while {doing}: {detail}"
    return f"DuckDB internal error while {doing}: {detail}"


def _unreadable(path: Path, error: duckdb.Error) -> str:
    kind = "Parquet" if path.name.endswith(".parquet") else "CSV"
    return f"{path.name}: not a readable {kind} file ({_detail(error, path)})"


def _unreadable_parquet(files: list[Path]) -> tuple[Path, duckdb.Error] | None:
    """The first Parquet input whose every column does not decode, with its error.

    Read on a connection of its own: the failed run's may be in an aborted transaction.
    """
    parquet = [p for p in files if p.name.endswith(".parquet")]
    if not parquet:
        return None
    try:
        probe = duckdb.connect()
    except duckdb.Error:
        return None
    try:
        probe.execute("SET enable_progress_bar = false")
        for path in parquet:
            try:
                probe.execute("SELECT count(hash(COLUMNS(*))) FROM read_parquet(?)",
                              [str(path)]).fetchall()
            except MACHINE_FAULTS:
                return None
            except duckdb.Error as error:
                return path, error
    finally:
        probe.close()
    return None


def _setting(con: duckdb.DuckDBPyConnection | None, name: str) -> str:
    if con is None:
        return ""
    try:
        row = con.execute("SELECT current_setting(?)", [name]).fetchone()
    except duckdb.Error:
        return ""
    return str(row[0]) if row and row[0] is not None else ""


def _detail(error: duckdb.Error, path: Path) -> str:
    """The error's first line without its kind, naming the file by its name only."""
    line = _KIND_PREFIX.sub("", one_line(error))
    line = line.replace(f'Failed to read file "{path}": ', "")
    return line.replace(str(path), path.name)
