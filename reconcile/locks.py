"""Exclusive locks a run holds for its whole life: one per output folder, one per history.

A lock is an `flock` on a small file that names its holder, so a refused run can say who
holds it. The kernel drops the lock when its holder dies (kill -9 included), so a lock can
never outlive a dead run and nothing ever needs to be "stale-cleaned". The lock file itself
is never deleted: removing it while another process waits on it would let two runs hold two
different files of the same name.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from reconcile.errors import EXIT_LOCKED, ReconcileError

# How often a waiting run tries the lock again.
_POLL_SECONDS = 0.2


class Locked(ReconcileError):
    """Another live run holds the lock (the output folder or the history)."""

    exit_code = EXIT_LOCKED


def holder_text(run_id: str) -> str:
    """How a lock file names its holder: the run, its process and machine."""
    return f"run {run_id} (pid {os.getpid()} on {socket.gethostname()})"


@contextmanager
def exclusive(lock_path: Path, run_id: str, what: str, wait_seconds: float = 0) -> Iterator[None]:
    """Hold `lock_path` until the block ends; `what` names the guarded thing in the error.

    With wait_seconds > 0 a held lock is tried again until that many seconds have passed;
    then (or at once with 0) Locked is raised, naming the holder.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a+", encoding="utf-8") as handle:
        _acquire(handle, lock_path, what, wait_seconds)
        handle.seek(0)
        handle.truncate()
        handle.write(holder_text(run_id) + "\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _acquire(handle: IO[str], lock_path: Path, what: str, wait_seconds: float) -> None:
    deadline = time.monotonic() + max(wait_seconds, 0)
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError as error:
            if time.monotonic() >= deadline:
                holder = _read_holder(lock_path)
                waited = f" (waited {wait_seconds:g} s)" if wait_seconds > 0 else ""
                raise Locked(f"{what} is in use by {holder}{waited}; "
                             "try again when it has finished") from error
            time.sleep(_POLL_SECONDS)


def _read_holder(lock_path: Path) -> str:
    try:
        return lock_path.read_text(encoding="utf-8").strip() or "an unknown process"
    except OSError:
        return "an unknown process"
