"""The output folder, owned by one run at a time: locked, healed, checked, replaced whole.

A run claims OUT_DIR before anything else: it takes `.<out name>.lock` beside it (an flock,
reconcile.locks: a second run into the same folder exits 75), heals what this folder's
earlier killed runs left, and checks the folder may be replaced. Its outputs are written
into a working folder beside OUT_DIR and swapped with it in one step (renameat2's exchange,
reconcile.atomic; where the system cannot, the old output is parked and then the new one
renamed in), so a reader or a crash at any point finds OUT_DIR as it was, the previous
run's complete output, or the new one.

What a run removes is only ever what a reconcile run provably wrote:

- OUT_DIR is replaced only if it is absent, empty, or a reconcile output: it holds a
  manifest (`reconcile-manifest.json`, written last) and exactly the files the manifest
  names, with those sizes; or, for outputs written before manifests, a summary.json naming
  its run and version and nothing but the output files of that time.
- A working folder is named `.<out name>.<run id>.(partial|previous|spill)` and holds an
  owner file naming its run from the moment it exists. A leftover is removed (or a parked
  output put back) only while holding the lock, which no live run of this folder can be
  without, and only if its name and owner file match; anything else is left alone.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconcile import atomic, locks
from reconcile.errors import ConfigError
from reconcile.version import __version__

MANIFEST_FILE = "reconcile-manifest.json"
# In every working folder, naming the run that made it (reconcile.nightly.out_dir only).
OWNER_FILE = ".reconcile-owner.json"
WRITTEN_BY = "reconcile"
# What reconcile wrote into OUT_DIR before manifests existed (a fixed list: never extend it).
LEGACY_OUTPUT_FILES = frozenset({
    "findings.csv", "findings.parquet", "send.csv", "hold.csv", "block.csv", "rejected.csv",
    "input_issues.csv", "summary.json",
})
# engine.new_run_id: UTC start time and 6 hex digits, e.g. 20261123T020000Z-3f9a1c.
RUN_ID_SHAPE = r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}"
WORKING_KINDS = ("partial", "previous", "spill")
# The output inside a `.partial` (being written) or a `.previous` (parked while replaced):
# renamed as a whole, so the owner file never travels into OUT_DIR.
OUTPUT_INSIDE = "output"
# How many file names an error lists before "and N more".
_SHOWN_NAMES = 5


class OutputClaim:
    """One run's hold on OUT_DIR, from `claim`: its working folders beside OUT_DIR."""

    def __init__(self, out_dir: Path, run_id: str) -> None:
        self.out_dir = out_dir
        self.run_id = run_id
        self._working: list[Path] = []

    def working_folder(self, kind: str) -> Path:
        """A new `.<out name>.<run id>.<kind>` beside OUT_DIR, with its owner file."""
        folder = working_folder_path(self.out_dir, self.run_id, kind)
        folder.mkdir()
        self._working.append(folder)
        _write_owner(folder, self.run_id, self.out_dir)
        return folder

    def spill_folder(self) -> Path:
        """Where DuckDB spills past memory_limit; removed when the claim ends."""
        return self.working_folder("spill")

    @contextmanager
    def staged(self) -> Iterator[Path]:
        """An empty folder for the outputs; when the block ends without an error its files
        get a manifest and replace OUT_DIR as a whole, otherwise they vanish."""
        partial = self.working_folder("partial")
        folder = partial / OUTPUT_INSIDE
        folder.mkdir()
        try:
            yield folder
            write_manifest(folder, self.run_id)
            self._publish(folder)
        finally:
            _remove_owned(partial)

    def _publish(self, folder: Path) -> None:
        out = self.out_dir
        check_replaceable(out)  # again: a file may have been put into OUT_DIR meanwhile
        if os.path.lexists(out) and atomic.exchange(folder, out):
            # One step: a reader finds the old output or the new, never none. The old one
            # is now `folder`, inside this run's owned working folder, removed with it.
            return
        previous = None
        if os.path.lexists(out):
            # Parked inside an owned folder: a run killed before the next rename leaves it
            # there, and the next run puts it back (heal).
            previous = self.working_folder("previous")
            out.rename(previous / OUTPUT_INSIDE)
        try:
            folder.rename(out)
        except BaseException:
            if previous is not None:
                (previous / OUTPUT_INSIDE).rename(out)
            raise
        if previous is not None:
            _remove_owned(previous)

    def release(self) -> None:
        """Remove what is left of this run's working folders (a parked output that could
        not be put back stays, for the next run to restore)."""
        for folder in reversed(self._working):
            if folder.name.endswith(".previous") and (folder / OUTPUT_INSIDE).exists():
                continue
            _remove_owned(folder)


