"""reconcile.atomic: a published file or folder is the old one or the new one, whole; never
half of one, never nothing, and no temporary is left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile import atomic


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_write_text_replaces_a_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    atomic.write_text(target, "first\n")
    atomic.write_text(target, "张三 second\n")
    assert target.read_text(encoding="utf-8") == "张三 second\n"
    assert target.stat().st_mode & 0o777 == 0o644
    assert names(tmp_path) == ["report.txt"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic.replacing(target) as temporary:
        temporary.write_text("half", encoding="utf-8")
        assert target.read_text(encoding="utf-8") == "old\n"  # not yet published
        raise RuntimeError("killed while writing")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert names(tmp_path) == ["report.txt"]


def test_replacing_writes_a_sibling_then_publishes_it(tmp_path: Path) -> None:
    target = tmp_path / "catalog.duckdb"
    with atomic.replacing(target, durable=True) as temporary:
        assert temporary.parent == tmp_path and temporary.name.startswith(".catalog.duckdb.")
        temporary.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert names(tmp_path) == ["catalog.duckdb"]


def test_publish_renames_a_written_file_over_its_target(tmp_path: Path) -> None:
    (tmp_path / "aside").mkdir()
    written = tmp_path / "aside" / "runs.parquet"
    written.write_bytes(b"rows")
    target = tmp_path / "runs.parquet"
    target.write_bytes(b"old rows")
    atomic.publish(written, target, durable=True)
    assert target.read_bytes() == b"rows" and not written.exists()


def folder(path: Path, files: dict[str, str]) -> Path:
    path.mkdir()
    for name, text in files.items():
        (path / name).write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("before", ["absent", "empty", "full"])
def test_replace_folder_puts_the_new_folder_in_place(tmp_path: Path, before: str) -> None:
    target = tmp_path / "drop"
    if before != "absent":
        folder(target, {"old.csv": "old"} if before == "full" else {})
    new = folder(tmp_path / ".drop.partial", {"send_batch.csv": "new"})
    atomic.replace_folder(new, target)
    assert names(target) == ["send_batch.csv"]
    assert names(tmp_path) == ["drop"]


@pytest.mark.parametrize("can_exchange", [True, False])
def test_the_old_folder_is_removed_only_once_the_new_one_is_in_place(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, can_exchange: bool) -> None:
    target = folder(tmp_path / "drop", {"old.csv": "old"})
    new = folder(tmp_path / ".drop.partial", {"send_batch.csv": "new"})
    if not can_exchange:  # a kernel or file system without RENAME_EXCHANGE
        monkeypatch.setattr(atomic, "exchange", lambda first, second: False)
    removed: list[list[str]] = []
    remove = atomic.shutil.rmtree

    def watched_remove(path: Path) -> None:
        assert names(target) == ["send_batch.csv"], "the old drop removed before the new one"
        removed.append(names(path))
        remove(path)

    monkeypatch.setattr(atomic.shutil, "rmtree", watched_remove)
    atomic.replace_folder(new, target)
    assert removed == [["old.csv"]]
    assert names(target) == ["send_batch.csv"]
    assert names(tmp_path) == ["drop"]
