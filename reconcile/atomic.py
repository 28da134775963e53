"""Publishing a file or a folder so that no reader ever sees half of it.

What reconcile publishes (a report, a history file, the history catalog, a generated drop)
is first written in full under a temporary name in the same folder or file system, then
renamed over its final name in one step: a reader, or a crash, finds the old content or the
new one, never a mix of the two and never nothing.

    publish(written, target)   rename a complete file over target (os.replace)
    replacing(target)          a temporary sibling to write; published when the block ends
    write_text(target, text)   a text file, written through `replacing`
    replace_folder(new, old)   a complete folder put in the place of another in one step

The run's output folder has its own swap, with owner files and healing after a kill
(reconcile.nightly.out_dir); it is not this module's.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

# renameat2(2) (Linux 3.15, glibc 2.28): the flag that swaps two existing paths, and the
# "relative to the current folder" descriptor its paths are read against.
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def fsync_path(path: Path) -> None:
    """Flush a file or folder to disk, so a rename never publishes what a crash can lose."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def publish(written: Path, target: Path, *, durable: bool = False) -> None:
    """Rename the complete file `written` over `target` in one step (os.replace).

    written must be on target's file system. durable: flush written before the rename and
    target's folder after it, so a crash can lose neither the content nor the rename.
    """
    if durable:
        fsync_path(written)
    os.replace(written, target)
    if durable:
        fsync_path(target.parent)


def temporary_sibling(target: Path) -> Path:
    """A name beside target that no other writer uses: `.<name>.<random>.partial`."""
    return target.with_name(f".{target.name}.{secrets.token_hex(6)}.partial")


@contextlib.contextmanager
def replacing(target: Path, *, durable: bool = False) -> Iterator[Path]:
    """A temporary sibling of target for the block to write; when the block ends without an
    error it is published over target (`publish`), otherwise it is removed."""
    temporary = temporary_sibling(target)
    try:
        yield temporary
        publish(temporary, target, durable=durable)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(target: Path, text: str, *, mode: int = 0o644) -> None:
    """Write text (UTF-8) to target whole or not at all, readable as `mode` says."""
    with replacing(target) as temporary:
        with temporary.open("x", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, mode)


def replace_folder(new: Path, target: Path) -> None:
    """Put the complete folder `new` in target's place in one step; what target held is
    then removed. new and target must be on the same file system.

    An absent or empty target is replaced by os.replace. A folder that holds files cannot
    be (rename(2) refuses, ENOTEMPTY), so the two are exchanged (renameat2 with
    RENAME_EXCHANGE) and the old content, now under new's name, is removed. Where the
    kernel or the file system cannot exchange, the old folder is first renamed aside and
    put back if the second rename fails: it is still never removed before the new one is in
    place, but a reader may find no folder between the two renames.
    """
    if not os.path.lexists(target) or (target.is_dir() and not any(target.iterdir())):
        os.replace(new, target)
        return
    if exchange(new, target):
        shutil.rmtree(new)
        return
    aside = temporary_sibling(target)
    os.replace(target, aside)
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(aside, target)
        raise
    shutil.rmtree(aside)


def exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths in one step; False where the system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False  # not Linux, or a C library without renameat2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second),
                 _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False  # a file system or kernel without RENAME_EXCHANGE
    raise OSError(code, os.strerror(code), str(first), None, str(second))