@contextmanager
def claim(out_dir: Path, run_id: str, wait_seconds: float = 0) -> Iterator[OutputClaim]:
    """Own out_dir for the block: lock it (locks.Locked, exit 75, if another run holds it
    past wait_seconds), heal its killed runs' leftovers, check it may be replaced
    (ConfigError, exit 2, if not). Its working folders are removed when the block ends."""
    out = resolved(out_dir)
    lock_path = out.parent / f".{out.name}.lock"
    with locks.exclusive(lock_path, run_id, f"output folder {out}", wait_seconds):
        heal(out)
        check_replaceable(out)
        held = OutputClaim(out, run_id)
        try:
            yield held
        finally:
            held.release()


def resolved(out_dir: Path) -> Path:
    """out_dir as an absolute path without symlinks, its parent folder created."""
    out = Path(out_dir).resolve()
    if not out.name:
        raise ConfigError(f"{out} cannot be an output folder", parameter="out_dir")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"cannot create the folder {out.parent}: {error.strerror or error}",
                          parameter="out_dir") from error
    return out


def working_folder_path(out: Path, run_id: str, kind: str) -> Path:
    return out.parent / f".{out.name}.{run_id}.{kind}"


def heal(out: Path) -> None:
    """Remove what this folder's killed runs left beside it; put back an output parked in a
    `.previous` when OUT_DIR is missing (killed between its two renames).

    Call only while holding OUT_DIR's lock: then no run of this folder is alive, so a
    working folder whose name and owner file name one of its runs is a dead run's. Anything
    else beside OUT_DIR (another folder's working folders, a lookalike without an owner
    file) is left alone.
    """
    leftover_name = re.compile(
        rf"\.{re.escape(out.name)}\.({RUN_ID_SHAPE})\.({'|'.join(WORKING_KINDS)})")
    try:
        neighbours = sorted(out.parent.iterdir())
    except OSError:
        return
    for leftover in neighbours:
        match = leftover_name.fullmatch(leftover.name)
        if (match is None or leftover.is_symlink() or not leftover.is_dir()
                or not _owned_by(leftover, match.group(1))):
            continue
        parked = leftover / OUTPUT_INSIDE
        if (match.group(2) == "previous" and not os.path.lexists(out)
                and parked.is_dir() and not parked.is_symlink()):
            parked.rename(out)
        _remove_owned(leftover)


def check_replaceable(out: Path) -> None:
    """Refuse (ConfigError) to replace anything but nothing, an empty folder, or an
    unchanged reconcile output."""
    if not os.path.lexists(out):
        return
    if out.is_symlink() or not out.is_dir():
        raise ConfigError(f"{out} exists and is not a folder", parameter="out_dir")
    entries = {child.name: child for child in out.iterdir()}
    if not entries:
        return
    if MANIFEST_FILE in entries:
        _check_manifest(out, entries)
    else:
        _check_legacy(out, entries)


def write_manifest(folder: Path, run_id: str) -> None:
    """Name the run and every file in folder with its size: written last, so a folder with
    a manifest holds a complete output."""
    files = {child.name: child.stat().st_size for child in sorted(folder.iterdir())
             if child.name != MANIFEST_FILE}
    manifest = {"written_by": WRITTEN_BY, "run_id": run_id, "reconcile_version": __version__,
                "files": files}
    text = json.dumps(manifest, indent=2, ensure_ascii=False)
    (folder / MANIFEST_FILE).write_text(text + "\n", encoding="utf-8")


def _check_manifest(out: Path, entries: dict[str, Path]) -> None:
    manifest = _read_manifest(out / MANIFEST_FILE)
    if manifest is None:
        raise ConfigError(
            f"{out} is not empty and its {MANIFEST_FILE} is not one reconcile wrote; "
            "nothing in it was changed: choose an empty or new folder", parameter="out_dir")
    run_id, files = manifest
    added = [name for name in entries if name != MANIFEST_FILE and name not in files]
    removed = [name for name in files if name not in entries]
    changed = [name for name, size in files.items()
               if name in entries and not _is_file_of_size(entries[name], size)]
    if added or removed or changed:
        found = "; ".join(f"{what} {_names(names)}" for what, names in (
            ("added", added), ("removed", removed), ("changed", changed)) if names)
        raise ConfigError(
            f"{out} holds the output of reconcile run {run_id}, but files in it changed since "
            f"(found {found}); nothing in it was changed: move those files out or choose "
            "another folder", parameter="out_dir")


def _read_manifest(path: Path) -> tuple[str, dict[str, int]] | None:
    """(run id, {file name: size}) of a manifest reconcile wrote; None if it is not one."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("written_by") != WRITTEN_BY:
        return None
    run_id, files = data.get("run_id"), data.get("files")
    if not isinstance(run_id, str) or not isinstance(files, dict):
        return None
    for name, size in files.items():
        if (name in ("", ".", "..", MANIFEST_FILE) or "/" in name or "\\" in name
                or type(size) is not int or size < 0):
            return None
    return run_id, files


def _check_legacy(out: Path, entries: dict[str, Path]) -> None:
    """An output written before manifests: summary.json names its run and version, and the
    folder holds output files of that time only."""
    run_id = _legacy_run_id(entries.get("summary.json"))
    if run_id is None:
        raise ConfigError(
            f"{out} is not empty and is not a reconcile output (it has no {MANIFEST_FILE}); "
            "nothing in it was changed: choose an empty or new folder", parameter="out_dir")
    foreign = [name for name, path in entries.items()
               if name not in LEGACY_OUTPUT_FILES or path.is_symlink() or not path.is_file()]
    if foreign:
        raise ConfigError(
            f"{out} holds the output of reconcile run {run_id} and also {_names(foreign)}, "
            "which no reconcile run wrote; nothing in it was changed: move those files out "
            "or choose another folder", parameter="out_dir")


def _legacy_run_id(summary: Path | None) -> str | None:
    if summary is None or summary.is_symlink() or not summary.is_file():
        return None
    try:
        data: Any = json.loads(summary.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("reconcile_version"), str):
        return None
    run_id = data.get("run_id")
    return run_id if isinstance(run_id, str) and run_id else None


def _is_file_of_size(path: Path, size: int) -> bool:
    try:
        return not path.is_symlink() and path.is_file() and path.stat().st_size == size
    except OSError:
        return False


def _names(names: list[str]) -> str:
    ordered = sorted(names)
    shown = ", ".join(ordered[:_SHOWN_NAMES])
    more = len(ordered) - _SHOWN_NAMES
    return f"{shown} and {more} more" if more > 0 else shown


def _write_owner(folder: Path, run_id: str, out: Path) -> None:
    """The owner file, in one write to a file that cannot already exist."""
    owner = {"written_by": WRITTEN_BY, "run_id": run_id, "out_dir": str(out),
             "pid": os.getpid(), "host": socket.gethostname(),
             "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    data = (json.dumps(owner, ensure_ascii=False) + "\n").encode("utf-8")
    handle = os.open(folder / OWNER_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(handle, data)
    finally:
        os.close(handle)


def _owned_by(folder: Path, run_id: str) -> bool:
    """folder's owner file names run_id; or folder holds nothing (its run was killed before
    the owner file was written), so that removing it cannot lose anything."""
    try:
        entries = [child.name for child in folder.iterdir()]
        owner = folder / OWNER_FILE
        if OWNER_FILE not in entries or owner.is_symlink() or not owner.is_file():
            return not entries
        text = owner.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return False
    if not text and entries == [OWNER_FILE]:
        return True
    try:
        data: Any = json.loads(text)
    except ValueError:
        return False
    return (isinstance(data, dict) and data.get("written_by") == WRITTEN_BY
            and data.get("run_id") == run_id)


def _remove_owned(folder: Path) -> None:
    """Remove a working folder, its owner file last: a folder that could not be emptied
    keeps its owner, so a later run can still recognise and remove it."""
    try:
        for child in folder.iterdir():
            if child.name == OWNER_FILE:
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
        if any(child.name != OWNER_FILE for child in folder.iterdir()):
            return
        (folder / OWNER_FILE).unlink(missing_ok=True)
        folder.rmdir()
    except OSError:
        return
